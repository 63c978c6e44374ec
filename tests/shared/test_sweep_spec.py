"""Sweep specs: the grid's expansion (product order, explicit points) and every way a grid
is refused before anything exists, each problem named by its field in the posted body."""

import itertools

import pytest
from lesde_contract.specs import ExperimentSpec, SweepRejected, SweepSpec, plan_sweep
from lesde_contract.specs.sweep import SWEEP_PATHS, describe_point
from pydantic import ValidationError

BASE = {"name": "base", "training": {"iterations": 100, "trials": 2, "probe_per_class": 2}, "dataset": {"train_per_class": 10}}
CAPS = {"max_points": 200, "max_trial_iterations": 100_000_000, "max_sweep_trial_iterations": 1_000_000_000}


def _plan(caps: dict | None = None, **grid):
    return plan_sweep(SweepSpec.model_validate({"name": "noise", "base": BASE, **grid}), **(caps or CAPS))


def _problems(caps: dict | None = None, **grid) -> list[tuple[str, str]]:
    with pytest.raises(SweepRejected) as caught:
        _plan(caps, **grid)
    return caught.value.problems


def test_axes_expand_to_their_product_first_axis_slowest():
    noise, seeds, classes = [0, 0.5, 2 / 3], [1, 2], [["triangle", "ellipse"], ["triangle", "rectangle", "ellipse"]]
    children = _plan(axes={"dataset.label_noise": noise, "training.seed": seeds, "dataset.classes": classes})
    expected = list(itertools.product(noise, seeds, classes))  # the naive nested loops
    assert [child.index for child in children] == list(range(len(expected)))
    got = [(c.spec.dataset.label_noise, c.spec.training.seed, c.spec.dataset.classes) for c in children]
    assert got == expected
    for child in children:  # every other field is the base's
        assert child.spec.training.iterations == 100 and child.spec.dataset.train_per_class == 10
        assert child.point == {
            "dataset.label_noise": child.spec.dataset.label_noise,
            "training.seed": child.spec.training.seed,
            "dataset.classes": child.spec.dataset.classes,
        }
    assert children[1].spec.name == 'noise [dataset.label_noise=0, training.seed=1, dataset.classes=["triangle", "rectangle", "ellipse"]]'


def test_points_keep_their_order_and_values():
    points = [{"dataset.label_noise": 0.3, "training.seed": 7}, {"dataset.label_noise": 0.1, "training.seed": 3}]
    children = _plan(points=points)
    assert [child.point for child in children] == points
    assert [(c.spec.dataset.label_noise, c.spec.training.seed) for c in children] == [(0.3, 7), (0.1, 3)]


def test_the_child_name_falls_back_to_the_base_name_and_is_bounded():
    spec = SweepSpec.model_validate({"base": BASE, "axes": {"model.name": ["mlp"]}})
    assert plan_sweep(spec, **CAPS)[0].spec.name == 'base [model.name="mlp"]'
    spec = SweepSpec.model_validate({"name": "x" * 200, "base": BASE, "axes": {"model.name": ["mlp"]}})
    assert len(plan_sweep(spec, **CAPS)[0].spec.name) == 200


def test_paths_are_the_experiment_specs_leaves_but_its_name():
    leaves = {
        f"{group}.{name}" for group in ("dataset", "model", "training") for name in type(getattr(ExperimentSpec(), group)).model_fields
    }
    assert set(SWEEP_PATHS) == leaves
    assert {
        "dataset.label_noise",
        "dataset.train_per_class",
        "dataset.classes",
        "training.seed",
        "training.learning_rate",
        "model.name",
    } <= leaves


@pytest.mark.parametrize("grid", [{}, {"axes": {"training.seed": [1]}, "points": [{"training.seed": 1}]}])
def test_exactly_one_of_axes_or_points(grid):
    with pytest.raises(ValidationError, match="exactly one of axes"):
        SweepSpec.model_validate({"base": BASE, **grid})


def test_unknown_paths_name_the_nearest_or_the_allowed():
    problems = dict(_problems(axes={"dataset.label_nois": [0.1], "flavour": [1], "dataset": [1], "name": ["x"]}))
    assert "did you mean dataset.label_noise?" in problems["axes.dataset.label_nois"]
    assert "allowed: dataset.name, dataset.id, dataset.classes" in problems["axes.flavour"]
    assert "dataset.label_noise" in problems["axes.dataset"]  # a group: its fields are listed
    assert "not a grid field" in problems["axes.name"]
    assert dict(_problems(points=[{"training.sed": 1}, {"training.sed": 2}])) == {
        "points[0].training.sed": "unknown field path 'training.sed'; did you mean training.seed?"
    }


def test_empty_axes_and_points_are_refused():
    assert _problems(axes={}) == [("axes", "give at least one axis: {dotted field path: [values]}")]
    assert _problems(axes={"training.seed": [1], "dataset.seed": []}) == [("axes.dataset.seed", "an axis needs at least one value")]
    assert _problems(points=[])[0][0] == "points"
    assert ("points[1]", "a point sets at least one field") in _problems(points=[{"training.seed": 1}, {}])


def test_repeats_are_refused_naming_both_indices():
    assert _problems(axes={"dataset.label_noise": [0.1, 0, 0.0]}) == [
        ("axes.dataset.label_noise", "values [1] and [2] are equal (0.0); each value once")
    ]
    problems = _problems(points=[{"training.seed": 1}, {"training.seed": 2}, {"training.seed": 1}])
    assert problems == [("points[2]", "same values as points[0] (training.seed=1); each point once")]


def test_points_must_set_the_same_fields():
    problems = _problems(points=[{"training.seed": 1}, {"training.seed": 2, "dataset.seed": 3}])
    assert problems[0][0] == "points[1]" and "every point must set the same fields" in problems[0][1]


def test_a_child_that_breaks_a_bound_names_the_point_and_the_childs_field():
    problems = _problems(points=[{"dataset.label_noise": 0.1}, {"dataset.label_noise": 0.2}, {"dataset.label_noise": 1.2}])
    assert problems == [
        ("points[2]", "the child with dataset.label_noise=1.2 is invalid: dataset.label_noise: Input should be less than 1")
    ]
    # On axes, one bad value is named once, whatever the other axes (3 children share it).
    problems = _problems(axes={"dataset.label_noise": [0, 1.2], "training.seed": [1, 2, 3]})
    assert problems == [
        (
            "axes.dataset.label_noise",
            "the children with dataset.label_noise=1.2 are invalid: dataset.label_noise: Input should be less than 1",
        )
    ]
    # A cross-field bound names the combination.
    problems = _problems(axes={"dataset.train_per_class": [1, 10], "training.probe_per_class": [2]})
    assert problems == [
        (
            "axes",
            "grid point 0 (dataset.train_per_class=1, training.probe_per_class=2) is invalid: "
            "training.probe_per_class (2) must be <= dataset.train_per_class (1)",
        )
    ]
    field, message = _problems(axes={"dataset.classes": [["triangle", "dog"]]})[0]
    assert field == "axes.dataset.classes" and "unknown geomnist class(es) ['dog']" in message


@pytest.mark.parametrize(
    ("path", "value"), [("training.seed", True), ("dataset.label_noise", False), ("training.trials", "3"), ("training.seed", 2.5)]
)
def test_grid_values_are_not_coerced(path, value):
    """A boolean is not a number here (pydantic's lax mode would take True for 1), nor a string."""
    field, message = _problems(axes={path: [value]})[0]
    assert field == f"axes.{path}"
    assert f"{describe_point({path: value})} are invalid" in message


def test_caps_are_named_with_their_setting():
    field, message = _problems({**CAPS, "max_points": 5}, axes={"training.seed": [1, 2, 3], "dataset.seed": [1, 2]})[0]
    assert field == "axes" and "the grid has 6 points; allowed range: 1 to 5 points (LESDE_MAX_SWEEP_POINTS)" == message
    field, message = _problems({**CAPS, "max_trial_iterations": 300}, points=[{"training.trials": 2}, {"training.trials": 4}])[0]
    assert field == "points[1]" and "= 400; allowed range: 1 to 300 trial-iterations per experiment (LESDE_MAX_TRIAL_ITERATIONS)" in message
    field, message = _problems({**CAPS, "max_sweep_trial_iterations": 500}, axes={"training.seed": [1, 2, 3]})[0]
    assert field == "axes"
    assert message == (
        "the grid's 3 children ask for 600 trial-iterations in all; allowed range: 1 to 500 "
        "trial-iterations per sweep (LESDE_MAX_SWEEP_TRIAL_ITERATIONS)"
    )
    assert len(_plan({**CAPS, "max_sweep_trial_iterations": 600}, axes={"training.seed": [1, 2, 3]})) == 3  # the bound is inclusive


def test_a_huge_product_is_refused_without_building_it():
    axes = {path: list(range(1, 101)) for path in ("training.seed", "dataset.seed", "training.eval_every", "training.probe_every")}
    field, message = _problems(axes=axes)[0]  # 10^8 points: only their count is computed
    assert field == "axes" and "100,000,000 points" in message


def test_many_bad_children_are_reported_up_to_a_limit():
    problems = _problems(points=[{"dataset.label_noise": 1 + i / 100} for i in range(50)])
    assert len(problems) == 21 and problems[-1] == ("body", "and 30 more problems like these")

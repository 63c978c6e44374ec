"""Experiment specs: defaults are valid, every bound names its field, the work cap holds."""

import pytest
from lesde_contract.specs import ExperimentSpec, WorkCapExceeded, check_work_cap
from pydantic import ValidationError


def _error_fields(error: ValidationError) -> set[str]:
    return {".".join(str(part) for part in item["loc"]) for item in error.errors()}


def test_defaults_are_a_valid_small_geomnist_run():
    spec = ExperimentSpec()
    assert spec.dataset.name == "geomnist"
    assert spec.dataset.classes == ["triangle", "rectangle", "ellipse"]
    assert spec.training.batch_size == 1
    assert spec.trial_iterations == spec.training.trials * spec.training.iterations


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"training": {"trials": 0}}, "training.trials"),
        ({"training": {"iterations": 10**9}}, "training.iterations"),
        ({"training": {"learning_rate": 0}}, "training.learning_rate"),
        ({"training": {"batch_size": 257}}, "training.batch_size"),
        ({"dataset": {"label_noise": 1.0}}, "dataset.label_noise"),
        ({"dataset": {"label_noise": -0.1}}, "dataset.label_noise"),
        ({"dataset": {"train_per_class": 0}}, "dataset.train_per_class"),
        ({"model": {"dtype": "float16"}}, "model.dtype"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_out_of_range_fields_are_named(patch, field):
    with pytest.raises(ValidationError) as caught:
        ExperimentSpec.model_validate(patch)
    assert field in _error_fields(caught.value)


def test_unknown_geomnist_class_is_refused_with_the_allowed_names():
    with pytest.raises(ValidationError, match=r"dataset.classes.*hexagon.*allowed.*triangle"):
        ExperimentSpec.model_validate({"dataset": {"classes": ["triangle", "hexagon"]}})


def test_duplicate_classes_are_refused():
    with pytest.raises(ValidationError, match="unique"):
        ExperimentSpec.model_validate({"dataset": {"classes": ["triangle", "triangle"]}})


def test_probe_cannot_exceed_training_samples():
    with pytest.raises(ValidationError, match="probe_per_class"):
        ExperimentSpec.model_validate({"dataset": {"train_per_class": 5}, "training": {"probe_per_class": 6}})


def test_work_cap():
    spec = ExperimentSpec.model_validate({"training": {"trials": 100, "iterations": 1000}})
    check_work_cap(spec, 100_000)
    with pytest.raises(WorkCapExceeded, match=r"100,000 .*allowed range: 1 to 99,999"):
        check_work_cap(spec, 99_999)


@pytest.mark.parametrize(
    ("dataset", "field"),
    [
        ({"name": "cifar10", "classes": ["cat", "dog"], "train_per_class": 5001}, "dataset.train_per_class"),
        ({"name": "cifar10", "classes": ["cat", "dog"], "val_per_class": 1001}, "dataset.val_per_class"),
        ({"name": "digits", "classes": ["0", "1"], "train_per_class": 150, "val_per_class": 30}, "dataset.train_per_class"),
        ({"name": "digits", "classes": ["0", "cat"]}, "dataset.classes"),
    ],
)
def test_finite_datasets_refuse_what_they_do_not_hold(dataset, field):
    with pytest.raises(ValidationError, match=field):
        ExperimentSpec.model_validate({"dataset": dataset, "training": {"probe_per_class": 1}})


def test_figure_variants_are_named_once_for_the_api_and_the_analyzer():
    from lesde_contract.specs.analysis import DEFAULT_FIGURE_SIZE, figure_variant, run_figure_key

    assert figure_variant(8.0, 5.0, 200) == "w8-h5-d200" and figure_variant(6.5, 3.25, 50) == "w6.5-h3.25-d50"
    assert run_figure_key("abcdef0123456789", "default", "AB", variant=figure_variant(8, 5, 200)).endswith("figures/AB@w8-h5-d200.png")
    assert DEFAULT_FIGURE_SIZE == (10.0, 4.5, 110) and DEFAULT_FIGURE_SIZE.dpi == 110

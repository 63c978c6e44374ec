"""The sweep's rows, table (CSV), curves and summary JSON, checked against naive computations."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest
from lesde_analyzer.figures.sweeps import render
from lesde_analyzer.sweeps.compute import mean_with_se, plotted_axes, pooled
from lesde_analyzer.sweeps.reader import read_sweep
from lesde_analyzer.sweeps.rows import NUMBER_COLUMNS, columns
from lesde_analyzer.sweeps.summary import sweep_summary
from lesde_analyzer.sweeps.table import table_csv

from tests.fixtures.sweeps import FixtureChild, child_summary, write_sweep

NOISE, SEED = "dataset.label_noise", "training.seed"


def test_pooled_mean_and_std_equal_those_of_all_trials_together():
    a, b, c = np.array([0.7, 0.9, 0.7, 0.9]), np.array([0.4, 0.8, 0.4, 0.8]), np.array([1.0, 0.0])
    got = pooled([a.mean(), b.mean(), c.mean()], [a.std(), b.std(), c.std()], [4, 4, 2])
    everything = np.concatenate([a, b, c])
    assert got["mean"] == pytest.approx(everything.mean()) and got["std"] == pytest.approx(everything.std())
    assert pooled([0.3], [0.05], [7]) == pytest.approx({"mean": 0.3, "std": 0.05})  # one child: its own numbers
    assert pooled([None], [None], [3]) == {"mean": None, "std": None}


def test_mean_of_independent_estimates_and_its_se():
    assert mean_with_se([0.8, 1.2], [0.3, 0.4]) == pytest.approx((1.0, 0.25))  # sqrt(0.09 + 0.16) / 2
    assert mean_with_se([0.8, None], [0.3, None]) == pytest.approx((0.8, 0.3))
    assert mean_with_se([0.8, 1.0], [0.3, None]) == (pytest.approx(0.9), None)


def test_plotted_axes_skip_seeds_and_text_and_plot_lists_by_length():
    points = [{NOISE: 0.1, SEED: 1, "model.name": "lenet", "dataset.classes": ["a", "b"], "dataset.train_per_class": True}]
    assert plotted_axes(list(points[0]), points) == {NOISE: "value", "dataset.classes": "length"}


@pytest.fixture()
def seeded_sweep(local_store):
    """Label noise 0, 0.5, 1/3 x two seeds (the second seed of 0.5 still running)."""
    children = [
        FixtureChild({NOISE: 0.0, SEED: 0}, child_summary(r_gamma=0.5, r_gamma_se=0.1, r_hat=0.45, val_acc=(0.9, 0.1), trials=4)),
        FixtureChild({NOISE: 0.0, SEED: 1}, child_summary(r_gamma=0.7, r_gamma_se=0.1, r_hat=0.55, val_acc=(0.6, 0.2), trials=4)),
        FixtureChild({NOISE: 0.5, SEED: 0}, child_summary(r_gamma=0.1 + 0.2, r_gamma_se=0.1, r_hat=None, val_acc=(0.5, 0.0))),
        FixtureChild({NOISE: 0.5, SEED: 1}, status="running"),
        FixtureChild({NOISE: 1 / 3, SEED: 0}, child_summary(r_gamma=1.5, r_gamma_se=0.1, label="not separable", val_acc=(1 / 3, 0.0))),
    ]
    sweep_id, ids = write_sweep(local_store, children, axes=[NOISE, SEED])
    return local_store, sweep_id, ids


def test_the_csv_has_one_row_per_child_at_full_precision(seeded_sweep):
    store, sweep_id, ids = seeded_sweep
    summary = sweep_summary(read_sweep(store, sweep_id))
    text = table_csv(summary["columns"], summary["rows"]).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0].split(",") == [
        "index",
        "experiment_id",
        NOISE,
        SEED,
        "status",
        "analysis",
        "verdict",
        *NUMBER_COLUMNS,
        "nc1_stream",
    ]
    assert [row["experiment_id"] for row in rows] == ids and [row["index"] for row in rows] == ["0", "1", "2", "3", "4"]
    assert float(rows[2]["r_gamma"]) == 0.1 + 0.2  # 0.30000000000000004: every digit kept
    assert float(rows[4][NOISE]) == 1 / 3
    assert rows[2]["figure_4c"] == ""  # missing number: empty cell
    assert rows[0]["figure_4c"] == rows[0]["figure_4c_true"] == "0.45"  # no label corrupted: one number under both groupings
    assert rows[0]["verdict_trained"] == rows[0]["verdict_true"] == "separable"
    running = rows[3]
    assert running["status"] == "running" and running["verdict"] == "" and running["validation_accuracy_mean"] == ""
    assert running["classes"] == "3" and running["trials"] == "4"  # from the child's spec
    first = rows[0]
    assert (float(first["validation_accuracy_mean"]), float(first["validation_accuracy_std"])) == (0.9, 0.1)
    assert float(first["validation_loss_initial"]) == math.log(3) and first["verdict"] == "separable"
    assert (float(first["nrmse_L"]), float(first["nrmse_I"])) == (0.5, 0.9)
    assert (float(first["alpha_hat_late"]), float(first["beta_hat_late"])) == (2e-4, 1e-4)
    assert (float(first["nc1_initial"]), float(first["nc1_final"]), first["nc1_stream"]) == (1.0, 0.1, "probe")
    assert float(first["separable_fraction_final"]) == 1.0


def test_seeds_are_averaged_into_one_point_per_grid_value(seeded_sweep):
    store, sweep_id, _ = seeded_sweep
    summary = sweep_summary(read_sweep(store, sweep_id))
    assert summary["primary_axis"] == NOISE and summary["partial"] is True
    assert summary["counts"] == {
        "children": 5,
        "in_curves": 4,
        "by_status": {"succeeded": 4, "running": 1},
        "by_analysis": {"succeeded": 4, "none": 1},
    }
    curves = summary["curves"][NOISE]
    assert curves["averaged_over"] == [SEED] and curves["grouped_by"] == [] and len(curves["lines"]) == 1
    points = curves["lines"][0]["points"]
    assert [p["x"] for p in points] == [0.0, 1 / 3, 0.5]  # sorted by value, not by grid order
    zero = points[0]
    assert zero["children"] == [0, 1]
    trials = np.concatenate([0.9 + 0.1 * np.array([1, -1, 1, -1]), 0.6 + 0.2 * np.array([1, -1, 1, -1])])
    assert zero["validation_accuracy"]["mean"] == pytest.approx(trials.mean())
    assert zero["validation_accuracy"]["std"] == pytest.approx(trials.std())
    assert zero["r_gamma"] == pytest.approx(0.6) and zero["r_gamma_se"] == pytest.approx(math.sqrt(0.01 + 0.01) / 2)
    assert zero["figure_4c"] == pytest.approx(0.5) and zero["verdict"] == "separable"
    assert zero["chance_accuracy"] == pytest.approx(1 / 3) and zero["log_classes"] == pytest.approx(math.log(3))
    assert points[2]["children"] == [2]  # its running seed is left out
    flip = summary["flip"]["lines"][0]
    # r: 0.6 at 0, 1.5 at 1/3: crosses 1 at (1 - 0.6) / 0.9 * (1/3)
    assert flip["value"] == pytest.approx(0.4 / 0.9 / 3) and flip["between"] == [0.0, 1 / 3]
    assert flip["first_not_separable"] == 1 / 3 and flip["last_separable"] == 0.5  # r = 0.3 again at 0.5
    assert len(flip["crossings"]) == 2 and "first crossing" in flip["reason"]
    assert any("Partial: 1 of 5" in note for note in summary["notes"])
    json.dumps(summary, allow_nan=False)  # strict JSON


def test_other_axes_group_the_lines_and_a_class_list_is_plotted_by_its_length(local_store):
    two, three = ["triangle", "rectangle"], ["triangle", "rectangle", "ellipse"]
    children = [
        FixtureChild({"dataset.classes": classes, "model.name": model}, child_summary(r_gamma=r, classes=len(classes)))
        for classes, model, r in ((two, "lenet", 0.5), (three, "lenet", 0.8), (two, "mlp", 0.9), (three, "mlp", 1.2))
    ]
    sweep_id, _ = write_sweep(local_store, children, axes=["dataset.classes", "model.name"])
    summary = sweep_summary(read_sweep(local_store, sweep_id))
    curves = summary["curves"]["dataset.classes"]
    assert curves["scale"] == "length" and curves["grouped_by"] == ["model.name"]
    assert [line["group"] for line in curves["lines"]] == [{"model.name": "lenet"}, {"model.name": "mlp"}]
    mlp = curves["lines"][1]
    assert [p["x"] for p in mlp["points"]] == [2.0, 3.0] and [p["chance_accuracy"] for p in mlp["points"]] == pytest.approx([1 / 2, 1 / 3])
    assert mlp["flip"]["value"] == pytest.approx(2 + 0.1 / 0.3)
    assert curves["lines"][0]["flip"]["value"] is None and "stays below 1" in curves["lines"][0]["flip"]["reason"]
    assert summary["rows"][1]["dataset.classes"] == three
    table = list(csv.DictReader(io.StringIO(table_csv(summary["columns"], summary["rows"]).decode())))
    assert json.loads(table[1]["dataset.classes"]) == three and table[1]["model.name"] == "lenet"


def test_no_numeric_axis_means_no_curves_and_a_note(local_store):
    children = [FixtureChild({"model.name": name}, child_summary(r_gamma=0.5)) for name in ("lenet", "mlp")]
    sweep_id, _ = write_sweep(local_store, children, axes=["model.name"])
    summary = sweep_summary(read_sweep(local_store, sweep_id))
    assert summary["primary_axis"] is None and summary["curves"] == {} and summary["flip"] is None
    assert len(summary["rows"]) == 2 and any("No axis other than seeds" in note for note in summary["notes"])
    assert summary["columns"] == columns(["model.name"])


def test_a_tail_fit_stopped_at_its_bound_is_no_estimate_and_places_no_flip(local_store):
    """r = 4 at the fit's upper bound (the true r may be anything above): it is listed apart,
    not averaged, not joined, and the flip is placed by the estimates alone."""
    children = [
        FixtureChild({NOISE: 0.0}, child_summary(r_gamma=0.5, r_gamma_se=0.1)),
        FixtureChild({NOISE: 0.3}, child_summary(r_gamma=0.7, r_gamma_se=0.1)),
        FixtureChild({NOISE: 0.6}, child_summary(r_gamma=4.0, r_gamma_se=9.0, at_bound=True, label="inconclusive")),
        FixtureChild({NOISE: 0.8}, child_summary(r_gamma=1.5, r_gamma_se=0.1)),
    ]
    sweep_id, _ = write_sweep(local_store, children, axes=[NOISE])
    summary = sweep_summary(read_sweep(local_store, sweep_id))
    assert [row["r_gamma_at_bound"] for row in summary["rows"]] == [False, False, True, False]
    line = summary["curves"][NOISE]["lines"][0]
    bound = line["points"][2]
    assert bound["r_gamma"] is None and bound["r_gamma_at_bound"] == 1  # one child, no estimate
    flip = line["flip"]
    assert flip["between"] == [0.3, 0.8]  # not between 0.3 and the bound at 0.6
    assert flip["value"] == pytest.approx(0.3 + 0.5 * 0.3 / 0.8)  # linear between (0.3, 0.7) and (0.8, 1.5)
    png = render("sweep-tail-index", summary)
    assert png.startswith(b"\x89PNG")

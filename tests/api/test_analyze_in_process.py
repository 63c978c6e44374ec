"""``lesde.analyze`` in this process gives the service's numbers: a table analysed here equals
the same CSV imported and analysed by the service's tasks, to the bit; arrays equal the
table; the result's pandas, xarray and figure views hold those numbers."""

from __future__ import annotations

import io
import math

import lesde
import numpy as np
import pandas as pd
import pytest
from lesde.results import AnalysisResult
from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
from lesde_analyzer.imports import run_import_job
from matplotlib.figure import Figure

from tests.fixtures.analysis_checks import numbers_equal
from tests.fixtures.authors_csv import authors_csv

CLASSES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(authors_csv(trials=4, iterations=400, val_every=50)))


@pytest.fixture(scope="module")
def in_process(table) -> AnalysisResult:
    return lesde.analyze(table, classes=CLASSES)


def test_a_table_analysed_in_process_equals_the_service_importing_and_analysing_its_csv(in_process, client, store, sent):
    text = authors_csv(trials=4, iterations=400, val_every=50)
    job = client.post("/v1/imports", files={"file": ("run.csv", text.encode(), "text/csv")}, data={"classes": ",".join(CLASSES)}).json()
    run_import_job(store, job["id"])
    run_experiment_analysis(store, job["id"])
    served = client.get(f"/v1/experiments/{job['id']}/analysis", params={"series": False}).json()
    assert numbers_equal(in_process.summary, served) == []
    assert in_process.verdict["label"] == served["verdict"]["label"]


def test_arrays_give_the_same_result_as_the_table(table, in_process):
    logits = table[[f"y_logit{k}" for k in range(3)]].to_numpy()
    result = lesde.analyze(
        logits=logits,
        labels=table["y"].to_numpy(),
        itr=table["itr"].to_numpy(),
        trial=table["trial"].to_numpy(),
        loss=table["tr_loss"].to_numpy(),
        classes=CLASSES,
    )
    assert result.series["estimates/alpha_I"].tobytes() == in_process.series["estimates/alpha_I"].tobytes()
    assert result.verdict == in_process.verdict


def test_a_table_that_is_not_a_full_grid_or_lacks_columns_is_refused_by_name(table):
    with pytest.raises(ValueError, match=r"trial 2 at itr 7 is missing"):
        lesde.analyze(table.drop(index=table.index[(table["trial"] == 2) & (table["itr"] == 7)]))
    with pytest.raises(ValueError, match="lacks column"):
        lesde.analyze(table.drop(columns=["y"]))
    with pytest.raises(ValueError, match="labels, itr, trial"):
        lesde.analyze(logits=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="classes: 2 names for K = 3"):
        lesde.analyze(table, classes=["x", "y"])


def test_the_tidy_table_holds_the_series_values(in_process):
    frame = in_process.to_pandas()
    assert list(frame.columns) == ["time", "model", "quantity", "value", "se"]
    alpha = frame.query("model == 'I' and quantity == 'alpha'")
    np.testing.assert_array_equal(alpha["value"].to_numpy(), in_process.series["estimates/alpha_I"])
    np.testing.assert_array_equal(alpha["time"].to_numpy(), in_process.series["estimates/t"])
    acc = frame.query("model == 'eval' and quantity == 'val_acc'")
    trials = in_process.summary["trials"]
    np.testing.assert_allclose(acc["se"].to_numpy(), in_process.series["eval/val_acc_std"] / math.sqrt(trials - 1))


def test_the_xarray_view_labels_time_class_and_logit(in_process):
    data = in_process.to_xarray()
    assert data["xbar"].dims == ("time", "class", "logit")
    assert list(data["class"].values) == CLASSES
    np.testing.assert_array_equal(data["xbar"].sel({"class": "b", "logit": "c"}).values, in_process.series["estimates/xbar"][:, 1, 2])
    assert data["eval_val_acc_mean"].dims == ("eval_time",)


def test_figures_save_and_load(in_process, tmp_path):
    figure = in_process.figure("alpha-beta")
    assert isinstance(figure, Figure) and figure.axes
    assert in_process.figure_png("curves")[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="figure must be one of"):
        in_process.figure("nope")
    back = AnalysisResult.load(in_process.save(tmp_path / "saved"))
    assert back.summary == in_process.summary and back.spec == in_process.spec
    assert set(back.series) == set(in_process.series)


def test_drift_windows_the_analysis_did_not_report_are_not_in_the_table(in_process):
    series = dict(in_process.series)
    series["estimates/drift_t"] = np.array([100.0, 200.0, 300.0])
    series["estimates/drift_alpha"] = series["estimates/drift_beta"] = np.array([0.1, 0.2, 0.3])
    series["estimates/drift_alpha_se"] = series["estimates/drift_beta_se"] = np.array([0.01, 0.01, 0.01])
    series["estimates/drift_reliable"] = np.array([1, 0, 1], np.int8)  # the middle window not reported
    rows = AnalysisResult(summary=in_process.summary, series=series).to_pandas().query("model == 'drift' and quantity == 'alpha'")
    np.testing.assert_array_equal(rows["time"].to_numpy(), [100.0, 300.0])
    assert not in_process.to_pandas().groupby(["model", "quantity"], observed=True)["value"].apply(lambda v: v.isna().all()).any()

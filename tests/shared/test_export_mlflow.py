"""``lesde.exports.to_mlflow`` and ``lesde export --format mlflow``: a real analysis (a synthetic
experiment run through the analyzer) logged to a local MLflow store and read back with MLflow's
own ``MlflowClient``: params, metric histories, tags, artifacts, and no global MLflow state left."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import numpy as np
import pytest
from lesde import cli
from lesde.exports import to_mlflow
from lesde.exports.content import final_step, headline_numbers, scalar_curves
from lesde.exports.mlflow_export import (
    ALLOW_FILE_STORE_ENV,
    flatten_params,
    mlflow_ui_command,
    resolve_tracking_uri,
    thin_indices,
)
from lesde.results import AnalysisResult
from lesde_analyzer.experiments.pipeline import analyse_experiment
from lesde_contract.specs.analysis import AnalysisOptions
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage.local import LocalStore
from mlflow.tracking import MlflowClient
from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH

from tests.fixtures.synthetic import write_synthetic_experiment

ITERATIONS = 3000
EXPERIMENT = "lesde-test"


@pytest.fixture(scope="module", autouse=True)
def no_telemetry() -> Iterator[None]:
    """MLflow 3 sends usage telemetry unless told not to; it skips pytest only if imported during a test, and this module imports it earlier."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        yield


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    """The analyzer's result for a 3000-iteration, 6-trial synthetic experiment (3 classes)."""
    store = LocalStore(tmp_path_factory.mktemp("store"))
    job_id = write_synthetic_experiment(store, trials=6, iterations=ITERATIONS, chunk=1000, probe_every=100)
    summary, series = analyse_experiment(store, job_id, options=AnalysisOptions())
    return AnalysisResult(summary=summary, series=series, spec=JobRepository(store, "experiment").get_spec(job_id))


@pytest.fixture(scope="module")
def exported(result: AnalysisResult, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, dict, dict]:
    """``(tracking URI, run id, MLflow's variables and tracking URI before, the same after)`` of one export with figures."""
    uri = resolve_tracking_uri(f"file:{tmp_path_factory.mktemp('mlruns')}")
    before = _global_state()
    run_id = to_mlflow(result, tracking_uri=uri, experiment=EXPERIMENT)
    return uri, run_id, before, _global_state()


def _global_state() -> dict:
    return {
        "environment": {name: os.environ.get(name) for name in (ALLOW_FILE_STORE_ENV, "MLFLOW_TRACKING_URI")},
        "tracking_uri": mlflow.get_tracking_uri(),
        "active_run": mlflow.active_run(),
    }


@contextmanager
def reading(uri: str) -> Iterator[MlflowClient]:
    """MLflow's own client on ``uri``: MLflow 3 opens a file store only with MLFLOW_ALLOW_FILE_STORE=true."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ALLOW_FILE_STORE_ENV, "true")
        yield MlflowClient(tracking_uri=uri)


def _history(client: MlflowClient, run_id: str, key: str) -> tuple[np.ndarray, np.ndarray]:
    """``(steps, values)`` of a metric, by step."""
    points = sorted(client.get_metric_history(run_id, key), key=lambda metric: metric.step)
    return np.array([m.step for m in points]), np.array([m.value for m in points])


def test_params_are_the_flattened_spec(result, exported):
    uri, run_id, _, _ = exported
    with reading(uri) as client:
        params = client.get_run(run_id).data.params
    assert params == flatten_params(result.spec)
    assert params["training.iterations"] == str(ITERATIONS)
    assert params["dataset.classes"] == json.dumps(result.spec["dataset"]["classes"])  # lists as JSON
    assert params["model.name"] == result.spec["model"]["name"]  # strings as they are
    assert params["synthetic"] == "true"


def test_alpha_history_is_the_series_thinned_to_2000_points(result, exported):
    uri, run_id, _, _ = exported
    with reading(uri) as client:
        steps, values = _history(client, run_id, "I/alpha")
    keep = thin_indices(ITERATIONS, 2000)
    assert len(steps) == 2000 and steps[0] == 0 and steps[-1] == ITERATIONS - 1  # first and last kept
    np.testing.assert_array_equal(steps, result.series["estimates/t"][keep].astype(int))
    np.testing.assert_allclose(values, result.series["estimates/alpha_I"][keep], rtol=1e-12, atol=0)


def test_every_curve_and_number_is_a_metric(result, exported):
    uri, run_id, _, _ = exported
    with reading(uri) as client:
        metrics = client.get_run(run_id).data.metrics  # the last value of each
        drift_steps, drift_se = _history(client, run_id, "drift/alpha_se")
        eval_steps, val_acc = _history(client, run_id, "eval/val_acc")
        steps, _ = _history(client, run_id, "verdict/r_gamma")
    names = {curve.name for curve in scalar_curves(result)} | set(headline_numbers(result))
    assert set(metrics) == names
    for model in ("I", "L"):
        for quantity in ("A", "B", "Gamma", "alpha", "beta"):
            assert f"{model}/{quantity}" in metrics
    np.testing.assert_array_equal(drift_steps, np.rint(result.series["estimates/drift_t"]))  # half-integer centres, rounded
    np.testing.assert_allclose(drift_se, result.series["estimates/drift_alpha_se"], rtol=1e-12)
    np.testing.assert_array_equal(eval_steps, result.series["eval/t"])
    np.testing.assert_allclose(val_acc, result.series["eval/val_acc_mean"], rtol=1e-12)
    summary = result.summary
    assert metrics["verdict/r_gamma"] == pytest.approx(summary["verdict"]["r_gamma"], rel=1e-12)
    assert metrics["verdict/r_gamma_se"] == pytest.approx(summary["verdict"]["se"], rel=1e-12)
    assert metrics["final/validation_accuracy"] == pytest.approx(summary["final"]["validation_accuracy"]["mean"], rel=1e-12)
    assert metrics["final/train_accuracy"] == pytest.approx(summary["final"]["train_accuracy"]["mean"], rel=1e-12)
    assert metrics["imitation/L/nrmse"] == pytest.approx(summary["imitation"]["L"]["nrmse"], rel=1e-12)
    tails = summary["estimates"]["models"]["I"]["tail_indices"]
    assert metrics["tail/I/Gamma/r"] == pytest.approx(tails["Gamma"]["r_slope"], rel=1e-12)
    assert metrics["tail/I/A/r_hat"] == pytest.approx(tails["A"]["r_hat"], rel=1e-12)
    assert list(steps) == [final_step(result)] == [ITERATIONS]


def test_tags_name_the_verdict_the_job_and_the_classes(result, exported):
    uri, run_id, _, _ = exported
    with reading(uri) as client:
        run = client.get_run(run_id)
    tags = run.data.tags
    assert tags["lesde.verdict"] == result.summary["verdict"]["label"]
    assert tags["lesde.job_id"] == result.job_id
    assert json.loads(tags["lesde.classes"]) == result.summary["classes"]
    assert tags["mlflow.note.content"] == result.summary["verdict"]["why"]
    assert "lesde.truncated_params" not in tags and "lesde.figures" not in tags
    assert run.info.run_name == result.job_id
    assert run.info.status == "FINISHED"


def test_artifacts_are_every_figure_and_the_summary(result, exported, tmp_path):
    uri, run_id, _, _ = exported
    with reading(uri) as client:
        top = {item.path for item in client.list_artifacts(run_id)}
        figures = {item.path for item in client.list_artifacts(run_id, "figures")}
        summary = json.loads(Path(client.download_artifacts(run_id, "summary.json", str(tmp_path))).read_text())
        png = Path(client.download_artifacts(run_id, "figures/AB.png", str(tmp_path))).read_bytes()
    assert top == {"figures", "summary.json", "spec.json"}
    assert figures == {f"figures/{name}.png" for name in result.figure_names}
    assert summary == json.loads(json.dumps(result.summary))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_the_run_is_in_the_named_experiment_and_no_global_state_is_left(exported):
    uri, run_id, before, after = exported
    with reading(uri) as client:
        assert client.get_experiment(client.get_run(run_id).info.experiment_id).name == EXPERIMENT
    assert after == before  # MLFLOW_ALLOW_FILE_STORE restored, MLflow's tracking URI untouched, no active run
    assert after["active_run"] is None


def test_a_param_over_the_limit_is_cut_and_named(result, tmp_path):
    long_spec = {**result.spec, "notes": "x" * (MAX_PARAM_VAL_LENGTH + 10)}
    uri = resolve_tracking_uri(f"file:{tmp_path / 'mlruns'}")
    run_id = to_mlflow(dataclasses.replace(result, spec=long_spec), tracking_uri=uri, figures=False, max_points=100)
    with reading(uri) as client:
        run = client.get_run(run_id)
        steps, _ = _history(client, run_id, "L/Gamma")
        default_experiment = client.get_experiment_by_name("lesde")
    assert run.data.params["notes"] == "x" * MAX_PARAM_VAL_LENGTH
    assert json.loads(run.data.tags["lesde.truncated_params"]) == ["notes"]
    assert len(steps) == 100 and steps[0] == 0 and steps[-1] == ITERATIONS - 1
    assert run.info.experiment_id == default_experiment.experiment_id


def test_thin_indices_spread_evenly_and_keep_both_ends():
    np.testing.assert_array_equal(thin_indices(5, 2000), np.arange(5))
    index = thin_indices(100_000, 2000)
    assert len(index) == 2000 and index[0] == 0 and index[-1] == 99_999
    gaps = np.diff(index)
    assert gaps.max() - gaps.min() <= 1
    with pytest.raises(ValueError, match="at least 2"):
        thin_indices(10, 1)


def test_flatten_params_writes_non_strings_as_json():
    spec = {"a": {"b": 1, "c": [1, 2], "d": {}}, "e": None, "f": True, "g": "text", "h": 0.5}
    assert flatten_params(spec) == {"a.b": "1", "a.c": "[1, 2]", "a.d": "{}", "e": "null", "f": "true", "g": "text", "h": "0.5"}
    assert flatten_params(None) == {}


def test_tracking_uri_default_environment_and_paths(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri() == (tmp_path / "mlruns").resolve().as_uri()  # file:./mlruns, made absolute
    assert resolve_tracking_uri("file:store") == (tmp_path / "store").resolve().as_uri()
    assert resolve_tracking_uri("http://mlflow:5000") == "http://mlflow:5000"
    assert resolve_tracking_uri("sqlite:///mlflow.db") == "sqlite:///mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://elsewhere:5000")
    assert resolve_tracking_uri() == "http://elsewhere:5000"
    assert mlflow_ui_command("file:///x/mlruns") == "MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri file:///x/mlruns"
    assert mlflow_ui_command("sqlite:///mlflow.db") == "mlflow ui --backend-store-uri sqlite:///mlflow.db"
    assert mlflow_ui_command("http://mlflow:5000") is None


def test_without_mlflow_the_error_names_the_extra(result, monkeypatch):
    for name in [name for name in sys.modules if name == "mlflow" or name.startswith("mlflow.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: importing any of it raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'lesde\[mlflow\]'"):
        to_mlflow(result, tracking_uri="file:/nowhere", figures=False)


def test_cli_exports_a_saved_result_folder(result, tmp_path, capsys, monkeypatch):
    # the figures are the library's (tested above); drawing them again would only add seconds
    monkeypatch.setattr("lesde.exports.mlflow_export.figure_pngs", lambda result: ({}, None))
    folder = result.save(tmp_path / "result")
    uri = (tmp_path / "cli-mlruns").as_uri()
    code = cli.main(["export", str(folder), "--format", "mlflow", "--tracking-uri", uri, "--experiment-name", "from-cli"])
    out = capsys.readouterr().out
    assert code == 0, out
    run_id = out.split("MLflow run ", 1)[1].split()[0]
    assert uri in out and f"mlflow ui --backend-store-uri {uri}" in out
    with reading(uri) as client:
        run = client.get_run(run_id)
        experiment = client.get_experiment(run.info.experiment_id)
    assert run.data.tags["lesde.verdict"] == result.summary["verdict"]["label"]
    assert run.data.params["training.iterations"] == str(ITERATIONS)
    assert experiment.name == "from-cli"


def test_cli_file_formats_need_an_id_not_a_folder(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path), "--format", "csv"]) == 2
    assert "must be an experiment id" in capsys.readouterr().err


def test_cli_help_names_both_trackers():
    text = cli.build_parser()._subparsers._group_actions[0].choices["export"].format_help()
    assert "mlflow" in text and "tensorboard" in text and "--tracking-uri" in text and "--logdir" in text
    assert "lesde[mlflow]" in text and "lesde[tensorboard]" in text

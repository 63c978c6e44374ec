"""``lesde.exports.to_tensorboard`` and ``lesde export --format tensorboard``: a real analysis (a
synthetic experiment run through the analyzer) written as event files and read back with
TensorBoard's own ``EventAccumulator``: scalars and steps, images, texts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from lesde import cli
from lesde.exports import to_tensorboard
from lesde.exports.content import final_step, headline_numbers, scalar_curves
from lesde.exports.tensorboard_export import png_size
from lesde.results import AnalysisResult
from lesde_analyzer.experiments.pipeline import analyse_experiment
from lesde_contract.specs.analysis import AnalysisOptions
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage.local import LocalStore
from tensorboard.backend.event_processing import event_accumulator

from tests.fixtures.synthetic import write_synthetic_experiment

ITERATIONS = 3000
# 0: keep every event (TensorBoard otherwise samples each tag down to a reservoir on load)
KEEP_EVERYTHING = {event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0, event_accumulator.TENSORS: 0}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    """The analyzer's result for a 3000-iteration, 6-trial synthetic experiment (3 classes)."""
    store = LocalStore(tmp_path_factory.mktemp("store"))
    job_id = write_synthetic_experiment(store, trials=6, iterations=ITERATIONS, chunk=1000, probe_every=100)
    summary, series = analyse_experiment(store, job_id, options=AnalysisOptions())
    return AnalysisResult(summary=summary, series=series, spec=JobRepository(store, "experiment").get_spec(job_id))


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def run(result: AnalysisResult, logdir: Path) -> tuple[Path, event_accumulator.EventAccumulator]:
    """The run folder of one export with figures, and TensorBoard's reading of it."""
    folder = to_tensorboard(result, logdir)
    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance=KEEP_EVERYTHING)
    accumulator.Reload()
    return folder, accumulator


def _scalars(accumulator: event_accumulator.EventAccumulator, tag: str) -> tuple[np.ndarray, np.ndarray]:
    events = accumulator.Scalars(tag)
    return np.array([event.step for event in events]), np.array([event.value for event in events])


def test_the_run_is_a_folder_named_by_the_job(result, logdir, run):
    folder, _ = run
    assert folder == logdir / result.job_id
    assert [path.name.startswith("events.out.tfevents.") for path in folder.iterdir()] == [True]


def test_alpha_is_the_series_at_every_iteration(result, run):
    _, accumulator = run
    steps, values = _scalars(accumulator, "I/alpha")
    np.testing.assert_array_equal(steps, np.arange(ITERATIONS))  # full length: not thinned
    # stored as 32-bit floats (Summary.Value.simple_value)
    np.testing.assert_array_equal(values, result.series["estimates/alpha_I"].astype(np.float32))


def test_every_curve_has_its_steps_and_values(result, run):
    _, accumulator = run
    curves = scalar_curves(result)
    assert set(accumulator.Tags()["scalars"]) == {curve.name for curve in curves} | set(headline_numbers(result))
    for curve in curves:
        steps, values = _scalars(accumulator, curve.name)
        np.testing.assert_array_equal(steps, curve.steps, err_msg=curve.name)
        np.testing.assert_array_equal(values, curve.values.astype(np.float32), err_msg=curve.name)
    steps, _ = _scalars(accumulator, "drift/beta")
    np.testing.assert_array_equal(steps, np.rint(result.series["estimates/drift_t"]))
    steps, values = _scalars(accumulator, "eval/val_acc")
    np.testing.assert_array_equal(steps, result.series["eval/t"])
    np.testing.assert_allclose(values, result.series["eval/val_acc_mean"], rtol=1e-6)


def test_the_single_numbers_are_at_the_last_iteration(result, run):
    _, accumulator = run
    for name, value in headline_numbers(result).items():
        (event,) = accumulator.Scalars(name)
        assert event.step == final_step(result) == ITERATIONS
        assert event.value == pytest.approx(value, rel=1e-6), name
    (event,) = accumulator.Scalars("verdict/r_gamma")
    assert event.value == pytest.approx(result.summary["verdict"]["r_gamma"], rel=1e-6)


def test_every_figure_is_an_image(result, run):
    _, accumulator = run
    assert set(accumulator.Tags()["images"]) == {f"figures/{name}" for name in result.figure_names}
    (image,) = accumulator.Images("figures/AB")
    assert image.encoded_image_string.startswith(b"\x89PNG\r\n\x1a\n")
    assert (image.height, image.width) == png_size(image.encoded_image_string)[:2]
    assert image.step == ITERATIONS


def test_the_verdict_and_the_spec_are_texts(result, run):
    _, accumulator = run
    assert set(accumulator.Tags()["tensors"]) == {"verdict", "spec"}
    (verdict,) = accumulator.Tensors("verdict")
    text = verdict.tensor_proto.string_val[0].decode()
    assert text.startswith(f"**{result.summary['verdict']['label']}**")
    assert f"{result.summary['verdict']['r_gamma']:.3f}" in text
    assert accumulator.summary_metadata["verdict"].plugin_data.plugin_name == "text"
    (spec,) = accumulator.Tensors("spec")
    assert json.loads(spec.tensor_proto.string_val[0].decode().removeprefix("```json\n").removesuffix("\n```")) == result.spec


def test_a_second_export_gets_a_folder_of_its_own(result, tmp_path):
    first = to_tensorboard(result, tmp_path, run_name="again", figures=False)
    second = to_tensorboard(result, tmp_path, run_name="again", figures=False)
    assert (first.name, second.name) == ("again", "again-2")


def test_png_size_reads_the_header(result):
    height, width, channels = png_size(result.figure_png("curves"))
    assert height > 100 and width > 100 and channels in (3, 4)
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + bytes(30))


def test_without_tensorboard_the_error_names_the_extra(result, tmp_path, monkeypatch):
    for name in [name for name in sys.modules if name == "tensorboard" or name.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: importing any of it raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'lesde\[tensorboard\]'"):
        to_tensorboard(result, tmp_path, figures=False)


def test_cli_exports_a_saved_result_folder(result, tmp_path, capsys, monkeypatch):
    # the figures are the library's (tested above); drawing them again would only add seconds
    monkeypatch.setattr("lesde.exports.tensorboard_export.figure_pngs", lambda result: ({}, None))
    folder = result.save(tmp_path / "result")
    logdir = tmp_path / "cli-runs"
    assert cli.main(["export", str(folder), "--format", "tensorboard", "--logdir", str(logdir)]) == 0
    out = capsys.readouterr().out
    assert str(logdir / result.job_id) in out and f"tensorboard --logdir {logdir}" in out
    accumulator = event_accumulator.EventAccumulator(str(logdir / result.job_id), size_guidance=KEEP_EVERYTHING)
    accumulator.Reload()
    steps, values = _scalars(accumulator, "L/Gamma")
    np.testing.assert_array_equal(steps, np.arange(ITERATIONS))
    np.testing.assert_array_equal(values, result.series["estimates/Gamma_L"].astype(np.float32))

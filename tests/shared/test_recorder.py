"""The Recorder against a naive reference: what it writes is what was logged, whatever the
order of the trials, the buffer size or the input type; bad calls say what is wrong."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from lesde import Recorder
from lesde.recorder.recorder import cross_entropy
from lesde_contract.chunks import class_sums, decode_chunk

K, R, STEPS = 3, 3, 230


def logged(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Reference data: logits (STEPS, R, K) float32 and labels (STEPS, R)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((STEPS, R, K)).astype(np.float32), rng.integers(0, K, (STEPS, R))


def stream(folder, name: str) -> dict[str, np.ndarray]:
    """A stream's chunks concatenated along the record axis, in manifest order."""
    manifest = json.loads((folder / "manifest.json").read_text())
    chunks = [decode_chunk((folder / entry["key"].split("/", 2)[2]).read_bytes()) for entry in manifest["chunks"][name]]
    return {
        key: (np.concatenate([c[key] for c in chunks]) if key not in ("probe_label", "probe_index") else chunks[0][key])
        for key in chunks[0]
    }


def chunk_bytes(folder) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*.npz"))}


def record(folder, logits, labels, *, side_by_side: bool, **options) -> Recorder:
    rec = Recorder(classes=K, trials=R, store=folder, chunk_iterations=100, **options)
    order = [(s, r) for s in range(STEPS) for r in range(R)] if side_by_side else [(s, r) for r in range(R) for s in range(STEPS)]
    for step, trial in order:
        rec.log(step, logits[step, trial][None], int(labels[step, trial]), trial=trial)
    rec.close()
    return rec


def test_the_sampled_stream_holds_exactly_what_was_logged_with_its_reductions(tmp_path):
    logits, labels = logged()
    record(tmp_path / "run", logits, labels, side_by_side=True)
    got = stream(tmp_path / "run", "sampled")
    np.testing.assert_array_equal(got["iteration"], np.arange(STEPS))
    np.testing.assert_array_equal(got["logits"], logits)
    np.testing.assert_array_equal(got["label"], labels)
    np.testing.assert_array_equal(got["true_label"], labels)
    sums = class_sums(labels, logits, num_classes=K)
    np.testing.assert_array_equal(got["class_sum"], sums["class_sum"])
    np.testing.assert_array_equal(got["class_count"], sums["class_count"])
    # the default loss is the softmax cross-entropy of the logged logits (torch's, as a reference)
    reference = torch.nn.functional.cross_entropy(
        torch.from_numpy(logits.reshape(-1, K)).double(), torch.from_numpy(labels.reshape(-1)), reduction="none"
    )
    np.testing.assert_allclose(got["loss"].reshape(-1), reference.numpy(), rtol=1e-6)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["iterations_done"] == STEPS and manifest["complete"]
    assert [(e["first"], e["last"]) for e in manifest["chunks"]["sampled"]] == [(0, 99), (100, 199), (200, 229)]


def test_trials_one_after_another_and_a_tiny_buffer_write_the_same_bytes_as_trials_side_by_side(tmp_path):
    logits, labels = logged(1)
    record(tmp_path / "side", logits, labels, side_by_side=True)
    record(tmp_path / "serial", logits, labels, side_by_side=False)
    record(tmp_path / "spilled", logits, labels, side_by_side=False, buffer_bytes=1)  # every waiting block goes to disk
    side = chunk_bytes(tmp_path / "side")
    assert side == chunk_bytes(tmp_path / "serial") == chunk_bytes(tmp_path / "spilled")
    assert not (tmp_path / "spilled" / ".spool").exists()


def test_torch_tensors_with_grad_batches_and_the_optional_columns(tmp_path):
    model = torch.nn.Linear(4, K)
    x = torch.randn(20, 2, 4)
    rec = Recorder(classes=["a", "b", "c"], trials=1, store=tmp_path / "run", batch_size=2, dtype="float64")
    for step in range(20):
        out = model(x[step])  # (2, K), requires grad
        rec.log(step, out, torch.tensor([0, 2]), loss=torch.tensor([0.5, 0.25]), true_label=np.array([1, 2]), index=[7, 8])
    rec.close()
    got = stream(tmp_path / "run", "sampled")
    assert got["logits"].shape == (20, 1, 2, K) and got["logits"].dtype == np.float64
    np.testing.assert_allclose(got["logits"][:, 0], model(x).detach().numpy())
    np.testing.assert_array_equal(got["label"][0, 0], [0, 2])
    np.testing.assert_array_equal(got["true_label"][0, 0], [1, 2])
    np.testing.assert_array_equal(got["loss"][0, 0], [0.5, 0.25])
    np.testing.assert_array_equal(got["index"][0, 0], [7, 8])


def test_probe_features_and_eval_records_stack_the_trials(tmp_path):
    rec = Recorder(classes=K, trials=2, store=tmp_path / "run")
    probe_y = np.array([0, 1, 2, 2])
    for trial in range(2):
        for step in range(10):
            rec.log(step, np.zeros(K, np.float32), 0, trial=trial)
            if step % 5 == 0:
                rec.probe(step, np.full((4, K), step + trial), probe_y, trial=trial, features=np.full((4, 6), -step))
                rec.evaluate(step, trial, val_acc=0.1 * step + trial)
    rec.close()
    probe, features, evals = (stream(tmp_path / "run", name) for name in ("probe", "features", "eval"))
    np.testing.assert_array_equal(probe["iteration"], [0, 5])
    assert probe["logits"].shape == (2, 2, 4, K) and features["features"].shape == (2, 2, 4, 6)
    np.testing.assert_array_equal(probe["logits"][1, :, 0, 0], [5, 6])
    np.testing.assert_array_equal(probe["probe_label"], probe_y)
    np.testing.assert_allclose(evals["val_acc"], [[0, 1], [0.5, 1.5]])
    assert np.isnan(evals["train_loss"]).all()


def test_a_trial_that_stops_early_cuts_the_run_with_a_warning(tmp_path):
    logits, labels = logged(2)
    rec = Recorder(classes=K, trials=2, store=tmp_path / "run", chunk_iterations=100)
    for trial, steps in ((0, STEPS), (1, 150)):
        for step in range(steps):
            rec.log(step, logits[step, trial], int(labels[step, trial]), trial=trial)
    with pytest.warns(UserWarning, match="cut at step 149"):
        rec.close()
    got = stream(tmp_path / "run", "sampled")
    np.testing.assert_array_equal(got["logits"], logits[:150, :2])
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["iterations_done"] == 150


@pytest.mark.parametrize(
    ("calls", "message"),
    [
        ([(0, 0), (2, 0)], "trial 0 logged step 2 after step 0"),
        ([(0, 0), (0, 0)], "trial 0 logged step 0 after step 0"),
        ([(5, 0), (4, 1)], "trial 1 starts at step 4, but the run starts at step 5"),
        ([(0, 3)], "trial: 0 to 1"),
        ([(-1, 0)], "step: a non-negative integer"),
    ],
)
def test_a_log_call_out_of_line_says_what_is_wrong(tmp_path, calls, message):
    rec = Recorder(classes=K, trials=2, store=tmp_path / "run")
    with pytest.raises(ValueError, match=message):
        for step, trial in calls:
            rec.log(step, np.zeros(K), 0, trial=trial)


def test_bad_arguments_name_the_field(tmp_path):
    with pytest.raises(ValueError, match="classes: at least 2 unique"):
        Recorder(classes=["a", "a"], store=tmp_path / "a")
    with pytest.raises(ValueError, match="trials: an integer >= 1"):
        Recorder(classes=3, trials=0, store=tmp_path / "b")
    with pytest.raises(ValueError, match="store or url"):
        Recorder(classes=3)
    record(tmp_path / "done", *logged(), side_by_side=True)
    with pytest.raises(FileExistsError, match="already holds a recorded run"):
        Recorder(classes=3, store=tmp_path / "done")
    rec = Recorder(classes=K, store=tmp_path / "probe")
    rec.probe(0, np.zeros((2, K)), [0, 1])
    with pytest.raises(ValueError, match="probe set's labels changed"):
        rec.probe(1, np.zeros((2, K)), [1, 0])
    with pytest.raises(ValueError, match="nothing was logged"):
        Recorder(classes=K, store=tmp_path / "empty").close()


def test_cross_entropy_matches_a_naive_loop():
    z = np.random.default_rng(3).standard_normal((5, 4)) * 30  # large logits: the max shift keeps it finite
    y = np.array([0, 3, 1, 2, 0])
    naive = [np.log(sum(np.exp(v - row.max()) for v in row)) - (row[label] - row.max()) for row, label in zip(z, y)]
    np.testing.assert_allclose(cross_entropy(z, y), naive, rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(cross_entropy(np.array([[1e4, -1e4]]), np.array([1]))).all()


def test_overwrite_replaces_a_run_and_nothing_else_in_the_folder(tmp_path):
    folder = tmp_path / "run"
    record(folder, *logged(4), side_by_side=True)
    (folder / "notes.txt").write_text("mine")
    rec = Recorder(classes=K, trials=1, store=folder, overwrite=True)
    for step in range(5):
        rec.log(step, np.zeros(K, np.float32), 1)
    rec.close()
    assert json.loads((folder / "manifest.json").read_text())["iterations_done"] == 5
    assert stream(folder, "sampled")["logits"].shape == (5, 1, K)
    assert (folder / "notes.txt").read_text() == "mine"

"""The training job: streams, schedule, progress, cancel, resume and failures (in-process,
on a real local-directory store; the Redis/S3 path is in tests/integration)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from lesde_contract import object_keys
from lesde_contract.chunks import checksum, decode_chunk
from lesde_contract.records import JobStatus
from lesde_contract.specs import ExperimentSpec
from lesde_contract.specs.experiment import DATASET_CLASSES
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.settings import TrainerSettings
from lesde_runtime.storage.local import LocalStore
from lesde_trainer import training_job as training
from lesde_trainer.training_job import Schedule, run_training_job

TINY = {
    "dataset": {"train_per_class": 6, "val_per_class": 3, "seed": 4},
    "training": {"iterations": 45, "trials": 3, "eval_every": 20, "probe_every": 10, "probe_per_class": 2, "features_every": 30, "seed": 9},
}


@pytest.fixture
def sent(monkeypatch):
    """Tasks the job enqueues. Recorded instead of sent: this unit test has no worker;
    tests/integration sends them over a real Redis."""
    calls: list[tuple] = []
    monkeypatch.setattr(celery_app, "send", lambda *args: calls.append(args))
    return calls


def _submit(store: LocalStore, body: dict = TINY) -> str:
    spec = ExperimentSpec.model_validate(body)
    repo = JobRepository(store, "experiment")
    return repo.create(spec=spec.model_dump(mode="json"), owner="t", name=None, total=spec.training.iterations, unit="iterations").id


def _chunks(store: LocalStore, job_id: str, stream: str) -> list[dict[str, np.ndarray]]:
    manifest = store.get_json(object_keys.manifest_key(job_id))
    out = []
    for entry in manifest["chunks"][stream]:
        data = store.get_bytes(entry["key"])
        assert checksum(data) == entry["checksum"]
        out.append(decode_chunk(data))
    return out


def test_schedule_chunks_and_record_points():
    schedule = Schedule(total=45, chunk=20, probe_every=10, eval_every=20, features_every=0)
    assert schedule.chunk_ranges(0) == [(0, 19), (20, 39), (40, 44)]
    assert schedule.chunk_ranges(20) == [(20, 39), (40, 44)]
    assert schedule.record_points(0, 19, 10) == [0, 10, 20]
    assert schedule.record_points(40, 44, 20) == [45]  # the final state is always recorded
    assert schedule.record_points(0, 19, 0) == []


def test_job_streams_every_iteration_and_the_records(local_store, sent):
    job_id = _submit(local_store)
    run_training_job(local_store, job_id, settings=TrainerSettings(chunk_iterations=20))

    record = JobRepository(local_store, "experiment").get(job_id)
    assert record.status is JobStatus.succeeded and record.attempts == 1
    assert record.progress.done == 45 and record.progress.rate > 0
    assert sent == [(celery_app.ANALYZE_EXPERIMENT, job_id)]

    sampled = _chunks(local_store, job_id, "sampled")
    assert [len(c["iteration"]) for c in sampled] == [20, 20, 5]
    iteration = np.concatenate([c["iteration"] for c in sampled])
    assert iteration.tolist() == list(range(45))
    for chunk in sampled:
        # class_sum is the per-label sum over trials of the logged logits (exact Xbar numerator).
        one_hot = np.eye(3)[chunk["label"]]
        np.testing.assert_allclose(chunk["class_sum"], np.einsum("nrk,nrj->nkj", one_hot, chunk["logits"]), rtol=1e-6)
        assert chunk["logits"].dtype == np.float32 and chunk["logits"].shape[1:] == (3, 3)
        assert ((chunk["index"] >= 0) & (chunk["index"] < 18)).all()

    probe_t = np.concatenate([c["iteration"] for c in _chunks(local_store, job_id, "probe")])
    eval_t = np.concatenate([c["iteration"] for c in _chunks(local_store, job_id, "eval")])
    feature_chunks = _chunks(local_store, job_id, "features")
    assert probe_t.tolist() == [0, 10, 20, 30, 40, 45]
    assert eval_t.tolist() == [0, 20, 40, 45]
    assert np.concatenate([c["iteration"] for c in feature_chunks]).tolist() == [0, 30, 45]
    assert feature_chunks[0]["features"].shape[:3] == (1, 3, 6) and feature_chunks[0]["features"].dtype == np.float32
    assert feature_chunks[0]["probe_label"].tolist() == [0, 0, 1, 1, 2, 2]


def test_job_records_the_dataset_generator_version(local_store, sent):
    from lesde_trainer.datasets.geomnist import GENERATOR_VERSION

    body = {**TINY, "training": {**TINY["training"], "iterations": 3, "trials": 1}}
    job_id = _submit(local_store, body)
    run_training_job(local_store, job_id, settings=TrainerSettings(chunk_iterations=20))
    manifest = local_store.get_json(object_keys.manifest_key(job_id))
    assert manifest["dataset"] == {"name": "geomnist", "generator_version": GENERATOR_VERSION}


def test_interrupted_job_resumes_with_identical_chunks(local_store, tmp_path, sent, monkeypatch):
    reference_store = LocalStore(tmp_path / "reference")
    reference = _submit(reference_store)
    run_training_job(reference_store, reference, settings=TrainerSettings(chunk_iterations=20))

    job_id = _submit(local_store)
    report = training._report_progress

    def crash_after_first_chunk(*args, **kwargs):
        report(*args, **kwargs)
        raise SystemExit("simulated crash")  # not an Exception: the job must not mark itself failed

    monkeypatch.setattr(training, "_report_progress", crash_after_first_chunk)
    with pytest.raises(SystemExit):
        run_training_job(local_store, job_id, settings=TrainerSettings(chunk_iterations=20))
    assert JobRepository(local_store, "experiment").get(job_id).status is JobStatus.running
    monkeypatch.setattr(training, "_report_progress", report)
    run_training_job(local_store, job_id, settings=TrainerSettings(chunk_iterations=20))  # the redelivery

    assert JobRepository(local_store, "experiment").get(job_id).attempts == 2
    assert local_store.get_json(object_keys.manifest_key(job_id))["dataset"]["generator_version"] is not None
    for stream in object_keys.STREAMS:
        ours = {
            e["key"].rsplit("/", 1)[-1]: e["checksum"] for e in local_store.get_json(object_keys.manifest_key(job_id))["chunks"][stream]
        }
        theirs = {
            e["key"].rsplit("/", 1)[-1]: e["checksum"]
            for e in reference_store.get_json(object_keys.manifest_key(reference))["chunks"][stream]
        }
        assert ours == theirs, stream


def test_cancel_stops_within_one_chunk(local_store, sent):
    body = {**TINY, "training": {**TINY["training"], "iterations": 200_000}}
    job_id = _submit(local_store, body)
    repo = JobRepository(local_store, "experiment")
    worker = threading.Thread(
        target=run_training_job, args=(local_store, job_id), kwargs={"settings": TrainerSettings(chunk_iterations=50)}
    )
    worker.start()
    deadline = time.monotonic() + 60
    while repo.get(job_id).progress.done == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    repo.request_cancel(job_id)
    asked_at = repo.get(job_id).progress.done
    worker.join(timeout=60)
    record = repo.get(job_id)
    assert record.status is JobStatus.cancelled
    assert record.progress.done <= asked_at + 100  # the chunk in flight, and at most one more
    assert sent == []  # no analysis of a cancelled run


def test_cancelled_before_start_never_trains(local_store, sent):
    job_id = _submit(local_store)
    JobRepository(local_store, "experiment").request_cancel(job_id)
    run_training_job(local_store, job_id)
    assert not local_store.exists(object_keys.manifest_key(job_id))


def test_missing_cifar_directory_fails_the_job_with_the_path(local_store, tmp_path, sent):
    body = {
        "dataset": {"name": "cifar10", "classes": ["cat", "dog"], "train_per_class": 4, "val_per_class": 2},
        "training": {"iterations": 5, "trials": 1, "probe_per_class": 1},
    }
    job_id = _submit(local_store, body)
    run_training_job(local_store, job_id, settings=TrainerSettings(data_dir=tmp_path / "nowhere"))
    record = JobRepository(local_store, "experiment").get(job_id)
    assert record.status is JobStatus.failed
    assert "cifar-10-batches-py" in record.error and str(tmp_path / "nowhere") in record.error
    assert not local_store.exists(object_keys.manifest_key(job_id))


def test_shared_class_lists_match_the_loaders():
    from lesde_trainer.datasets import DATASET_CLASSES as LOADER_CLASSES

    assert {name: tuple(classes) for name, classes in LOADER_CLASSES.items()} == dict(DATASET_CLASSES)


def test_per_class_batching_logs_one_row_per_class_and_step(local_store, sent):
    body = {**TINY, "training": {**TINY["training"], "batching": "per_class", "iterations": 12}}
    job_id = _submit(local_store, body)
    run_training_job(local_store, job_id, settings=TrainerSettings(chunk_iterations=20))
    (chunk,) = _chunks(local_store, job_id, "sampled")
    assert chunk["label"].shape == (12, 3, 3) and chunk["logits"].shape == (12, 3, 3, 3)
    assert (chunk["class_count"] == 3).all()  # every step: one sample of each class in each of 3 trials
    np.testing.assert_allclose(chunk["class_sum"][:, 1], chunk["logits"][:, :, 1].sum(axis=1), rtol=1e-6)


def test_shared_dataset_sizes_match_the_data():
    from lesde_contract.specs.experiment import DIGITS_PER_CLASS
    from sklearn.datasets import load_digits

    assert np.bincount(load_digits().target).min() == DIGITS_PER_CLASS


def test_training_accuracy_subset_follows_the_spec():
    from lesde_trainer.setup import build_engine

    spec = ExperimentSpec.model_validate(
        {"dataset": {"train_per_class": 10, "val_per_class": 2}, "training": {"trials": 1, "train_eval_samples": 7}}
    )
    setup = build_engine(spec, TrainerSettings())
    expected = np.linspace(0, 29, 7).round().astype(int)
    np.testing.assert_array_equal(setup.train_eval_x, setup.data.x_train[expected])
    np.testing.assert_array_equal(setup.train_eval_y, setup.data.y_train[expected])
    everything = ExperimentSpec.model_validate(
        {"dataset": {"train_per_class": 10, "val_per_class": 2}, "training": {"trials": 1, "train_eval_samples": 500}}
    )
    assert len(build_engine(everything, TrainerSettings()).train_eval_y) == 30


@pytest.mark.parametrize("broker_up", [True, False])
def test_a_failed_sweep_child_asks_for_the_sweep_analysis_best_effort(local_store, tmp_path, sent, monkeypatch, broker_up):
    body = {
        "dataset": {"name": "cifar10", "classes": ["cat", "dog"], "train_per_class": 4, "val_per_class": 2},
        "training": {"iterations": 5, "trials": 1, "probe_per_class": 1},
    }
    job_id = _submit(local_store, body)
    repo = JobRepository(local_store, "experiment")
    repo.update(job_id, lambda record: setattr(record, "sweep_id", "5eed5eed5eed5eed"))
    if not broker_up:
        monkeypatch.setattr(celery_app, "send", lambda *args: (_ for _ in ()).throw(ConnectionError("broker down")))
    run_training_job(local_store, job_id, settings=TrainerSettings(data_dir=tmp_path / "nowhere"))
    assert repo.get(job_id).status is JobStatus.failed
    assert sent == ([(celery_app.ANALYZE_SWEEP, "5eed5eed5eed5eed")] if broker_up else [])


def test_progress_is_reported_within_a_chunk_before_it_is_stored(local_store, sent, monkeypatch):
    """One chunk of 1,000 iterations: at least 3 increasing progress reports, each with a rate,
    before the chunk is written; the chunks are those of a run without the reports."""
    events: list[tuple] = []
    report = training._report_progress

    def spy_report(repo, job_id, holder, *, done, total, rate, trials):
        events.append(("progress", done, rate))
        return report(repo, job_id, holder, done=done, total=total, rate=rate, trials=trials)

    put = training.ChunkWriter.put

    def spy_put(self, stream, first, last, arrays):
        events.append(("chunk", stream, last))
        return put(self, stream, first, last, arrays)

    monkeypatch.setattr(training, "_report_progress", spy_report)
    monkeypatch.setattr(training.ChunkWriter, "put", spy_put)
    # 24 trials: enough work (about a second) for several reports at any speed this engine reaches
    body = {
        "dataset": TINY["dataset"],
        "training": TINY["training"] | {"iterations": 1000, "trials": 24, "eval_every": 500, "probe_every": 500, "features_every": 0},
    }
    job_id = _submit(local_store, body)
    run_training_job(local_store, job_id, settings=TrainerSettings(chunk_iterations=1000, progress_every_s=0.05))
    # the reports split train() into pieces; the chunk is what one call per record point stores
    reference = _submit(local_store, body)
    monkeypatch.setattr(training, "_report_progress", report)
    run_training_job(
        local_store, reference, settings=TrainerSettings(chunk_iterations=1000, progress_every_s=3600)
    )  # other pieces: a first of 10, then the rest
    for stream in ("sampled", "probe", "eval"):
        for mine, theirs in zip(_chunks(local_store, job_id, stream), _chunks(local_store, reference, stream)):
            assert all(np.array_equal(mine[name], theirs[name]) for name in mine if name != "iteration"), stream
    before = [event for event in events[: next(i for i, e in enumerate(events) if e[0] == "chunk")] if event[0] == "progress"]
    dones = [done for _, done, _ in before]
    assert len(dones) >= 3 and dones == sorted(set(dones)) and all(rate > 0 for _, _, rate in before), events[:10]
    assert JobRepository(local_store, "experiment").get(job_id).progress.done == 1000

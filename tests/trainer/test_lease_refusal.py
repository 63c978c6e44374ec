"""A second delivery of a training task while the first still runs is refused by the job's
lease: it writes nothing, and the first run goes on (in-process, on a real local store;
the two deliveries are two threads, as two workers would be two processes)."""

from __future__ import annotations

import threading
import time

import pytest
from lesde_contract.records import JobStatus
from lesde_contract.specs import ExperimentSpec
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.settings import LeaseSettings, TrainerSettings
from lesde_trainer.training_job import run_training_job

LONG = {
    "dataset": {"train_per_class": 6, "val_per_class": 3, "seed": 4},
    "training": {"iterations": 200_000, "trials": 2, "eval_every": 1000, "probe_every": 1000, "probe_per_class": 2, "seed": 9},
}
LEASES = LeaseSettings(lease_settle_seconds=0)


@pytest.fixture
def writes_by_thread(local_store, monkeypatch):
    """Every store write, with the id of the thread that made it."""
    writes: list[tuple[int, str, str]] = []
    for method in ("put_bytes", "put_json", "put_file", "delete", "delete_prefix"):
        original = getattr(local_store, method)

        def recording(key, *args, _original=original, _method=method, **kwargs):
            writes.append((threading.get_ident(), _method, key))
            return _original(key, *args, **kwargs)

        monkeypatch.setattr(local_store, method, recording)
    return writes


def test_a_second_delivery_while_the_first_trains_writes_nothing(local_store, writes_by_thread, monkeypatch):
    monkeypatch.setattr(celery_app, "send", lambda *_args: None)  # no broker here: no analysis is sent
    spec = ExperimentSpec.model_validate(LONG)
    repo = JobRepository(local_store, "experiment")
    job_id = repo.create(spec=spec.model_dump(mode="json"), owner="t", name=None, total=spec.training.iterations, unit="iterations").id

    first = threading.Thread(
        target=run_training_job, args=(local_store, job_id), kwargs={"settings": TrainerSettings(chunk_iterations=50), "leases": LEASES}
    )
    first.start()
    deadline = time.monotonic() + 60
    while repo.get(job_id).progress.done == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    holder = repo.get(job_id).lease.holder
    try:
        written_before = len(writes_by_thread)
        run_training_job(local_store, job_id, settings=TrainerSettings(chunk_iterations=50), leases=LEASES)  # the duplicate
        record = repo.get(job_id)
        assert [write for write in writes_by_thread[written_before:] if write[0] == threading.get_ident()] == []
        assert record.status is JobStatus.running and record.lease.holder == holder and record.attempts == 1
    finally:
        repo.request_cancel(job_id)
        first.join(timeout=60)
    assert repo.get(job_id).status is JobStatus.cancelled  # the first run carried on until told to stop


def test_progress_of_a_worker_whose_job_was_requeued_is_not_written_back(local_store):
    """The reaper requeued the job while its worker was stuck (a store outage past its lease);
    the worker's late progress write must not put the record back to running under its old lease."""
    from datetime import timedelta

    from lesde_contract.records import utcnow
    from lesde_runtime.job_repository import LeaseLost
    from lesde_runtime.leases import new_lease
    from lesde_trainer.training_job import _report_progress

    repo = JobRepository(local_store, "experiment")
    record = repo.create(
        spec=ExperimentSpec.model_validate(LONG).model_dump(mode="json"), owner="ana", name=None, total=200_000, unit="iterations"
    )
    lease = new_lease(utcnow() - timedelta(minutes=10), LEASES)  # long expired
    repo.mark_running(record.id, lease=lease)
    assert repo.settle_lost(record.id, lease.holder, JobStatus.queued, now=utcnow()) is not None  # the reaper's requeue
    with pytest.raises(LeaseLost):
        _report_progress(repo, record.id, lease.holder, done=500, total=200_000, rate=100.0, trials=2)
    after = repo.get(record.id)
    assert after.status is JobStatus.queued and after.lease is None and after.progress.done == 0

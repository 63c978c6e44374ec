"""No lost update: writers in separate processes (and threads) update one job record at once
through JobRepository.update, and every change lands. On the test stack's SeaweedFS (its
conditional PUTs), on the local store (flock), and on an S3 server that ignores conditions
(the Redis lock of the fallback)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lesde_contract.object_store import ObjectStore
from lesde_contract.records import JobStatus, utcnow
from lesde_runtime.job_repository import JobRepository, LeaseLost
from lesde_runtime.leases import new_lease
from lesde_runtime.settings import LeaseSettings
from lesde_runtime.storage.local import LocalStore
from lesde_runtime.storage.s3 import S3Store

if TYPE_CHECKING:
    from tests.conftest import S3TestSettings

REPO = Path(__file__).resolve().parents[2]
N = 40  # increments per writer
START_TIMEOUT_S = 60.0
FAST = LeaseSettings(lease_seconds=30, heartbeat_seconds=10, lease_settle_seconds=0)


def _job(store: ObjectStore) -> str:
    return JobRepository(store, "experiment").create(spec={}, owner="t", name=None, total=2 * N, unit="iterations").id


def _race(config: dict[str, Any], tmp_path: Path, writers: int = 2) -> list[dict[str, Any]]:
    """Start ``writers`` processes of tests.fixtures.record_writers, let them go at once, return what each printed."""
    go = tmp_path / "go"
    processes, ready = [], []
    for i in range(writers):
        ready.append(tmp_path / f"ready-{i}")
        settings = json.dumps(config | {"n": N, "ready": str(ready[-1]), "go": str(go)})
        processes.append(
            subprocess.Popen([sys.executable, "-m", "tests.fixtures.record_writers", settings], cwd=REPO, stdout=subprocess.PIPE, text=True)
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while not all(path.exists() for path in ready):
        assert time.monotonic() < deadline and all(process.poll() is None for process in processes), "a writer did not start"
        time.sleep(0.01)
    go.touch()
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0] * writers
    return [json.loads(output.strip().splitlines()[-1]) for output in outputs]


@pytest.fixture
def s3_bucket(s3_settings: S3TestSettings) -> Iterator[S3Store]:
    store = S3Store(
        endpoint=s3_settings.endpoint,
        access_key=s3_settings.access_key,
        secret_key=s3_settings.secret_key,
        bucket=f"lesde-t-{uuid.uuid4().hex[:8]}",
    )
    yield store
    store.delete_prefix("")
    store.client.remove_bucket(store.bucket)


def _s3_config(store: S3Store, s3_settings: S3TestSettings, job_id: str) -> dict[str, Any]:
    return {
        "store": "s3",
        "endpoint": s3_settings.endpoint,
        "access_key": s3_settings.access_key,
        "secret_key": s3_settings.secret_key,
        "bucket": store.bucket,
        "job_id": job_id,
    }


def test_two_processes_lose_no_update_on_seaweedfs(s3_bucket: S3Store, s3_settings: S3TestSettings, tmp_path: Path) -> None:
    job_id = _job(s3_bucket)
    reports = _race(_s3_config(s3_bucket, s3_settings, job_id), tmp_path)
    assert JobRepository(s3_bucket, "experiment").get(job_id).progress.done == 2 * N
    assert all(report["honours_conditions"] is True and report["locks_taken"] == 0 for report in reports)
    print("compare-and-swaps lost and retried:", [report["conflicts"] for report in reports])


def test_two_processes_lose_no_update_on_the_local_store(local_store: LocalStore, tmp_path: Path) -> None:
    job_id = _job(local_store)
    reports = _race({"store": "local", "root": str(local_store.root), "job_id": job_id}, tmp_path)
    assert JobRepository(local_store, "experiment").get(job_id).progress.done == 2 * N
    print("compare-and-swaps lost and retried:", [report["conflicts"] for report in reports])


def test_where_the_server_ignores_conditions_the_redis_lock_loses_no_update(
    s3_bucket: S3Store, s3_settings: S3TestSettings, redis_url: str, tmp_path: Path
) -> None:
    job_id = _job(s3_bucket)
    config = _s3_config(s3_bucket, s3_settings, job_id) | {"ignore_conditions": True, "redis_url": redis_url}
    reports = _race(config, tmp_path)
    assert JobRepository(s3_bucket, "experiment").get(job_id).progress.done == 2 * N
    # the probe found the conditions ignored, and every write went through the lock
    assert all(report["honours_conditions"] is False and report["locks_taken"] >= N for report in reports)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    return request.getfixturevalue(f"{request.param}_store")


def test_heartbeats_and_progress_of_two_threads_both_land(store: ObjectStore) -> None:
    """A worker's heartbeat thread and its job thread write one record; before compare-and-swap
    they were kept apart by a lock of one repository object only (two processes lost updates)."""
    job_id = _job(store)
    lease = new_lease(utcnow(), FAST)
    JobRepository(store, "experiment").mark_running(job_id, lease=lease)
    beats, progress = JobRepository(store, "experiment"), JobRepository(store, "experiment")

    def heartbeat() -> None:
        for i in range(1, N + 1):
            beats.renew_lease(job_id, lease.holder, now=lease.heartbeat_at + timedelta(seconds=i), lease_seconds=30)

    def report() -> None:
        for done in range(1, N + 1):
            progress.record_progress(job_id, lease.holder, done=done, total=2 * N, rate=1.0, eta_seconds=None)

    threads = [threading.Thread(target=heartbeat), threading.Thread(target=report)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    record = beats.get(job_id)
    assert record.progress.done == N and record.lease.heartbeat_at == lease.heartbeat_at + timedelta(seconds=N)


def test_a_requeue_and_a_late_progress_write_never_both_land(local_store: LocalStore) -> None:
    """The reaper requeues a job whose lease expired while its worker, stuck, writes progress:
    whichever write comes second sees the first one's record, and the predicate refuses it."""
    repo = JobRepository(local_store, "experiment")
    job_id = _job(local_store)
    lease = new_lease(utcnow() - timedelta(minutes=5), FAST)  # long expired
    repo.mark_running(job_id, lease=lease)
    assert repo.settle_lost(job_id, lease.holder, JobStatus.queued, now=utcnow()) is not None
    with pytest.raises(LeaseLost):
        repo.record_progress(job_id, lease.holder, done=10, total=2 * N, rate=1.0, eta_seconds=None)
    assert repo.settle_lost(job_id, lease.holder, JobStatus.queued, now=utcnow()) is None  # a second reaper writes nothing
    record = repo.get(job_id)
    assert record.status is JobStatus.queued and record.progress.done == 0


def test_of_two_workers_claiming_a_job_at_once_exactly_one_runs_it(store: ObjectStore) -> None:
    """Before compare-and-swap both claims could land (the later one won, and each worker had
    to re-read after lease_settle_seconds to learn it); now the second claim is refused."""
    for _round in range(5):
        job_id = _job(store)
        start, claimed = threading.Barrier(2), []

        def claim(job_id: str = job_id, start: threading.Barrier = start, claimed: list = claimed) -> None:
            repo, lease = JobRepository(store, "experiment"), new_lease(utcnow(), FAST)
            start.wait()
            if repo.start(job_id, lease=lease) is not None:
                claimed.append(lease.holder)

        threads = [threading.Thread(target=claim) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        record = JobRepository(store, "experiment").get(job_id)
        assert len(claimed) == 1 and record.lease.holder == claimed[0] and record.attempts == 1


def test_a_delete_between_a_writers_read_and_its_write_is_not_undone(store: ObjectStore) -> None:
    from lesde_contract.records import JobRecord
    from lesde_runtime import tombstones
    from lesde_runtime.job_repository import JobNotFound
    from lesde_runtime.tombstones import JobDeleted

    repo = JobRepository(store, "experiment")
    job_id = _job(store)

    def deleted_meanwhile(record: JobRecord) -> None:
        tombstones.bury(store, "experiment", job_id)  # the gateway's delete lands after this writer's read
        repo.delete(job_id)
        record.progress.done = 1

    with pytest.raises(JobDeleted):
        repo.update(job_id, deleted_meanwhile)
    with pytest.raises(JobNotFound):
        repo.get(job_id)
    assert [info.key for info in store.list("index/") if info.key.endswith(job_id)] == []  # nor in any listing

"""A deleted job stays deleted: writers stop at the tombstone, a write racing the delete
removes itself, and what a dead writer left is purged after the delay."""

from __future__ import annotations

import numpy as np
import pytest
from lesde_contract import object_keys
from lesde_runtime import tombstones
from lesde_runtime.chunk_writer import ChunkWriter
from lesde_runtime.storage.local import LocalStore
from lesde_runtime.tombstones import JobDeleted

JOB = "abcdef0123456789"


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path)


def _job_keys(store, job_id=JOB):
    return [info.key for info in store.list(object_keys.job_prefix("experiment", job_id))]


def test_the_chunk_writer_stops_at_the_tombstone(store):
    writer = ChunkWriter(store, JOB)
    writer.put("sampled", 0, 9, {"iteration": np.arange(10)})
    tombstones.bury(store, "experiment", JOB)
    store.delete_prefix(object_keys.job_prefix("experiment", JOB))
    with pytest.raises(JobDeleted, match=f"experiment {JOB} was deleted"):
        writer.put("sampled", 10, 19, {"iteration": np.arange(10, 20)})
    with pytest.raises(JobDeleted):
        writer.commit(20, checkpoint={"iteration": 20})
    assert _job_keys(store) == []
    assert store.exists(object_keys.tombstone_key("experiment", JOB))  # it stays: later writers stop too


def test_a_write_that_races_the_delete_removes_itself(store):
    key = object_keys.manifest_key(JOB)

    def write_while_deleted() -> None:  # the delete lands between the writer's check and its write
        tombstones.bury(store, "experiment", JOB)
        store.put_json(key, {"late": True})

    with pytest.raises(JobDeleted):
        tombstones.guarded_write(store, "experiment", JOB, key, write_while_deleted)
    assert _job_keys(store) == []


def test_what_a_dead_writer_left_is_purged_after_the_delay(store):
    tombstones.bury(store, "experiment", JOB, now=1000.0)
    store.put_bytes(object_keys.chunk_key(JOB, "sampled", 0, 9), b"written by a writer that died before its second check")
    assert tombstones.purge_buried(store, now=1000.0 + 100, delay_s=150) == []  # a write may still land
    assert len(_job_keys(store)) == 1
    assert tombstones.purge_buried(store, now=1000.0 + 150, delay_s=150) == [f"experiment/{JOB}"]
    assert _job_keys(store) == [] and tombstones.is_buried(store, "experiment", JOB)
    assert tombstones.purge_buried(store, now=1e9, delay_s=150) == []  # done once, not on every pass


def test_the_purge_delay_outlasts_a_workers_store_retries():
    from lesde_runtime.settings import StoreRetrySettings

    settings = StoreRetrySettings(store_retry_seconds=60)
    assert tombstones.purge_delay_s(settings) > 60 + tombstones.REQUEST_TIMEOUT_S


def test_a_record_write_after_the_delete_does_not_bring_the_job_back(store):
    """A worker read the record before the delete and writes it back after (progress, a
    heartbeat, an analysis state): the write is refused and the job stays gone."""
    from lesde_contract.records import JobStatus
    from lesde_runtime.job_repository import JobNotFound, JobRepository

    repo = JobRepository(store, "experiment")
    record = repo.create(spec={"kind": "demo"}, owner="ana", name=None, total=10, unit="iterations")
    read_before = repo.get(record.id)
    tombstones.bury(store, "experiment", record.id)
    repo.delete(record.id)
    read_before.status = JobStatus.running
    with pytest.raises(JobDeleted):
        repo.save(read_before)
    with pytest.raises(JobNotFound):
        repo.get(record.id)
    assert repo.list()[1] == 0  # nor in the listing

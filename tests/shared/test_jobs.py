"""The job repository on a real (local-directory) store."""

import pytest
from lesde_contract import object_keys
from lesde_contract.records import JobStatus
from lesde_runtime.job_repository import JobConflict, JobNotFound, JobRepository
from lesde_runtime.storage.local import LocalStore


@pytest.fixture
def repo(tmp_path):
    return JobRepository(LocalStore(tmp_path / "store"), "experiment")


def _create(repo, owner="ada"):
    return repo.create(spec={"x": 1}, owner=owner, name=None, total=10, unit="iterations")


def test_create_get_and_spec(repo):
    record = _create(repo)
    assert repo.get(record.id).status is JobStatus.queued
    assert repo.get(record.id).progress.total == 10
    assert repo.get_spec(record.id) == {"x": 1}


def test_unknown_and_malformed_ids_are_not_found(repo):
    with pytest.raises(JobNotFound):
        repo.get("0123456789abcdef")
    with pytest.raises(JobNotFound):
        repo.get("../../etc")


def test_list_filters_paginates_newest_first(repo):
    created = [_create(repo, owner="ada" if i % 2 else "bob") for i in range(5)]
    repo.mark_running(created[0].id)
    page, count = repo.list(limit=2)
    assert count == 5 and [r.id for r in page] == [created[4].id, created[3].id]
    running, count = repo.list(status=JobStatus.running)
    assert count == 1 and running[0].id == created[0].id
    _, count = repo.list(owner="ada")
    assert count == 2


def test_cancel_queued_is_immediate_and_finished_conflicts(repo):
    record = _create(repo)
    assert repo.request_cancel(record.id).status is JobStatus.cancelled
    assert repo.cancel_requested(record.id)
    with pytest.raises(JobConflict, match="already cancelled"):
        repo.request_cancel(record.id)


def test_cancel_running_leaves_status_to_the_worker(repo):
    record = _create(repo)
    repo.mark_running(record.id)
    assert repo.request_cancel(record.id).status is JobStatus.running
    assert repo.cancel_requested(record.id)


def test_delete_removes_every_object_and_only_those(repo):
    keep, gone = _create(repo), _create(repo)
    repo.store.put_bytes(object_keys.chunk_key(gone.id, "sampled", 0, 9), b"chunk")
    assert repo.delete(gone.id) == 3
    assert list(repo.store.list(object_keys.job_prefix("experiment", gone.id))) == []
    with pytest.raises(JobNotFound):
        repo.get(gone.id)
    assert repo.get(keep.id).id == keep.id
    assert [r.id for r in repo.iter_all()] == [keep.id]

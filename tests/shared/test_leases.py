"""Leases: claim, heartbeat, refusal of a second delivery, takeover of a dead holder's job,
the attempt limit, and cancel of a job whose worker is gone (on a real local store; the
clock is passed in where expiry matters, so no test waits for a lease to run out)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from lesde_contract import object_keys
from lesde_contract.records import JobStatus, utcnow
from lesde_runtime.job_repository import JobRepository, LeaseLost
from lesde_runtime.leases import LeaseKeeper, hold_lease, holder_gone, new_lease
from lesde_runtime.settings import LeaseSettings

FAST = LeaseSettings(lease_seconds=30, heartbeat_seconds=10, lease_settle_seconds=0, max_attempts=2)


@pytest.fixture
def repo(local_store) -> JobRepository:
    return JobRepository(local_store, "experiment")


def _job(repo: JobRepository) -> str:
    return repo.create(spec={}, owner="t", name=None, total=100, unit="iterations").id


def _objects(repo: JobRepository, job_id: str) -> dict[str, bytes]:
    return {info.key: repo.store.get_bytes(info.key) for info in repo.store.list(object_keys.job_prefix("experiment", job_id))}


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_started_job_runs_under_its_lease_until_the_block_ends(repo):
    job_id = _job(repo)
    with hold_lease(repo, job_id, FAST) as keeper:
        assert keeper is not None
        record = repo.get(job_id)
        assert record.status is JobStatus.running and record.lease.holder == keeper.holder
        assert record.lease.pid == os.getpid() and record.attempts == 1
        assert keeper.confirm()
        repo.mark_finished(job_id, JobStatus.succeeded)
    assert repo.get(job_id).lease is None


def test_a_second_delivery_while_the_lease_is_live_is_refused_and_writes_nothing(repo):
    job_id = _job(repo)
    with hold_lease(repo, job_id, FAST) as first:
        before = _objects(repo, job_id)
        with hold_lease(repo, job_id, FAST) as second:
            assert second is None
        assert _objects(repo, job_id) == before
        assert repo.holds_lease(job_id, first.holder)


def test_a_job_left_running_by_an_ended_block_is_resumed_at_once(repo):
    job_id = _job(repo)
    with pytest.raises(SystemExit), hold_lease(repo, job_id, FAST):
        raise SystemExit  # the process goes down without recording an outcome
    record = repo.get(job_id)
    assert record.status is JobStatus.running and record.lease.expired(utcnow())  # released, not waiting 30 s
    with hold_lease(repo, job_id, FAST) as again:
        assert again is not None and repo.get(job_id).attempts == 2


def test_the_lease_of_a_dead_process_on_this_host_is_taken_over(repo):
    job_id = _job(repo)
    dead = new_lease(utcnow(), FAST).model_copy(update={"pid": _dead_pid()})
    assert holder_gone(dead)
    repo.mark_running(job_id, lease=dead)
    with hold_lease(repo, job_id, FAST) as keeper:
        assert keeper is not None and repo.get(job_id).lease.holder == keeper.holder


def test_a_live_lease_elsewhere_or_of_a_live_process_is_not_void():
    lease = new_lease(utcnow(), FAST)
    assert not holder_gone(lease.model_copy(update={"host": "another-host"}))
    assert not holder_gone(lease.model_copy(update={"pid": os.getppid()}))
    assert holder_gone(lease)  # this process, but no keeper here renews it: a task of ours that ended


def test_heartbeats_extend_the_lease_and_a_lost_lease_is_noticed_not_raised(repo):
    job_id = _job(repo)
    lease = new_lease(utcnow(), FAST)
    repo.mark_running(job_id, lease=lease)
    later = utcnow() + timedelta(seconds=20)
    keeper = LeaseKeeper(repo, job_id, lease, FAST, clock=lambda: later)
    keeper.beat()
    assert repo.get(job_id).lease.expires_at == later + timedelta(seconds=30)
    assert not keeper.lost

    repo.settle_lost(job_id, lease.holder, JobStatus.queued, now=later + timedelta(seconds=31))  # the reaper took it
    keeper.beat()
    assert keeper.lost
    assert repo.get(job_id).status is JobStatus.queued and repo.get(job_id).lease is None  # the beat wrote nothing


def test_a_heartbeat_that_cannot_reach_the_store_never_raises(repo, monkeypatch):
    job_id = _job(repo)
    lease = new_lease(utcnow(), FAST)
    repo.mark_running(job_id, lease=lease)
    keeper = LeaseKeeper(repo, job_id, lease, FAST)

    def store_down(*_args, **_kwargs):
        raise ConnectionError("store down")

    monkeypatch.setattr(repo, "renew_lease", store_down)
    keeper.beat()
    assert not keeper.lost


def test_renewing_a_lease_someone_else_holds_raises_lease_lost(repo):
    job_id = _job(repo)
    repo.mark_running(job_id, lease=new_lease(utcnow(), FAST))
    with pytest.raises(LeaseLost):
        repo.renew_lease(job_id, "someone-else", now=utcnow(), lease_seconds=30)


def test_two_claims_at_the_same_moment_leave_one_runner(repo):
    # Both workers read the record before either wrote: both claim, the later write wins.
    job_id = _job(repo)
    first = new_lease(utcnow(), FAST)
    repo.start(job_id, lease=first)
    repo.mark_running(job_id, lease=new_lease(utcnow(), FAST))  # the other worker's claim lands after ours
    keeper = LeaseKeeper(repo, job_id, first, FAST)
    assert not keeper.confirm() and keeper.lost


def test_a_job_that_kills_its_worker_fails_after_max_attempts(repo):
    job_id = _job(repo)
    for _ in range(FAST.max_attempts):  # each start dies without progress, leaving its lease behind
        repo.start(job_id, lease=new_lease(utcnow(), FAST), holder_gone=lambda _lease: True, max_attempts=FAST.max_attempts)
        assert repo.get(job_id).status is JobStatus.running
    assert repo.start(job_id, lease=new_lease(utcnow(), FAST), holder_gone=lambda _lease: True, max_attempts=FAST.max_attempts) is None
    record = repo.get(job_id)
    assert record.status is JobStatus.failed and record.lease is None
    assert "started 2 times without progress" in record.error and "LESDE_MAX_ATTEMPTS=2" in record.error


def test_progress_between_starts_keeps_a_preempted_job_going(repo):
    job_id = _job(repo)
    for done in range(1, 6):  # five preemptions, each after a chunk
        assert repo.start(job_id, lease=new_lease(utcnow(), FAST), holder_gone=lambda _lease: True, max_attempts=FAST.max_attempts)
        repo.update(job_id, lambda record, done=done: setattr(record.progress, "done", done * 10))
    record = repo.get(job_id)
    assert record.status is JobStatus.running and record.attempts == 5 and record.stalled_attempts == 1


def test_cancel_of_a_job_whose_worker_is_gone_ends_it_at_once(repo):
    job_id = _job(repo)
    stale = new_lease(utcnow() - timedelta(seconds=60), FAST)  # expired 30 s ago
    repo.mark_running(job_id, lease=stale)
    assert repo.request_cancel(job_id).status is JobStatus.cancelled

    live = _job(repo)
    repo.mark_running(live, lease=new_lease(utcnow(), FAST))
    assert repo.request_cancel(live).status is JobStatus.running  # its worker stops within a chunk

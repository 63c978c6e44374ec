"""The reaper's pass on a real local store, with a fake clock, a fake sender and a census
given as data: no broker is needed (what the census reads from a real Redis is tested in
tests/integration/test_broker_census.py), and no test waits for a lease to expire."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from lesde_contract import object_keys
from lesde_contract.records import AnalysisState, JobRecord, JobStatus, utcnow
from lesde_contract.specs.analysis import DEFAULT_KEY
from lesde_runtime import celery_app
from lesde_runtime.analysis_state import read_run_state, write_run_state
from lesde_runtime.broker_census import Census
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.leases import new_lease
from lesde_runtime.reaper import ReapReport, reap_once
from lesde_runtime.settings import LeaseSettings

SETTINGS = LeaseSettings(
    lease_seconds=90,
    heartbeat_seconds=15,
    max_attempts=2,
    lost_message_grace_seconds=60,
    requeue_after_seconds=3600,
    analysis_time_limit_seconds=600,
    analysis_stale_seconds=900,
)
T0 = utcnow()


class Broker:
    """What the reaper sends, and the census it is shown."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []
        self.census = Census()

    def send(self, *message: object) -> None:
        self.sent.append(message)

    def holds(self, task: str, job_id: str) -> None:
        self.census.messages.add((task, job_id))


@pytest.fixture
def broker() -> Broker:
    return Broker()


@pytest.fixture
def experiments(local_store) -> JobRepository:
    return JobRepository(local_store, "experiment")


def _reap(store, broker: Broker, at: datetime, *, census: Census | None | str = "broker") -> ReapReport:
    return reap_once(store, now=at, send=broker.send, census=broker.census if census == "broker" else census, settings=SETTINGS)


def _job(repo: JobRepository, spec: dict | None = None) -> str:
    return repo.create(spec=spec or {}, owner="t", name=None, total=100, unit="iterations").id


def _running(repo: JobRepository, *, heartbeat_at: datetime = T0, done: int = 0) -> JobRecord:
    """A job a worker started at ``heartbeat_at`` (its lease expires 90 s later), ``done`` iterations in."""
    job_id = _job(repo)
    repo.mark_running(job_id, lease=new_lease(heartbeat_at, SETTINGS))
    return repo.update(job_id, lambda record: setattr(record.progress, "done", done))


def test_a_job_whose_lease_expired_is_requeued_with_its_progress_and_sent_again(experiments, broker):
    record = _running(experiments, done=40)
    report = _reap(experiments.store, broker, T0 + timedelta(seconds=91))
    assert report.requeued == [f"experiment {record.id}"]
    after = experiments.get(record.id)
    assert after.status is JobStatus.queued and after.lease is None and after.progress.done == 40
    assert broker.sent == [(celery_app.TRAIN_EXPERIMENT, record.id)]


def test_a_live_lease_is_left_alone(experiments, broker):
    record = _running(experiments)
    report = _reap(experiments.store, broker, T0 + timedelta(seconds=89))
    assert not report.acted and broker.sent == []
    assert experiments.get(record.id) == record


def test_a_job_that_stopped_heartbeating_max_attempts_times_without_progress_fails_with_the_reason(experiments, broker):
    record = _running(experiments)
    experiments.mark_running(record.id, lease=new_lease(T0, SETTINGS))  # second start, no progress
    report = _reap(experiments.store, broker, T0 + timedelta(seconds=91))
    assert report.failed == [f"experiment {record.id}"] and broker.sent == []
    after = experiments.get(record.id)
    assert after.status is JobStatus.failed and after.lease is None
    assert after.error.startswith("its worker stopped heartbeating 2 times without progress: killed, out of memory or lost")


def test_a_dead_job_with_a_cancel_asked_for_is_cancelled(experiments, broker):
    record = _running(experiments)
    experiments.store.put_bytes(object_keys.cancel_key("experiment", record.id), b"1")
    report = _reap(experiments.store, broker, T0 + timedelta(seconds=91))
    assert report.cancelled == [f"experiment {record.id}"] and broker.sent == []
    assert experiments.get(record.id).status is JobStatus.cancelled


def test_a_running_job_without_a_lease_is_left_alone(experiments, broker):
    job_id = _job(experiments)
    experiments.mark_running(job_id)  # an import, or a record from before leases
    assert not _reap(experiments.store, broker, T0 + timedelta(days=30)).acted


def test_a_queued_job_whose_message_is_held_is_left_alone(experiments, broker):
    job_id = _job(experiments)
    broker.holds(celery_app.TRAIN_EXPERIMENT, job_id)
    assert not _reap(experiments.store, broker, utcnow() + timedelta(hours=5)).acted


def test_a_queued_job_whose_message_is_lost_is_sent_again_once(experiments, broker):
    job_id = _job(experiments)
    assert not _reap(experiments.store, broker, utcnow() + timedelta(seconds=10)).acted  # being taken, perhaps
    later = utcnow() + timedelta(seconds=61)
    assert _reap(experiments.store, broker, later).resent == [f"experiment {job_id}"]
    assert broker.sent == [(celery_app.TRAIN_EXPERIMENT, job_id)]
    assert experiments.get(job_id).enqueued_at == later
    # The census of the next pass may not see the new message yet; it is not sent again.
    assert not _reap(experiments.store, broker, later + timedelta(seconds=15)).acted


def test_without_a_census_a_queued_job_is_sent_again_after_requeue_after_seconds(experiments, broker):
    job_id = _job(experiments)
    assert not _reap(experiments.store, broker, utcnow() + timedelta(minutes=30), census=None).acted
    assert _reap(experiments.store, broker, utcnow() + timedelta(minutes=61), census=None).resent == [f"experiment {job_id}"]


def test_each_kind_is_sent_to_its_own_task(local_store, broker):
    simulations = JobRepository(local_store, "simulation")
    experiments = JobRepository(local_store, "experiment")
    simulation = _running(simulations)
    imported = _job(experiments, spec={"kind": "import"})
    _reap(local_store, broker, utcnow() + timedelta(seconds=120))
    assert sorted(broker.sent) == sorted([(celery_app.RUN_SIMULATION, simulation.id), (celery_app.IMPORT_EXPERIMENT, imported)])


def _succeeded_with_analysis(repo: JobRepository, state: AnalysisState) -> str:
    job_id = _job(repo)
    repo.mark_finished(job_id, JobStatus.succeeded, analysis=state)
    return job_id


def test_an_analysis_that_was_never_sent_is_sent_again(experiments, broker):
    job_id = _succeeded_with_analysis(experiments, AnalysisState.queued)  # the broker was down as training ended
    report = _reap(experiments.store, broker, utcnow() + timedelta(seconds=61))
    assert report.analyses_resent == [f"experiment {job_id}"]
    assert broker.sent == [(celery_app.ANALYZE_EXPERIMENT, job_id)]
    assert read_run_state(experiments.store, job_id, DEFAULT_KEY)["state"] == "queued"


def test_a_pending_analysis_with_its_message_is_left_alone(experiments, broker):
    job_id = _succeeded_with_analysis(experiments, AnalysisState.queued)
    broker.holds(celery_app.ANALYZE_EXPERIMENT, job_id)
    assert not _reap(experiments.store, broker, utcnow() + timedelta(hours=1)).acted


def test_a_running_analysis_is_sent_again_only_once_no_analysis_could_still_run(experiments, broker):
    job_id = _succeeded_with_analysis(experiments, AnalysisState.running)
    write_run_state(experiments.store, job_id, DEFAULT_KEY, AnalysisState.running, {})
    assert not _reap(experiments.store, broker, utcnow() + timedelta(seconds=899)).acted
    assert _reap(experiments.store, broker, utcnow() + timedelta(seconds=901)).analyses_resent == [f"experiment {job_id}"]


def test_a_requeue_that_cannot_be_sent_is_reported_and_retried_by_the_census(experiments, broker):
    record = _running(experiments)

    def broker_down(*_message: object) -> None:
        raise ConnectionError("broker down")

    report = reap_once(experiments.store, now=T0 + timedelta(seconds=91), send=broker_down, census=Census(), settings=SETTINGS)
    assert report.errors == [f"experiment {record.id}"]
    assert experiments.get(record.id).status is JobStatus.queued  # no message: the next passes re-send it
    assert _reap(experiments.store, broker, T0 + timedelta(seconds=152)).resent == [f"experiment {record.id}"]


# -- analyses under a lease of their own ----------------------------------------------------------
def _analysis_held(
    repo: JobRepository, *, key: str = DEFAULT_KEY, options: dict | None = None, heartbeat_at: datetime = T0, pid: int | None = None
) -> str:
    """A succeeded experiment whose analysis (option set ``key``) runs under a lease taken at ``heartbeat_at``."""
    import json

    from lesde_runtime.analysis_leases import _body

    job_id = _succeeded_with_analysis(repo, AnalysisState.running)
    write_run_state(repo.store, job_id, key, AnalysisState.running, options or {})
    lease = new_lease(heartbeat_at, SETTINGS)
    # another host's analyzer unless a pid of this host is given: only its expiry can tell it is gone
    lease = lease.model_copy(update={"pid": pid} if pid is not None else {"host": "elsewhere"})
    repo.store.put_bytes(
        object_keys.analysis_lease_key(job_id, key), json.dumps(_body("experiment", job_id, key, options or {}, lease)).encode()
    )
    return job_id


def test_an_analysis_whose_lease_expired_is_queued_again_within_one_pass(experiments, broker):
    job_id = _analysis_held(experiments)
    assert not _reap(experiments.store, broker, T0 + timedelta(seconds=89), census=None).analyses_resent  # still held
    report = _reap(experiments.store, broker, T0 + timedelta(seconds=91), census=None)
    assert report.analyses_resent == [f"experiment {job_id}"] and broker.sent == [(celery_app.ANALYZE_EXPERIMENT, job_id)]
    assert read_run_state(experiments.store, job_id, DEFAULT_KEY)["state"] == "queued"
    assert experiments.get(job_id).analysis is AnalysisState.queued
    assert list(experiments.store.list(object_keys.ANALYSIS_LEASES_PREFIX)) == []  # dropped with the requeue


def test_an_analysis_whose_process_died_on_this_host_is_queued_again_at_once_with_its_options(experiments, broker):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    options = {"estimator": "I"}
    job_id = _analysis_held(experiments, key="0123456789abcdef", options=options, pid=int(dead.stdout))
    report = _reap(experiments.store, broker, T0 + timedelta(seconds=1), census=None)
    assert report.analyses_resent == [f"experiment {job_id}"]
    assert broker.sent == [(celery_app.ANALYZE_EXPERIMENT, job_id, options)]  # a non-default set is sent with its options


def test_a_lease_its_analysis_outlived_is_dropped_without_a_resend(experiments, broker):
    job_id = _analysis_held(experiments)
    write_run_state(experiments.store, job_id, DEFAULT_KEY, AnalysisState.succeeded, {})
    report = _reap(experiments.store, broker, T0 + timedelta(seconds=91), census=None)
    assert not report.analyses_resent and broker.sent == []
    assert list(experiments.store.list(object_keys.ANALYSIS_LEASES_PREFIX)) == []


def _sweep_analysis_held(store, *, state: AnalysisState) -> str:
    """A sweep whose cross-child analysis (record state ``state``) was leased by another host's analyzer at T0."""
    import json

    from lesde_runtime.analysis_leases import SWEEP_KEY, _body
    from lesde_runtime.analysis_state import set_record_analysis

    sweeps = JobRepository(store, "sweep")
    sweep_id = _job(sweeps)
    set_record_analysis(sweeps, sweep_id, state)
    lease = new_lease(T0, SETTINGS).model_copy(update={"host": "elsewhere"})
    store.put_bytes(
        object_keys.analysis_lease_key(sweep_id, SWEEP_KEY), json.dumps(_body("sweep", sweep_id, SWEEP_KEY, {}, lease)).encode()
    )
    return sweep_id


def test_a_sweep_analysis_whose_lease_expired_is_queued_again_as_a_sweep_analysis(local_store, broker):
    sweep_id = _sweep_analysis_held(local_store, state=AnalysisState.running)
    assert not _reap(local_store, broker, T0 + timedelta(seconds=89), census=None).analyses_resent  # still held
    report = _reap(local_store, broker, T0 + timedelta(seconds=91), census=None)
    assert report.analyses_resent == [f"sweep {sweep_id}"] and broker.sent == [(celery_app.ANALYZE_SWEEP, sweep_id)]
    assert JobRepository(local_store, "sweep").get(sweep_id).analysis is AnalysisState.queued
    assert list(local_store.list(object_keys.ANALYSIS_LEASES_PREFIX)) == []


def test_a_sweep_lease_its_analysis_outlived_is_dropped_without_a_resend(local_store, broker):
    _sweep_analysis_held(local_store, state=AnalysisState.succeeded)
    report = _reap(local_store, broker, T0 + timedelta(seconds=91), census=None)
    assert not report.analyses_resent and broker.sent == []
    assert list(local_store.list(object_keys.ANALYSIS_LEASES_PREFIX)) == []


def test_send_with_retry_rides_out_a_short_outage_and_gives_up_after_its_minute(monkeypatch):
    calls: list[tuple] = []
    outage = {"left": 3}

    def flaky(*message: object) -> None:
        calls.append(message)
        if outage["left"]:
            outage["left"] -= 1
            raise ConnectionError("broker down")

    now = [0.0]
    monkeypatch.setattr(celery_app, "send", flaky)
    celery_app.send_with_retry("t", "x", sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    assert len(calls) == 4 and now[0] == 0.5 + 1 + 2  # doubling pauses
    outage["left"] = 10**6
    now[0] = 0.0
    with pytest.raises(ConnectionError):
        celery_app.send_with_retry("t", "x", sleep=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    assert 50 <= now[0] <= 60  # it tried for about its minute, never past it


def test_an_import_whose_analyzer_died_is_sent_again_as_an_import(experiments, broker):
    """Imports run under a lease like training: an expired one sends the import task again."""
    job_id = _job(experiments, spec={"kind": "import"})
    experiments.mark_running(job_id, lease=new_lease(T0, SETTINGS).model_copy(update={"host": "elsewhere"}))
    report = _reap(experiments.store, broker, T0 + timedelta(seconds=91))
    assert report.requeued == [f"experiment {job_id}"] and broker.sent == [(celery_app.IMPORT_EXPERIMENT, job_id)]

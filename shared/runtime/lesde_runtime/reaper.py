"""The reaper: no job stays ``running`` or ``queued`` forever because a worker or a message was lost.

``python -m lesde_runtime.reaper`` runs :func:`reap_once` every ``LESDE_REAP_INTERVAL_SECONDS``
(one reaper per deployment is enough; two do no harm: each write is a compare-and-swap whose
predicate is checked on the record as it is replaced, :meth:`lesde_runtime.job_repository.JobRepository.update`,
so a job is requeued once, and never over a heartbeat that came in meanwhile).
Each pass, over experiments and simulations:

- a ``running`` job whose lease expired (its worker stopped heartbeating: killed, out of
  memory, host lost) goes back to ``queued`` with its progress kept, and its task is sent
  again: the next worker resumes from the checkpoint. After ``max_attempts`` starts in a
  row without progress it is ``failed`` with the reason instead, and with a cancel asked
  for it is ``cancelled``;
- a ``queued`` job the broker holds no message for (Redis restarted without its data; a
  send that failed) is sent again, once it has waited ``lost_message_grace_seconds``. The
  broker is asked by a census (:mod:`lesde_runtime.broker_census`); where none is possible, a job
  queued for ``requeue_after_seconds`` is sent again. A message sent twice is harmless:
  the lease refuses a second concurrent run and a finished job's task does nothing.

Every pass, also: an analysis whose analyzer is gone (:mod:`lesde_runtime.analysis_leases`: its
lease expired, or its process died on this host) is queued again.

Every ``full_scan_seconds``, also:

- the automatic analysis of a succeeded experiment that is still ``queued`` with no
  message for it, or ``running`` with no news for ``analysis_stale_seconds`` (longer than
  any analysis may run), is sent again;
- the listing index is repaired (:func:`lesde_runtime.job_index.heal`);
- deleted jobs are purged once more (:func:`lesde_runtime.tombstones.purge_buried`): what a writer
  that raced the delete left, where the gateway's delayed purge was lost with a restart.

A running job without a lease (a record from before leases; imports hold one since 2026-12) is left alone:
nothing tells whether its worker lives. :func:`reap_once` takes the clock, the sender and
the census as arguments, so it is tested without a broker.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from lesde_contract.object_store import ObjectStore
from lesde_contract.records import AnalysisState, JobKind, JobRecord, JobStatus, utcnow
from lesde_contract.specs.analysis import DEFAULT_KEY, AnalysisOptions

from lesde_runtime import celery_app, job_index, tombstones
from lesde_runtime.analysis_leases import drop_analysis_lease, iter_analysis_leases, lapsed
from lesde_runtime.analysis_state import read_run_state, set_record_analysis, write_run_state
from lesde_runtime.broker_census import Census, take_census
from lesde_runtime.job_repository import JobNotFound, JobRepository
from lesde_runtime.logs import configure_logging
from lesde_runtime.settings import LeaseSettings
from lesde_runtime.storage import make_store

log = logging.getLogger("lesde_runtime.reaper")

__all__ = ["ReapReport", "reap_once", "main"]

Send = Callable[..., None]  # celery_app.send: (task name, *args)

# Tasks that run a job (their first argument is its id), by which the census is asked.
JOB_TASKS = (celery_app.TRAIN_EXPERIMENT, celery_app.IMPORT_EXPERIMENT, celery_app.RUN_SIMULATION, celery_app.VALIDATE_DATASET)
REAPED_KINDS: tuple[JobKind, ...] = ("experiment", "simulation", "dataset")
_PAGE = 500


@dataclass
class ReapReport:
    """What one pass did, as ``"<kind> <id>"`` per job (analyses: the experiment's)."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    analyses_resent: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def acted(self) -> bool:
        return any((self.requeued, self.failed, self.cancelled, self.resent, self.analyses_resent, self.errors))

    def __str__(self) -> str:
        parts = [f"{name.replace('_', ' ')} {len(items)} ({', '.join(items)})" for name, items in vars(self).items() if items]
        return "; ".join(parts) or "nothing to do"


def reap_once(
    store: ObjectStore,
    *,
    now: datetime,
    send: Send,
    census: Census | None,
    settings: LeaseSettings,
    analyses: bool = True,
) -> ReapReport:
    """One pass (see the module docstring); ``census`` None: the broker allows none."""
    report = ReapReport()
    for kind in REAPED_KINDS:
        repo = JobRepository(store, kind)
        for record in _records(repo, JobStatus.running):
            _recover_if_lost(repo, record, now=now, send=send, settings=settings, report=report)
        for record in _records(repo, JobStatus.queued):
            _resend_if_message_lost(repo, record, now=now, send=send, census=census, settings=settings, report=report)
    _requeue_lapsed_analyses(store, now=now, send=send, report=report)
    if analyses:
        experiments = JobRepository(store, "experiment")
        for record in _records(experiments, JobStatus.succeeded):
            if record.analysis in (AnalysisState.queued, AnalysisState.running):
                _resend_analysis_if_lost(experiments, record, now=now, send=send, census=census, settings=settings, report=report)
    return report


def _records(repo: JobRepository, status: JobStatus) -> list[JobRecord]:
    """Every record with ``status``, read before any is changed (a change moves it to
    another listing); once each, though the index may list a job twice while a writer moves it."""
    found: dict[str, JobRecord] = {}
    offset = 0
    while True:
        page, total = repo.list(status=status, offset=offset, limit=_PAGE)
        offset += _PAGE
        found |= {record.id: record for record in page if record.status is status}
        if not page or offset >= total:
            return list(found.values())


def _task_of(repo: JobRepository, record: JobRecord) -> str:
    if record.kind == "simulation":
        return celery_app.RUN_SIMULATION
    if record.kind == "dataset":
        return celery_app.VALIDATE_DATASET
    return celery_app.IMPORT_EXPERIMENT if repo.get_spec(record.id).get("kind") == "import" else celery_app.TRAIN_EXPERIMENT


def _seconds_since(moment: datetime | None, now: datetime) -> float:
    return float("inf") if moment is None else (now - moment).total_seconds()


def _recover_if_lost(
    repo: JobRepository, record: JobRecord, *, now: datetime, send: Send, settings: LeaseSettings, report: ReapReport
) -> None:
    lease = record.lease
    if lease is None or not lease.expired(now):
        return
    name = f"{record.kind} {record.id}"
    silent = f"its worker stopped heartbeating at {lease.heartbeat_at.isoformat(timespec='seconds')}"
    try:
        cancel_asked = repo.cancel_requested(record.id)
        task = None if cancel_asked else _task_of(repo, record)
        settled = repo.settle_lost_as(record.id, lease.holder, lambda current: _lost_outcome(current, cancel_asked, settings), now=now)
        if settled is None:  # renewed, finished or taken over meanwhile
            return
        if settled.status is JobStatus.queued:
            assert task is not None
            send(task, record.id)  # after the write: the worker that takes it finds it queued
            log.warning("%s requeued at %d/%d %s: %s", name, settled.progress.done, settled.progress.total, settled.progress.unit, silent)
            report.requeued.append(name)
            return
        if settled.status is JobStatus.cancelled:
            log.warning("%s cancelled: a cancel was asked for and %s", name, silent)
            report.cancelled.append(name)
        else:
            log.warning("%s failed: %s", name, settled.error)
            report.failed.append(name)
        _tell_sweep(settled, send)
    except Exception as error:  # noqa: BLE001 - the reaper survives any error; the next pass tries again
        log.warning("%s: not recovered (%s: %s)", name, type(error).__name__, error)
        report.errors.append(name)


def _lost_outcome(record: JobRecord, cancel_asked: bool, settings: LeaseSettings) -> tuple[JobStatus, str | None]:
    """What becomes of a job whose worker is gone, judged on its record as it is replaced:
    cancelled if a cancel was asked for, failed after ``max_attempts`` starts without
    progress, else queued again (its progress kept)."""
    if cancel_asked:
        return JobStatus.cancelled, None
    if record.stalled_attempts_after_next_start() > settings.max_attempts:
        return JobStatus.failed, (
            f"its worker stopped heartbeating {record.stalled_attempts} times without progress: killed, out of memory or lost "
            f"(LESDE_MAX_ATTEMPTS={settings.max_attempts})"
        )
    return JobStatus.queued, None


def _message_lost(job_id: str, tasks: tuple[str, ...], waited: float, census: Census | None, settings: LeaseSettings) -> bool:
    """Whether the message of ``job_id`` (one of ``tasks``), sent ``waited`` seconds ago, is gone."""
    if census is None:
        return waited >= settings.requeue_after_seconds
    return waited >= settings.lost_message_grace_seconds and not any(census.has(task, job_id) for task in tasks)


def _resend_if_message_lost(
    repo: JobRepository, record: JobRecord, *, now: datetime, send: Send, census: Census | None, settings: LeaseSettings, report: ReapReport
) -> None:
    waited = _seconds_since(record.enqueued_at or record.created_at, now)
    if not _message_lost(record.id, JOB_TASKS, waited, census, settings):
        return
    name = f"{record.kind} {record.id}"
    try:
        task = _task_of(repo, record)
        if repo.mark_enqueued(record.id, now=now) is not None:  # before the send, and only if still queued
            send(task, record.id)
            log.warning("%s re-sent: queued %.0f s ago, the broker holds no message for it", name, waited)
            report.resent.append(name)
    except Exception as error:  # noqa: BLE001 - the reaper survives any error; the next pass tries again
        log.warning("%s: not re-sent (%s: %s)", name, type(error).__name__, error)
        report.errors.append(name)


def _resend_analysis_if_lost(
    repo: JobRepository, record: JobRecord, *, now: datetime, send: Send, census: Census | None, settings: LeaseSettings, report: ReapReport
) -> None:
    state = read_run_state(repo.store, record.id, DEFAULT_KEY) or {}
    news = max(filter(None, (record.finished_at, _parsed(state.get("updated_at")))), default=None)
    waited = _seconds_since(news, now)
    if record.analysis is AnalysisState.running:
        lost = waited >= settings.analysis_stale_seconds  # no analysis runs that long: its worker is gone
    else:
        lost = _message_lost(record.id, (celery_app.ANALYZE_EXPERIMENT,), waited, census, settings)
    if not lost:
        return
    name = f"experiment {record.id}"
    try:
        write_run_state(repo.store, record.id, DEFAULT_KEY, AnalysisState.queued, AnalysisOptions().model_dump(mode="json"))
        set_record_analysis(repo, record.id, AnalysisState.queued)
        send(celery_app.ANALYZE_EXPERIMENT, record.id)
        log.warning("%s: its analysis (%s, no news for %.0f s) re-sent", name, record.analysis.value, waited)
        report.analyses_resent.append(name)
    except Exception as error:  # noqa: BLE001 - the reaper survives any error; the next pass tries again
        log.warning("%s: analysis not re-sent (%s: %s)", name, type(error).__name__, error)
        report.errors.append(name)


def _requeue_lapsed_analyses(store: ObjectStore, *, now: datetime, send: Send, report: ReapReport) -> None:
    """Every pass: an analysis whose analyzer is gone (its lease expired, or its process died on
    this host) is queued again; a lease its run outlived (the outcome is recorded) is dropped."""
    repo = JobRepository(store, "experiment")
    for body in iter_analysis_leases(store):
        if not lapsed(body, now):
            continue
        if body.get("kind") == "sweep":
            _requeue_lapsed_sweep_analysis(store, body, send=send, report=report)
            continue
        job_id, key = body["job_id"], body["options_key"]
        name = f"experiment {job_id}"
        try:
            state = read_run_state(store, job_id, key)
            record = repo.get(job_id) if state is not None and state.get("state") == AnalysisState.running.value else None
        except JobNotFound:
            record = None
        try:
            if record is not None:
                write_run_state(store, job_id, key, AnalysisState.queued, body["options"])
                if key == DEFAULT_KEY and record.status.finished:
                    set_record_analysis(repo, job_id, AnalysisState.queued)
                send(celery_app.ANALYZE_EXPERIMENT, job_id, *([] if key == DEFAULT_KEY else [body["options"]]))
                log.warning("%s: its analysis (options %s) lost its analyzer (lease of %s); queued again", name, key, body["holder"])
                report.analyses_resent.append(name)
            drop_analysis_lease(store, job_id, key)
        except Exception as error:  # noqa: BLE001 - the reaper survives any error; the next pass tries again
            log.warning("%s: lapsed analysis not re-queued (%s: %s)", name, type(error).__name__, error)
            report.errors.append(name)


def _requeue_lapsed_sweep_analysis(store: ObjectStore, body: dict, *, send: Send, report: ReapReport) -> None:
    """A sweep's cross-child analysis whose analyzer is gone: queued again if the sweep still
    says ``running`` (else its outcome is recorded); the lease is dropped either way."""
    sweeps = JobRepository(store, "sweep")
    sweep_id = body["job_id"]
    name = f"sweep {sweep_id}"
    try:
        try:
            record = sweeps.get(sweep_id)
        except JobNotFound:
            record = None
        if record is not None and record.analysis is AnalysisState.running:
            set_record_analysis(sweeps, sweep_id, AnalysisState.queued)
            send(celery_app.ANALYZE_SWEEP, sweep_id)
            log.warning("%s: its analysis lost its analyzer (lease of %s); queued again", name, body["holder"])
            report.analyses_resent.append(name)
        drop_analysis_lease(store, sweep_id, body["options_key"])
    except Exception as error:  # noqa: BLE001 - the reaper survives any error; the next pass tries again
        log.warning("%s: lapsed analysis not re-queued (%s: %s)", name, type(error).__name__, error)
        report.errors.append(name)


def _parsed(moment: str | None) -> datetime | None:
    return datetime.fromisoformat(moment) if moment else None


def _tell_sweep(record: JobRecord, send: Send) -> None:
    """A sweep's child that ended here changes the sweep's table: ask for its analysis again."""
    if record.sweep_id is not None:
        try:
            send(celery_app.ANALYZE_SWEEP, record.sweep_id)
        except Exception as error:  # noqa: BLE001 - best effort: the next child to finish asks again
            log.warning("sweep %s: analysis not re-queued: %s", record.sweep_id, error)


# -- the process ---------------------------------------------------------------
def _census() -> Census | None:
    try:
        return take_census(celery_app.app)
    except Exception as error:  # noqa: BLE001 - best effort: the broker is down, its messages cannot be counted, nor sent
        log.warning("no census of the broker's messages this pass (%s: %s)", type(error).__name__, error)
        return None


def _passes(settings: LeaseSettings, stop: threading.Event) -> Iterator[bool]:
    """Yield once per interval until ``stop``: True when the pass is also a full scan."""
    last_full = float("-inf")
    while not stop.is_set():
        started = time.monotonic()
        full = started - last_full >= settings.full_scan_seconds
        if full:
            last_full = started
        yield full
        stop.wait(max(0.0, settings.reap_interval_seconds - (time.monotonic() - started)))


def main(argv: list[str] | None = None) -> int:
    """``python -m lesde_runtime.reaper [--once]``: reap every interval (or once) and log what was done."""
    argv = sys.argv[1:] if argv is None else argv
    configure_logging("reaper")  # LESDE_LOG_LEVEL and LESDE_LOG_FORMAT (lesde_runtime.logs)
    settings = LeaseSettings()
    store = make_store()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # as PID 1 in a container, SIGTERM is otherwise ignored
    log.info(
        "reaper started: every %.0f s, leases of %.0f s, %d attempts",
        settings.reap_interval_seconds,
        settings.lease_seconds,
        settings.max_attempts,
    )
    for full in _passes(settings, stop):
        try:
            report = reap_once(store, now=utcnow(), send=celery_app.send, census=_census(), settings=settings, analyses=full)
            log.log(logging.WARNING if report.acted else logging.DEBUG, "pass: %s", report)
            if full:
                healed = job_index.heal(store)
                purged = tombstones.purge_buried(store)
                log.info("full scan: listing index repaired (%s); deleted jobs purged again: %d", healed, len(purged))
        except Exception:  # a store outage: the next pass tries again
            log.exception("reaper pass failed")
        if "--once" in argv:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())

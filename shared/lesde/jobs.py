"""Job records in the object store: create, read, list, update, cancel, delete.

State lives in the store (not in Celery's result backend) so it survives a restart of
any service and is the same whether the broker is Redis or the embedded transport.
Only workers update a running job's ``status.json``; the API asks for a cancel by
writing a separate marker object, so the two never race on one object.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from lesde import job_index, keys, tombstones
from lesde.records import AnalysisState, JobKind, JobRecord, JobStatus, Lease, utcnow
from lesde.storage import ObjectNotFound, ObjectStore

log = logging.getLogger(__name__)


class JobNotFound(LookupError):
    def __init__(self, kind: str, job_id: str) -> None:
        super().__init__(f"no {kind} with id {job_id!r}")
        self.kind = kind
        self.job_id = job_id


class JobConflict(RuntimeError):
    """The job is in a state that does not allow the operation."""


class LeaseLost(RuntimeError):
    """The job no longer runs under this worker's lease: the reaper requeued it, another
    worker took it over, or it was finished or deleted meanwhile."""


def runs_under_lost_lease(record: JobRecord, now: datetime) -> bool:
    """Whether ``record`` is running under a lease that expired: its worker is gone."""
    return record.status is JobStatus.running and record.lease is not None and record.lease.expired(now)


def runs_under(record: JobRecord, holder: str) -> bool:
    """Whether ``record`` is running under the lease of ``holder``."""
    return record.status is JobStatus.running and record.lease is not None and record.lease.holder == holder


def new_job_id() -> str:
    """Random, URL-safe, lower-case id (sortable by nothing; created_at orders listings)."""
    return secrets.token_hex(8)


class JobRepository:
    def __init__(self, store: ObjectStore, kind: JobKind) -> None:
        self.store = store
        self.kind = kind
        # A worker's heartbeat thread and its job thread update one record through one
        # repository: each read-modify-write must not interleave with the other's.
        self._lock = threading.RLock()

    # -- reads -------------------------------------------------------------------
    def get(self, job_id: str) -> JobRecord:
        if not keys.ID_PATTERN.match(job_id):
            raise JobNotFound(self.kind, job_id)
        try:
            return JobRecord.model_validate(self.store.get_json(keys.status_key(self.kind, job_id)))
        except ObjectNotFound:
            raise JobNotFound(self.kind, job_id) from None

    def get_spec(self, job_id: str) -> dict[str, Any]:
        try:
            return self.store.get_json(keys.spec_key(self.kind, job_id))
        except ObjectNotFound:
            raise JobNotFound(self.kind, job_id) from None

    def iter_all(self) -> Iterator[JobRecord]:
        """Every stored record, read from the records themselves (O(stored jobs): not for requests)."""
        return job_index.stored_records(self.store, self.kind)

    def list(
        self, *, status: JobStatus | None = None, owner: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[JobRecord], int]:
        """Newest first; return ``(page, total matching)``. Reads the index and the page's
        records only (:mod:`lesde.job_index`)."""
        return job_index.page(self.store, self.kind, status=status, owner=owner, offset=offset, limit=limit)

    # -- writes ------------------------------------------------------------------
    def create(
        self, *, spec: dict[str, Any], owner: str, name: str | None, total: int, unit: str, sweep_id: str | None = None
    ) -> JobRecord:
        """Store the spec, then the record (``queued``): a record never exists without its spec."""
        record = JobRecord(id=new_job_id(), kind=self.kind, owner=owner, name=name, sweep_id=sweep_id)
        record.progress.total = total
        record.progress.unit = unit
        self.store.put_json(keys.spec_key(self.kind, record.id), spec)
        job_index.add(self.store, self.kind, record)  # a new id: nothing of it to move in the index
        self._put_record(record)
        return record

    def save(self, record: JobRecord) -> None:
        """Write the record; its index entries move with its status (every record write comes here).

        A job deleted meanwhile is not brought back: the write checks the job's tombstone
        before (also before the index entries) and after it, as
        :func:`lesde.tombstones.guarded_write` does, and raises
        :class:`~lesde.tombstones.JobDeleted`."""
        tombstones.check_alive(self.store, self.kind, record.id)  # before the index entries too
        try:
            with job_index.recording(self.store, self.kind, record):
                self._put_record(record)
                tombstones.confirm_written(self.store, self.kind, record.id, keys.status_key(self.kind, record.id))
        except tombstones.JobDeleted:
            job_index.forget(self.store, self.kind, record)  # the delete raced this write: its entries go too
            raise

    def _put_record(self, record: JobRecord) -> None:
        self.store.put_json(keys.status_key(self.kind, record.id), record.model_dump(mode="json"))

    def update(self, job_id: str, change: Callable[[JobRecord], None]) -> JobRecord:
        """Read, apply ``change`` in place, write back."""
        with self._lock:
            record = self.get(job_id)
            change(record)
            self.save(record)
            return record

    def mark_running(self, job_id: str, *, lease: Lease | None = None) -> JobRecord:
        def change(record: JobRecord) -> None:
            record.stalled_attempts = record.stalled_attempts_after_next_start()
            record.progress_at_start = record.progress.done
            record.status = JobStatus.running
            record.started_at = record.started_at or utcnow()
            record.attempts += 1
            record.error = None
            record.lease = lease

        return self.update(job_id, change)

    def start(
        self,
        job_id: str,
        *,
        lease: Lease | None = None,
        holder_gone: Callable[[Lease], bool] = lambda _lease: False,
        max_attempts: int | None = None,
    ) -> JobRecord | None:
        """A worker takes up the job: mark it running (under ``lease``, when given) and return
        it, or return ``None`` when there is nothing to do:

        - deleted, or already finished;
        - running under another worker's live lease (a second delivery of the same task):
          refused, nothing written. A lease that expired, or whose holder ``holder_gone``
          knows to be dead, is taken over: the job resumes;
        - cancelled while queued: then it is marked cancelled;
        - started ``max_attempts`` times in a row without progress (its worker died each
          time): then it is marked failed instead of killing one more worker.
        """
        try:
            record = self.get(job_id)
        except JobNotFound:
            log.warning("%s %s no longer exists; dropping its task", self.kind, job_id)
            return None
        if record.status.finished:
            log.info("%s %s already %s; nothing to do", self.kind, job_id, record.status.value)
            return None
        held = record.lease
        if lease is not None and record.status is JobStatus.running and held is not None and held.holder != lease.holder:
            if not held.expired(lease.heartbeat_at) and not holder_gone(held):
                log.warning(
                    "%s %s runs under the live lease of %s (until %s); this second delivery is refused",
                    self.kind, job_id, held.holder, held.expires_at.isoformat(),
                )
                return None
            log.info("%s %s: the lease of %s is void (expired or its process is gone); taking over", self.kind, job_id, held.holder)
        if self.cancel_requested(job_id):
            self.mark_finished(job_id, JobStatus.cancelled)
            return None
        if max_attempts is not None and record.stalled_attempts_after_next_start() > max_attempts:
            error = (
                f"started {record.stalled_attempts} times without progress and its worker stopped each time "
                f"(killed, out of memory or lost); not started again (LESDE_MAX_ATTEMPTS={max_attempts})"
            )
            log.warning("%s %s %s", self.kind, job_id, error)
            self.mark_finished(job_id, JobStatus.failed, error=error)
            return None
        return self.mark_running(job_id, lease=lease)

    def mark_finished(
        self, job_id: str, status: JobStatus, *, error: str | None = None, analysis: AnalysisState | None = None
    ) -> JobRecord:
        """Record the outcome (and, in the same write, the analysis state that follows it)."""

        def change(record: JobRecord) -> None:
            record.status = status
            record.finished_at = utcnow()
            record.error = error
            record.progress.eta_seconds = None
            record.lease = None
            if analysis is not None:
                record.analysis = analysis

        return self.update(job_id, change)

    def request_cancel(self, job_id: str) -> JobRecord:
        """Ask a job to stop. Queued jobs are cancelled at once, and so are running ones whose
        worker is gone (lease expired); others stop within one chunk."""
        record = self.get(job_id)
        if record.status.finished:
            raise JobConflict(f"{self.kind} {job_id} already {record.status.value}; only queued or running jobs can be cancelled")
        self.store.put_bytes(keys.cancel_key(self.kind, job_id), b"1", content_type="text/plain")
        if record.status is JobStatus.queued or runs_under_lost_lease(record, utcnow()):
            record = self.mark_finished(job_id, JobStatus.cancelled)
        return record

    def cancel_requested(self, job_id: str) -> bool:
        return self.store.exists(keys.cancel_key(self.kind, job_id))

    # -- leases and messages (lesde.leases keeps a worker's lease; lesde.reaper recovers lost ones)
    def holds_lease(self, job_id: str, holder: str) -> bool:
        """Whether the job still runs under the lease of ``holder``."""
        try:
            return runs_under(self.get(job_id), holder)
        except JobNotFound:
            return False

    def renew_lease(self, job_id: str, holder: str, *, now: datetime, lease_seconds: float) -> JobRecord:
        """Extend ``holder``'s lease to ``now + lease_seconds``; :class:`LeaseLost` (nothing
        written) if the job no longer runs under it."""

        def change(record: JobRecord) -> None:
            if not runs_under(record, holder):
                raise LeaseLost(f"{self.kind} {job_id} no longer runs under lease {holder} ({record.status.value})")
            record.lease = record.lease.model_copy(update={"heartbeat_at": now, "expires_at": now + timedelta(seconds=lease_seconds)})

        try:
            return self.update(job_id, change)
        except JobNotFound:
            raise LeaseLost(f"{self.kind} {job_id} was deleted") from None

    def release_lease(self, job_id: str, holder: str, *, now: datetime) -> None:
        """Let ``holder``'s lease expire now (its worker stops without finishing the job), so
        the job is resumed at once rather than after ``lease_seconds``."""

        def expire(record: JobRecord) -> None:
            record.lease = record.lease.model_copy(update={"expires_at": now})

        self._change_if(job_id, lambda record: runs_under(record, holder), expire)

    def settle_lost(self, job_id: str, holder: str, status: JobStatus, *, now: datetime, error: str | None = None) -> JobRecord | None:
        """Move a job whose worker (lease ``holder``) is gone to ``status``: back to ``queued``
        (its progress kept: the next worker resumes; the caller then sends its task, so no
        worker can be starting it during this write), or to a final status with ``error``.
        ``None``, nothing written, unless the job still runs under that expired lease."""

        def change(record: JobRecord) -> None:
            record.status = status
            record.lease = None
            record.progress.eta_seconds = None
            if status is JobStatus.queued:
                record.enqueued_at = now
            else:
                record.finished_at, record.error = now, error

        return self._change_if(job_id, lambda record: runs_under_lost_lease(record, now) and runs_under(record, holder), change)

    def mark_enqueued(self, job_id: str, *, now: datetime | None = None, reset_attempts: bool = False) -> JobRecord | None:
        """Record that the task of the queued job is about to be sent; ``None`` (nothing
        written) if the job is not queued. Called before the send, so that no worker writes
        the record meanwhile; ``reset_attempts`` for a send a user asked for (a submission,
        a retry), which gives the job ``max_attempts`` starts anew."""

        def change(record: JobRecord) -> None:
            record.enqueued_at = now or utcnow()
            if reset_attempts:
                record.stalled_attempts = 0

        return self._change_if(job_id, lambda record: record.status is JobStatus.queued, change)

    def _change_if(self, job_id: str, applies: Callable[[JobRecord], bool], change: Callable[[JobRecord], None]) -> JobRecord | None:
        """Apply ``change`` and write, if the record (read now) still ``applies``; else ``None``."""
        with self._lock:
            try:
                record = self.get(job_id)
            except JobNotFound:
                return None
            if not applies(record):
                return None
            change(record)
            self.save(record)
            return record

    def delete(self, job_id: str) -> int:
        """Remove the job and every object under it, then its index entries; return the
        number of the job's objects removed."""
        record = self.get(job_id)
        # status.json goes last so a half-finished delete still shows up (and can be retried).
        status = keys.status_key(self.kind, job_id)
        removed = 0
        for info in list(self.store.list(keys.job_prefix(self.kind, job_id))):
            if info.key != status:
                self.store.delete(info.key)
                removed += 1
        self.store.delete(status)
        self.store.delete_prefix(keys.job_prefix(self.kind, job_id))
        job_index.forget(self.store, self.kind, record)
        return removed + 1

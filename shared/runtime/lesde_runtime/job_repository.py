"""Job records in the object store: create, read, list, update, cancel, delete.

State lives in the store (not in Celery's result backend) so it survives a restart of
any service and is the same whether the broker is Redis or the embedded transport.

One write path: every change of a stored record goes through :meth:`JobRepository.update`,
a compare-and-swap. It reads the record with its version, returns ``None`` (nothing
written) when the caller's ``expect`` predicate does not hold, applies the change, and
writes the result only if the stored record is still at the version read
(:meth:`~lesde_contract.object_store.ObjectStore.put_if`); a writer that lost the race reads again
and retries (:class:`~lesde_runtime.optimistic.ConflictRetry`). So the gateway, a worker, its
heartbeat thread and the reaper, in any processes, never lose each other's updates, and
each rule of a job's life is a predicate checked against the record as it is when it is
replaced: a lease (:func:`runs_under`), a lost lease (:func:`runs_under_lost_lease`), a
status. A cancel is asked for by a separate marker object, which the worker reads
between chunks.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound, ObjectStore
from lesde_contract.records import AnalysisState, JobKind, JobRecord, JobStatus, Lease, utcnow

from lesde_runtime import job_index, tombstones
from lesde_runtime.optimistic import ConflictRetry

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
    def __init__(self, store: ObjectStore, kind: JobKind, *, conflicts: ConflictRetry | None = None) -> None:
        self.store = store
        self.kind = kind
        # No lock of this process: a worker's job thread and its heartbeat thread are
        # writers like any other, kept apart by the compare-and-swap of every write.
        self.conflicts = conflicts or ConflictRetry()

    # -- reads -------------------------------------------------------------------
    def get(self, job_id: str) -> JobRecord:
        if not object_keys.ID_PATTERN.match(job_id):
            raise JobNotFound(self.kind, job_id)
        try:
            return JobRecord.model_validate(self.store.get_json(object_keys.status_key(self.kind, job_id)))
        except ObjectNotFound:
            raise JobNotFound(self.kind, job_id) from None

    def _get_versioned(self, job_id: str) -> tuple[JobRecord, str]:
        """The record and the version of its object, for a compare-and-swap."""
        if not object_keys.ID_PATTERN.match(job_id):
            raise JobNotFound(self.kind, job_id)
        try:
            data, version = self.store.get_versioned(object_keys.status_key(self.kind, job_id))
        except ObjectNotFound:
            raise JobNotFound(self.kind, job_id) from None
        return JobRecord.model_validate(json.loads(data)), version

    def get_spec(self, job_id: str) -> dict[str, Any]:
        try:
            return self.store.get_json(object_keys.spec_key(self.kind, job_id))
        except ObjectNotFound:
            raise JobNotFound(self.kind, job_id) from None

    def iter_all(self) -> Iterator[JobRecord]:
        """Every stored record, read from the records themselves (O(stored jobs): not for requests)."""
        return job_index.stored_records(self.store, self.kind)

    def list(
        self, *, status: JobStatus | None = None, owner: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[JobRecord], int]:
        """Newest first; return ``(page, total matching)``. Reads the index and the page's
        records only (:mod:`lesde_runtime.job_index`)."""
        return job_index.page(self.store, self.kind, status=status, owner=owner, offset=offset, limit=limit)

    # -- the write path ----------------------------------------------------------
    def create(
        self, *, spec: dict[str, Any], owner: str, name: str | None, total: int, unit: str, sweep_id: str | None = None
    ) -> JobRecord:
        """Store the spec, then the record (``queued``): a record never exists without its spec.
        The record is written only if none exists under its (fresh, random) id."""
        record = JobRecord(id=new_job_id(), kind=self.kind, owner=owner, name=name, sweep_id=sweep_id)
        record.progress.total = total
        record.progress.unit = unit
        self.store.put_json(object_keys.spec_key(self.kind, record.id), spec)
        job_index.add(self.store, self.kind, record)  # a new id: nothing of it to move in the index
        self.store.put_if(object_keys.status_key(self.kind, record.id), _encoded(record), expect=None, content_type="application/json")
        return record

    def update(
        self, job_id: str, change: Callable[[JobRecord], None], *, expect: Callable[[JobRecord], bool] | None = None
    ) -> JobRecord | None:
        """Apply ``change`` to the stored record and write it back, as one compare-and-swap.

        Reads the record with its version; returns ``None``, nothing written, if
        ``expect(record)`` is false; else applies ``change`` (in place) and writes the
        result only if the stored record is still at the version read. A writer that lost
        the race reads again, checks ``expect`` again and changes the new record: ``change``
        may run more than once, each time on a fresh copy, so it must depend on nothing but
        the record it is given. Returns the record as written.

        Raises :class:`JobNotFound` (no record), :class:`~lesde_runtime.tombstones.JobDeleted` (the
        job was deleted: nothing is written back) and
        :class:`~lesde_runtime.optimistic.WriteContention` after too many lost races."""

        def attempt() -> JobRecord | None:
            record, version = self._get_versioned(job_id)
            if expect is not None and not expect(record):
                return None
            status_before = record.status
            change(record)
            self._write(record, version, moved=record.status is not status_before)
            return record

        return self.conflicts.run(attempt, key=object_keys.status_key(self.kind, job_id))

    def save(self, record: JobRecord) -> None:
        """Write ``record`` whole over whatever is stored, or create it: for setting records up
        and repairing them, not for changing one (that is :meth:`update`). It goes through the
        same compare-and-swap, so it never lands between another writer's read and write."""

        def attempt() -> None:
            try:
                stored, version = self._get_versioned(record.id)
            except JobNotFound:
                self._write(record, None, moved=True)
                return
            self._write(record, version, moved=stored.status is not record.status)

        self.conflicts.run(attempt, key=object_keys.status_key(self.kind, record.id))

    def _write(self, record: JobRecord, version: str | None, *, moved: bool) -> None:
        """Write ``record`` if its object is still at ``version`` (``None``: absent), its index
        entries moving with its status (``moved``: see :func:`lesde_runtime.job_index.recording`).

        A deleted job is never written back; :class:`~lesde_runtime.tombstones.JobDeleted` is raised.
        Why each check is there:

        - the tombstone before the write: a deleted job gets no index entries, and its writer
          learns that it was deleted (not merely that its record is missing);
        - the compare-and-swap: once the delete removed the record, a write expecting a
          version is refused (``put_if`` on a missing object), on every store. This alone
          stops the late writer that read the record before the delete;
        - the tombstone after the write: for the one whose compare comes just before the
          delete and whose write just after. The local store's ``flock`` and the fallback's
          Redis lock are not taken by deletes, and whether an S3 server checks a conditional
          PUT atomically with a concurrent DELETE is its implementation's affair (the probe
          cannot see it). One existence check finds the tombstone and removes the record
          again (:func:`lesde_runtime.tombstones.confirm_written`);
        - a write that met the tombstone takes its index entries with it.
        """
        key = object_keys.status_key(self.kind, record.id)
        tombstones.check_alive(self.store, self.kind, record.id)
        try:
            with job_index.recording(self.store, self.kind, record, moved=moved):
                self.store.put_if(key, _encoded(record), expect=version, content_type="application/json")
                tombstones.confirm_written(self.store, self.kind, record.id, key)
        except tombstones.JobDeleted:
            job_index.forget(self.store, self.kind, record)  # the delete raced this write: its entries go too
            raise

    def _change_if(self, job_id: str, applies: Callable[[JobRecord], bool], change: Callable[[JobRecord], None]) -> JobRecord | None:
        """:meth:`update` with ``expect=applies``, and ``None`` (not an error) for a record that is gone."""
        try:
            return self.update(job_id, change, expect=applies)
        except JobNotFound:
            return None

    def update_under_lease(self, job_id: str, holder: str, change: Callable[[JobRecord], None]) -> JobRecord:
        """:meth:`update` only while the job runs under the lease of ``holder``; :class:`LeaseLost`
        (nothing written) otherwise: the reaper requeued it, another worker took it over, or
        it was finished or deleted meanwhile. So a worker the reaper gave up on (stuck in a
        store outage past its lease) never writes its stale view back over the requeue."""
        try:
            record = self.update(job_id, change, expect=lambda current: runs_under(current, holder))
        except JobNotFound:
            raise LeaseLost(f"{self.kind} {job_id} was deleted") from None
        if record is None:
            raise LeaseLost(f"{self.kind} {job_id} no longer runs under lease {holder}")
        return record

    # -- a job's life --------------------------------------------------------------
    def mark_running(self, job_id: str, *, lease: Lease | None = None) -> JobRecord:
        """Mark the job running (under ``lease``) whatever it was; :meth:`start` is the checked way."""
        record = self.update(job_id, lambda current: _begin(current, lease))
        assert record is not None  # no expect: never refused
        return record

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

        One compare-and-swap: of two workers claiming the job at the same moment, one wins;
        the other reads again, finds the winner's live lease and is refused.
        """
        cancel_asked = self.cancel_requested(job_id)

        def claimable(record: JobRecord) -> bool:
            if record.status.finished:
                log.info("%s %s already %s; nothing to do", self.kind, job_id, record.status.value)
                return False
            held = record.lease
            if lease is not None and record.status is JobStatus.running and held is not None and held.holder != lease.holder:
                if not held.expired(lease.heartbeat_at) and not holder_gone(held):
                    log.warning(
                        "%s %s runs under the live lease of %s (until %s); this second delivery is refused",
                        self.kind,
                        job_id,
                        held.holder,
                        held.expires_at.isoformat(),
                    )
                    return False
                log.info("%s %s: the lease of %s is void (expired or its process is gone); taking over", self.kind, job_id, held.holder)
            return True

        def take_up(record: JobRecord) -> None:
            if cancel_asked:
                _finish(record, JobStatus.cancelled)
            elif max_attempts is not None and record.stalled_attempts_after_next_start() > max_attempts:
                error = (
                    f"started {record.stalled_attempts} times without progress and its worker stopped each time "
                    f"(killed, out of memory or lost); not started again (LESDE_MAX_ATTEMPTS={max_attempts})"
                )
                log.warning("%s %s %s", self.kind, job_id, error)
                _finish(record, JobStatus.failed, error=error)
            else:
                _begin(record, lease)

        try:
            record = self.update(job_id, take_up, expect=claimable)
        except JobNotFound:
            log.warning("%s %s no longer exists; dropping its task", self.kind, job_id)
            return None
        return record if record is not None and record.status is JobStatus.running else None

    def mark_finished(
        self,
        job_id: str,
        status: JobStatus,
        *,
        error: str | None = None,
        analysis: AnalysisState | None = None,
        holder: str | None = None,
    ) -> JobRecord:
        """Record the outcome (and, in the same write, the analysis state that follows it).

        With ``holder``, only while the job runs under that worker's lease, else
        :class:`LeaseLost` (nothing written): a worker records the outcome of its own run,
        never of a job it lost to the reaper or another worker."""

        def change(record: JobRecord) -> None:
            _finish(record, status, error=error)
            if analysis is not None:
                record.analysis = analysis

        if holder is not None:
            return self.update_under_lease(job_id, holder, change)
        record = self.update(job_id, change)
        assert record is not None  # no expect: never refused
        return record

    def request_cancel(self, job_id: str) -> JobRecord:
        """Ask a job to stop. Queued jobs are cancelled at once, and so are running ones whose
        worker is gone (lease expired); others stop within one chunk, when their worker reads
        the marker. The record is cancelled only if it is still queued (or lost) when it is
        replaced: a worker that started it meanwhile keeps it, and stops at the marker."""
        record = self.get(job_id)
        if record.status.finished:
            raise JobConflict(f"{self.kind} {job_id} already {record.status.value}; only queued or running jobs can be cancelled")
        self.store.put_bytes(object_keys.cancel_key(self.kind, job_id), b"1", content_type="text/plain")
        now = utcnow()
        cancelled = self.update(
            job_id,
            lambda current: _finish(current, JobStatus.cancelled),
            expect=lambda current: current.status is JobStatus.queued or runs_under_lost_lease(current, now),
        )
        return cancelled or self.get(job_id)

    def cancel_requested(self, job_id: str) -> bool:
        return self.store.exists(object_keys.cancel_key(self.kind, job_id))

    # -- leases and messages (lesde_runtime.leases keeps a worker's lease; lesde_runtime.reaper recovers lost ones)
    def holds_lease(self, job_id: str, holder: str) -> bool:
        """Whether the job still runs under the lease of ``holder``."""
        try:
            return runs_under(self.get(job_id), holder)
        except JobNotFound:
            return False

    def renew_lease(self, job_id: str, holder: str, *, now: datetime, lease_seconds: float) -> JobRecord:
        """Extend ``holder``'s lease to ``now + lease_seconds``; :class:`LeaseLost` (nothing
        written) if the job no longer runs under it."""

        def extend(record: JobRecord) -> None:
            assert record.lease is not None  # runs_under(record, holder) held
            record.lease = record.lease.model_copy(update={"heartbeat_at": now, "expires_at": now + timedelta(seconds=lease_seconds)})

        return self.update_under_lease(job_id, holder, extend)

    def record_progress(
        self, job_id: str, holder: str, *, done: int, total: int, rate: float | None, eta_seconds: float | None
    ) -> JobRecord:
        """Write a running job's progress while it runs under the lease of ``holder``; :class:`LeaseLost` otherwise."""

        def change(record: JobRecord) -> None:
            record.progress.done = done
            record.progress.total = total
            record.progress.rate = rate
            record.progress.eta_seconds = eta_seconds

        return self.update_under_lease(job_id, holder, change)

    def release_lease(self, job_id: str, holder: str, *, now: datetime) -> None:
        """Let ``holder``'s lease expire now (its worker stops without finishing the job), so
        the job is resumed at once rather than after ``lease_seconds``."""

        def expire(record: JobRecord) -> None:
            assert record.lease is not None  # runs_under(record, holder) held
            record.lease = record.lease.model_copy(update={"expires_at": now})

        self._change_if(job_id, lambda record: runs_under(record, holder), expire)

    def settle_lost(self, job_id: str, holder: str, status: JobStatus, *, now: datetime, error: str | None = None) -> JobRecord | None:
        """Move a job whose worker (lease ``holder``) is gone to ``status``: back to ``queued``
        (its progress kept: the next worker resumes; the caller then sends its task, so no
        worker can be starting it during this write), or to a final status with ``error``.
        ``None``, nothing written, unless the job still runs under that expired lease when
        its record is replaced: a heartbeat that came in meanwhile wins."""
        return self.settle_lost_as(job_id, holder, lambda _record: (status, error), now=now)

    def settle_lost_as(
        self, job_id: str, holder: str, outcome: Callable[[JobRecord], tuple[JobStatus, str | None]], *, now: datetime
    ) -> JobRecord | None:
        """:meth:`settle_lost` with the status (and error) that ``outcome`` picks from the record
        as it is when it is replaced, not as a listing saw it earlier (the reaper's choice
        between requeue and failure counts the progress its worker wrote last)."""

        def change(record: JobRecord) -> None:
            status, error = outcome(record)
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
        sent_at = now or utcnow()

        def change(record: JobRecord) -> None:
            record.enqueued_at = sent_at
            if reset_attempts:
                record.stalled_attempts = 0

        return self._change_if(job_id, lambda record: record.status is JobStatus.queued, change)

    def delete(self, job_id: str) -> int:
        """Remove the job and every object under it, then its index entries; return the
        number of the job's objects removed."""
        record = self.get(job_id)
        # status.json goes last so a half-finished delete still shows up (and can be retried).
        status = object_keys.status_key(self.kind, job_id)
        removed = 0
        for info in list(self.store.list(object_keys.job_prefix(self.kind, job_id))):
            if info.key != status:
                self.store.delete(info.key)
                removed += 1
        self.store.delete(status)
        self.store.delete_prefix(object_keys.job_prefix(self.kind, job_id))
        job_index.forget(self.store, self.kind, record)
        return removed + 1


def _encoded(record: JobRecord) -> bytes:
    """The record as its object holds it (the JSON :meth:`~lesde_contract.object_store.ObjectStore.put_json` writes)."""
    return json.dumps(record.model_dump(mode="json"), separators=(",", ":")).encode()


def _begin(record: JobRecord, lease: Lease | None) -> None:
    """A (re)started job: running under ``lease``, one attempt more."""
    record.stalled_attempts = record.stalled_attempts_after_next_start()
    record.progress_at_start = record.progress.done
    record.status = JobStatus.running
    record.started_at = record.started_at or utcnow()
    record.attempts += 1
    record.error = None
    record.lease = lease


def _finish(record: JobRecord, status: JobStatus, *, error: str | None = None) -> None:
    """A job that ended with ``status``."""
    record.status = status
    record.finished_at = utcnow()
    record.error = error
    record.progress.eta_seconds = None
    record.lease = None

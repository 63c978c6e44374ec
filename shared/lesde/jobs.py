"""Job records in the object store: create, read, list, update, cancel, delete.

State lives in the store (not in Celery's result backend) so it survives a restart of
any service and is the same whether the broker is Redis or the embedded transport.
Only workers update a running job's ``status.json``; the API asks for a cancel by
writing a separate marker object, so the two never race on one object.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from typing import Any

from lesde import keys
from lesde.records import AnalysisState, JobKind, JobRecord, JobStatus, utcnow
from lesde.storage import ObjectNotFound, ObjectStore

log = logging.getLogger(__name__)


class JobNotFound(LookupError):
    def __init__(self, kind: str, job_id: str) -> None:
        super().__init__(f"no {kind} with id {job_id!r}")
        self.kind = kind
        self.job_id = job_id


class JobConflict(RuntimeError):
    """The job is in a state that does not allow the operation."""


def new_job_id() -> str:
    """Random, URL-safe, lower-case id (sortable by nothing; created_at orders listings)."""
    return secrets.token_hex(8)


class JobRepository:
    def __init__(self, store: ObjectStore, kind: JobKind) -> None:
        self.store = store
        self.kind = kind

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
        for prefix in self.store.list_children(f"{self.kind}s/"):
            job_id = prefix.rstrip("/").rsplit("/", 1)[-1]
            try:
                yield self.get(job_id)
            except JobNotFound:
                continue  # half-created or being deleted

    def list(
        self, *, status: JobStatus | None = None, owner: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[JobRecord], int]:
        """Newest first; return ``(page, total matching)``."""
        matching = [
            record
            for record in self.iter_all()
            if (status is None or record.status == status) and (owner is None or record.owner == owner)
        ]
        matching.sort(key=lambda record: record.created_at, reverse=True)
        return matching[offset : offset + limit], len(matching)

    # -- writes ------------------------------------------------------------------
    def create(
        self, *, spec: dict[str, Any], owner: str, name: str | None, total: int, unit: str, sweep_id: str | None = None
    ) -> JobRecord:
        """Store the spec, then the record (``queued``): a record never exists without its spec."""
        record = JobRecord(id=new_job_id(), kind=self.kind, owner=owner, name=name, sweep_id=sweep_id)
        record.progress.total = total
        record.progress.unit = unit
        self.store.put_json(keys.spec_key(self.kind, record.id), spec)
        self.save(record)
        return record

    def save(self, record: JobRecord) -> None:
        self.store.put_json(keys.status_key(self.kind, record.id), record.model_dump(mode="json"))

    def update(self, job_id: str, change: Callable[[JobRecord], None]) -> JobRecord:
        """Read, apply ``change`` in place, write back."""
        record = self.get(job_id)
        change(record)
        self.save(record)
        return record

    def mark_running(self, job_id: str) -> JobRecord:
        def change(record: JobRecord) -> None:
            record.status = JobStatus.running
            record.started_at = record.started_at or utcnow()
            record.attempts += 1
            record.error = None

        return self.update(job_id, change)

    def start(self, job_id: str) -> JobRecord | None:
        """A worker takes up the job: mark it running and return it, or return ``None`` when
        there is nothing to do (deleted, already finished, or cancelled while queued — then
        it is marked cancelled). Safe on redelivery: a running job is simply resumed."""
        try:
            record = self.get(job_id)
        except JobNotFound:
            log.warning("%s %s no longer exists; dropping its task", self.kind, job_id)
            return None
        if record.status.finished:
            log.info("%s %s already %s; nothing to do", self.kind, job_id, record.status.value)
            return None
        if self.cancel_requested(job_id):
            self.mark_finished(job_id, JobStatus.cancelled)
            return None
        return self.mark_running(job_id)

    def mark_finished(
        self, job_id: str, status: JobStatus, *, error: str | None = None, analysis: AnalysisState | None = None
    ) -> JobRecord:
        """Record the outcome (and, in the same write, the analysis state that follows it)."""

        def change(record: JobRecord) -> None:
            record.status = status
            record.finished_at = utcnow()
            record.error = error
            record.progress.eta_seconds = None
            if analysis is not None:
                record.analysis = analysis

        return self.update(job_id, change)

    def request_cancel(self, job_id: str) -> JobRecord:
        """Ask a job to stop. Queued jobs are cancelled at once; running ones within one chunk."""
        record = self.get(job_id)
        if record.status.finished:
            raise JobConflict(f"{self.kind} {job_id} already {record.status.value}; only queued or running jobs can be cancelled")
        self.store.put_bytes(keys.cancel_key(self.kind, job_id), b"1", content_type="text/plain")
        if record.status is JobStatus.queued:
            record = self.mark_finished(job_id, JobStatus.cancelled)
        return record

    def cancel_requested(self, job_id: str) -> bool:
        return self.store.exists(keys.cancel_key(self.kind, job_id))

    def delete(self, job_id: str) -> int:
        """Remove the job and every object under it; return the number of objects removed."""
        self.get(job_id)
        # status.json goes last so a half-finished delete still shows up (and can be retried).
        status = keys.status_key(self.kind, job_id)
        removed = 0
        for info in list(self.store.list(keys.job_prefix(self.kind, job_id))):
            if info.key != status:
                self.store.delete(info.key)
                removed += 1
        self.store.delete(status)
        self.store.delete_prefix(keys.job_prefix(self.kind, job_id))
        return removed + 1

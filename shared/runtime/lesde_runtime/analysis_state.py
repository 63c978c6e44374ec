"""The state of an experiment's analysis runs, written and read here only.

Each option set (its ``options_key``) has a ``state.json``: ``{"state", "error",
"options", "options_key", "updated_at"}``, where its latest request stands. The gateway
writes ``queued``; the analyzer writes ``running``, then ``succeeded`` or ``failed``. The
default option set of a finished job is mirrored on the job record (``analysis``,
``analysis_error``), which listings show; while the job still trains, the record is the
trainer's to write (progress), so a run must not race with it there.
"""

from __future__ import annotations

from lesde_contract.object_store import ObjectNotFound, ObjectStore
from lesde_contract.records import AnalysisState, JobRecord, utcnow
from lesde_contract.specs.analysis import DEFAULT_KEY, run_state_key

from lesde_runtime.job_repository import JobRepository
from lesde_runtime.tombstones import guarded_write

__all__ = ["read_run_state", "write_run_state", "mirrored_on_record", "set_record_analysis"]


def read_run_state(store: ObjectStore, job_id: str, key: str) -> dict | None:
    """The ``state.json`` of option set ``key`` of experiment ``job_id``; None if never requested."""
    try:
        return store.get_json(run_state_key(job_id, key))
    except ObjectNotFound:
        return None


def write_run_state(store: ObjectStore, job_id: str, key: str, state: AnalysisState, options: dict, *, error: str | None = None) -> None:
    """Record that the run of option set ``key`` (with JSON ``options``) is now ``state``;
    :class:`~lesde_runtime.tombstones.JobDeleted` (nothing left written) if the experiment was deleted."""
    target = run_state_key(job_id, key)
    body = {"state": state.value, "error": error, "options": options, "options_key": key, "updated_at": utcnow().isoformat()}
    guarded_write(store, "experiment", job_id, target, lambda: store.put_json(target, body))


def mirrored_on_record(record: JobRecord, key: str) -> bool:
    """Whether the state of option set ``key`` is also kept on ``record`` (the default set of a finished job)."""
    return key == DEFAULT_KEY and record.status.finished


def set_record_analysis(repo: JobRepository, job_id: str, state: AnalysisState, *, error: str | None = None) -> None:
    """Set the job record's ``analysis`` and ``analysis_error``."""

    def change(record: JobRecord) -> None:
        record.analysis = state
        record.analysis_error = error

    repo.update(job_id, change)

"""Everything a sweep's analysis reads: its children, each with its record, spec, grid
point and default analysis summary.

A child may have been deleted meanwhile, may still train, or may have no analysis yet;
each case is kept (with a status saying which) so the table lists every grid point and
the curves use only children with a finished analysis of a finished run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lesde_contract.object_store import ObjectNotFound, ObjectStore
from lesde_contract.records import JobRecord
from lesde_contract.specs.analysis import DEFAULT_KEY, run_summary_key
from lesde_contract.sweep_children import SweepChild, read_children
from lesde_runtime.job_repository import JobNotFound, JobRepository

__all__ = ["DELETED", "ChildResult", "SweepData", "read_sweep", "fingerprint"]

#: the status of a child whose record no longer exists
DELETED = "deleted"


@dataclass(frozen=True)
class ChildResult:
    """One grid point of a sweep and what its experiment has produced so far.

    ``status`` is the job status (or :data:`DELETED`), ``analysis`` the record's analysis
    state; ``summary`` is the default analysis summary, None when there is none or when it
    was computed on an unfinished run (``"partial": true``), whose numbers a comparison
    with finished runs would misread.
    """

    index: int
    experiment_id: str
    point: dict[str, Any]
    status: str
    analysis: str
    spec: dict[str, Any] | None
    summary: dict[str, Any] | None

    @property
    def unfinished(self) -> bool:
        """Still training, or trained and waiting for its analysis."""
        if self.status in ("queued", "running"):
            return True
        return self.status == "succeeded" and self.summary is None and self.analysis in ("none", "queued", "running")


@dataclass(frozen=True)
class SweepData:
    """A sweep as its analysis sees it: the grid's axes (dotted spec paths) and every child in grid order."""

    sweep_id: str
    name: str | None
    axes: list[str]
    children: list[ChildResult]


def read_sweep(store: ObjectStore, sweep_id: str) -> SweepData:
    """Read the sweep's children (raises :class:`lesde_contract.sweep_children.SweepNotFound` without children.json)."""
    listed = read_children(store, sweep_id)
    try:
        name = JobRepository(store, "sweep").get(sweep_id).name
    except JobNotFound:
        name = None
    repo = JobRepository(store, "experiment")
    children = [_read_child(store, repo, child) for child in sorted(listed.children, key=lambda c: c.index)]
    return SweepData(sweep_id=sweep_id, name=name, axes=list(listed.axes), children=children)


def _read_child(store: ObjectStore, repo: JobRepository, child: SweepChild) -> ChildResult:
    try:
        record = repo.get(child.experiment_id)
        spec = repo.get_spec(child.experiment_id)
    except JobNotFound:
        return ChildResult(child.index, child.experiment_id, dict(child.point), DELETED, "none", None, None)
    try:
        summary = store.get_json(run_summary_key(child.experiment_id, DEFAULT_KEY))
    except ObjectNotFound:
        summary = None
    if summary is not None and summary.get("partial", False):
        summary = None
    return ChildResult(child.index, child.experiment_id, dict(child.point), record.status.value, record.analysis.value, spec, summary)


def fingerprint(store: ObjectStore, sweep_id: str) -> tuple:
    """What decides a sweep's analysis, cheaply: per child its record's state and whether
    a default summary exists. Equal fingerprints before and after a run mean the run saw
    the latest state (used to catch a slow run overwriting a newer one)."""
    repo = JobRepository(store, "experiment")
    out = []
    for child in read_children(store, sweep_id).children:
        try:
            record: JobRecord | None = repo.get(child.experiment_id)
        except JobNotFound:
            record = None
        state = None if record is None else (record.status.value, record.analysis.value, record.attempts, record.finished_at)
        out.append((child.index, child.experiment_id, state, store.exists(run_summary_key(child.experiment_id, DEFAULT_KEY))))
    return tuple(out)

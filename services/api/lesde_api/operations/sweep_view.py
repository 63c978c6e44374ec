"""What the gateway answers about a sweep: its children's states, aggregated when read.

A sweep's own record is written once, at creation (and by the analyzer for its analysis),
so its status and progress are never stored: they are computed here from the children's
records, which their trainers keep current. Reading a sweep costs one read per child.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Literal, TypeVar

from lesde_contract.records import AnalysisState, JobRecord, JobStatus, Progress
from lesde_contract.sweep_children import SweepChild, SweepChildren, SweepNotFound, read_children
from lesde_runtime.job_repository import JobNotFound, JobRepository
from pydantic import BaseModel, Field

from lesde_api.operations.links import job_url, sweep_links

STORE_THREADS = 8  # children handled at once: on S3 each child is a few round trips, and a sweep has up to hundreds
MISSING = "missing"  # a child whose record is gone (deleted on its own)
Item = TypeVar("Item")
Result = TypeVar("Result")


class SweepChildPublic(BaseModel):
    """One grid point of a sweep and where its experiment stands."""

    index: int = Field(description="Position in the grid (the axes' product order, or the points' order).")
    experiment_id: str = Field(description="The child experiment's id (an ordinary experiment: /v1/experiments/<id>).")
    point: dict[str, Any] = Field(description="Dotted spec field path -> the value this child uses.")
    status: JobStatus | None = Field(description="The experiment's status; null when its record was deleted.")
    progress: float = Field(description="Fraction of the experiment's iterations done, 0 to 1.")
    analysis: AnalysisState | None = Field(description="State of the experiment's own analysis.")
    error: str | None = Field(default=None, description="Why the child failed (None unless it did).")
    url: str = Field(description="The experiment's resource.")


class SweepPublic(BaseModel):
    """A sweep as the API returns it: its grid, its children and their aggregate."""

    id: str = Field(description="The sweep's id: 16 lower-case hex characters.")
    kind: Literal["sweep"] = Field(default="sweep", description="Always 'sweep'.")
    owner: str = Field(description="Who submitted it (its children belong to the same owner).")
    name: str | None = Field(default=None, description="The name given in the sweep spec.")
    status: JobStatus = Field(
        description="queued: every child queued; running: some unfinished, not all queued; succeeded: all succeeded; "
        "failed: all finished, some failed (or deleted); cancelled: all finished, none failed, some cancelled."
    )
    counts: dict[str, int] = Field(description="Children per status, plus 'missing' (records deleted on their own).")
    progress: Progress = Field(
        description="In trial-iterations over all children; rate sums the running children's (trial-iterations per "
        "second), so more trainer workers shorten eta_seconds, the time to finish the unfinished children at that rate."
    )
    created_at: datetime = Field(description="When the sweep was submitted (UTC).")
    started_at: datetime | None = Field(default=None, description="When the first child started.")
    finished_at: datetime | None = Field(default=None, description="When the last child finished, once all have.")
    analysis: AnalysisState = Field(description="State of the cross-child analysis (recomputed as children finish).")
    analysis_error: str | None = Field(default=None, description="Why the cross-child analysis failed (None unless it did).")
    axes: list[str] = Field(description="The dotted field paths the grid varies, in the order given.")
    children: list[SweepChildPublic] | None = Field(default=None, description="In grid order; left out of listings.")
    spec: dict[str, Any] | None = Field(default=None, description="The posted sweep spec; left out of listings.")
    links: dict[str, str] = Field(default_factory=dict, description="URLs of the sweep's analysis, table, figures, events and children.")


def read_sweep_children(sweeps: JobRepository, sweep_id: str) -> SweepChildren:
    """The sweep's children, or none for a sweep whose creation stopped before it listed them."""
    try:
        return read_children(sweeps.store, sweep_id)
    except SweepNotFound:
        return SweepChildren(axes=[], children=[])


def for_each_child(function: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    """``[function(item) for item in items]``, in order, several store round trips at once."""
    with ThreadPoolExecutor(max_workers=STORE_THREADS) as pool:
        return list(pool.map(function, items))


def child_records(experiments: JobRepository, children: SweepChildren) -> list[JobRecord | None]:
    """Each child's record in grid order; None where it is gone."""

    def read(experiment_id: str) -> JobRecord | None:
        try:
            return experiments.get(experiment_id)
        except JobNotFound:
            return None

    return for_each_child(read, children.experiment_ids())


def aggregate_status(statuses: list[JobStatus | None]) -> JobStatus:
    """The sweep's status from its children's (None, a deleted child, counts as failed: it cannot succeed)."""
    known = [JobStatus.failed if status is None else status for status in statuses]
    if all(status is JobStatus.queued for status in known):
        return JobStatus.queued  # also a sweep without children yet
    if not all(status.finished for status in known):
        return JobStatus.running
    if all(status is JobStatus.succeeded for status in known):
        return JobStatus.succeeded
    return JobStatus.failed if JobStatus.failed in known else JobStatus.cancelled


def count_states(records: list[JobRecord | None]) -> dict[str, int]:
    seen = Counter(MISSING if record is None else record.status.value for record in records)
    return {state: seen[state] for state in [*JobStatus, MISSING]}


def sweep_progress(base: dict[str, Any], children: SweepChildren, records: list[JobRecord | None]) -> Progress:
    """Trial-iterations done of all children; rate and ETA from the running ones. ``base`` is the stored base spec."""
    done = total = left = 0
    rate = 0.0
    for child, record in zip(children.children, records, strict=True):
        trials = child.point.get("training.trials", base["training"]["trials"])
        iterations = child.point.get("training.iterations", base["training"]["iterations"])
        total += trials * iterations
        if record is None:
            continue
        done += trials * record.progress.done
        if not record.status.finished:
            left += trials * (iterations - record.progress.done)
        if record.status is JobStatus.running and record.progress.rate:
            rate += record.progress.rate
    eta = round(left / rate, 1) if rate > 0 else None
    return Progress(done=done, total=total, unit="trial-iterations", rate=round(rate, 1) if rate else None, eta_seconds=eta)


def sweep_view(
    sweeps: JobRepository, experiments: JobRepository, record: JobRecord, *, with_children: bool = True, with_spec: bool = True
) -> SweepPublic:
    """The public form of sweep ``record``, its status and progress computed from its children."""
    spec = sweeps.get_spec(record.id)  # as stored: read, not re-validated against today's bounds
    children = read_sweep_children(sweeps, record.id)
    records = child_records(experiments, children)
    status = aggregate_status([None if child is None else child.status for child in records])
    started = [child.started_at for child in records if child is not None and child.started_at is not None]
    finished = [child.finished_at for child in records if child is not None and child.finished_at is not None]
    return SweepPublic(
        id=record.id,
        owner=record.owner,
        name=record.name,
        status=status,
        counts=count_states(records),
        progress=sweep_progress(spec["base"], children, records),
        created_at=record.created_at,
        started_at=min(started, default=None),
        finished_at=max(finished, default=None) if status.finished and children.children else None,
        analysis=record.analysis,
        analysis_error=record.analysis_error,
        axes=children.axes,
        children=[_child_view(child, child_record) for child, child_record in zip(children.children, records, strict=True)]
        if with_children
        else None,
        spec=spec if with_spec else None,
        links=sweep_links(record.id),
    )


def _child_view(child: SweepChild, record: JobRecord | None) -> SweepChildPublic:
    return SweepChildPublic(
        index=child.index,
        experiment_id=child.experiment_id,
        point=child.point,
        status=None if record is None else record.status,
        progress=0.0 if record is None else round(record.progress.fraction, 4),
        analysis=None if record is None else record.analysis,
        error="the experiment's record was deleted" if record is None else record.error,
        url=job_url("experiment", child.experiment_id),
    )


def list_sweeps(
    sweeps: JobRepository, experiments: JobRepository, *, status: JobStatus | None, owner: str | None, offset: int, limit: int
) -> tuple[list[SweepPublic], int]:
    """Newest first, ``(page, total matching)``. A status filter reads every sweep's children (status is not stored)."""
    if status is None:
        records, count = sweeps.list(owner=owner, offset=offset, limit=limit)
        return _summaries(sweeps, experiments, records), count
    records, _ = sweeps.list(owner=owner, offset=0, limit=sys.maxsize)
    matching = [view for view in _summaries(sweeps, experiments, records) if view.status is status]
    return matching[offset : offset + limit], len(matching)


def _summaries(sweeps: JobRepository, experiments: JobRepository, records: list[JobRecord]) -> list[SweepPublic]:
    """Listing views (no children, no spec) of ``records``, less those deleted meanwhile."""
    views = []
    for record in records:
        try:
            views.append(sweep_view(sweeps, experiments, record, with_children=False, with_spec=False))
        except JobNotFound:
            continue
    return views

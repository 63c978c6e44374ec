"""Job records: what the services store and answer about a submitted job.

``JobRecord`` is the stored form (``<kind>s/<id>/status.json``); ``JobPublic`` is what
the API returns. Experiments, simulations and sweeps use them, told apart by ``kind``
(a sweep's own status and progress are aggregated from its children when read).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled)


JobKind = Literal["experiment", "simulation", "sweep"]


class Progress(BaseModel):
    """How far a job is: ``done`` of ``total`` units (iterations for experiments)."""

    done: int = 0
    total: int = 0
    unit: str = "iterations"
    rate: float | None = Field(default=None, description="Trial-iterations (or steps) per second, recent.")
    eta_seconds: float | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


class AnalysisState(StrEnum):
    none = "none"
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class Lease(BaseModel):
    """The worker that runs a job, and until when that is believed.

    Written when a worker starts the job and renewed by its heartbeat (:mod:`lesde.leases`);
    a lease past ``expires_at`` means the worker is gone (killed, out of memory, host lost)
    and the reaper (:mod:`lesde.reaper`) requeues the job.
    """

    holder: str = Field(description="This claim's id: host, process id and a random token.")
    host: str
    pid: int
    heartbeat_at: datetime
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class JobRecord(BaseModel):
    """Stored state of one job. Written by the API at creation and by workers after."""

    id: str
    kind: JobKind = "experiment"
    owner: str
    name: str | None = None
    status: JobStatus = JobStatus.queued
    progress: Progress = Field(default_factory=Progress)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    attempts: int = Field(default=0, description="How many times a worker started (or resumed) the job.")
    stalled_attempts: int = Field(
        default=0, description="Starts in a row that found no more work done than the start before (see LESDE_MAX_ATTEMPTS)."
    )
    progress_at_start: int = Field(default=0, description="progress.done when a worker last started the job.")
    lease: Lease | None = Field(default=None, description="The worker running the job (None unless running under a lease).")
    enqueued_at: datetime | None = Field(default=None, description="When the job's task message was last sent.")
    analysis: AnalysisState = AnalysisState.none
    analysis_error: str | None = None
    sweep_id: str | None = Field(default=None, description="The sweep this experiment is a point of (None: submitted alone).")
    device: str | None = Field(
        default=None,
        description="Where a worker last started training the job, e.g. 'cuda:0 (NVIDIA H200, GPU-5f3c...)' or 'cpu' "
        "(None: not started, or not a training job). The GPU's UUID tells apart replicas that each see their own GPU as cuda:0.",
    )

    def stalled_attempts_after_next_start(self) -> int:
        """What ``stalled_attempts`` becomes if a worker starts the job now: a start that
        finds progress since the previous one counts from 1 again, so a long job resumed
        after many preemptions is not failed, while one that kills its worker before any
        progress is."""
        return 1 if self.progress.done > self.progress_at_start else self.stalled_attempts + 1


class JobPublic(JobRecord):
    """A record as the API returns it, with the spec and links to related resources."""

    spec: dict[str, Any] | None = None
    links: dict[str, str] = Field(default_factory=dict)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a listing: ``data`` on this page, ``count`` matching in all."""

    data: list[T]
    count: int


class ArtifactInfo(BaseModel):
    """One downloadable object of a job."""

    name: str
    key: str
    size: int
    content_type: str
    url: str

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


JobKind = Literal["experiment", "simulation", "sweep", "dataset"]


class Progress(BaseModel):
    """How far a job is: ``done`` of ``total`` units (iterations for experiments)."""

    done: int = Field(default=0, description="Units done so far: SGD iterations (all trials advance together) or simulation steps.")
    total: int = Field(default=0, description="Units the whole job takes.")
    unit: str = Field(
        default="iterations", description="What done and total count: 'iterations' (training and imports) or 'steps' (simulations)."
    )
    rate: float | None = Field(default=None, description="Trial-iterations (or steps) per second, recent.")
    eta_seconds: float | None = Field(
        default=None, description="Estimated seconds to the end at the recent rate (None before a rate is known, and once finished)."
    )

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

    Written when a worker starts the job and renewed by its heartbeat (:mod:`lesde_runtime.leases`);
    a lease past ``expires_at`` means the worker is gone (killed, out of memory, host lost)
    and the reaper (:mod:`lesde_runtime.reaper`) requeues the job.
    """

    holder: str = Field(description="This claim's id: host, process id and a random token.")
    host: str = Field(description="Host (and PID namespace) of the worker process that holds the job.")
    pid: int = Field(description="Process id of that worker, on its host.")
    heartbeat_at: datetime = Field(description="When the worker last renewed the lease.")
    expires_at: datetime = Field(description="After this the worker is taken as gone and the reaper requeues the job.")

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


LeaseT = TypeVar("LeaseT", bound=BaseModel)


class JobFields(BaseModel, Generic[LeaseT]):
    """The fields of a job, parametrised by what it shows of the lease: :class:`Lease` in the
    stored :class:`JobRecord`, :class:`LeasePublic` in the API's :class:`JobPublic`."""

    id: str = Field(description="The job's id: 16 lower-case hex characters.")
    kind: JobKind = Field(default="experiment", description="experiment, simulation or sweep.")
    owner: str = Field(description="Who submitted it: the API key's owner (or LESDE_DEFAULT_OWNER on an open server).")
    name: str | None = Field(default=None, description="The name given in the spec, if any.")
    status: JobStatus = Field(default=JobStatus.queued, description="queued, running, succeeded, failed or cancelled.")
    progress: Progress = Field(default_factory=Progress, description="Work done and to do, with the recent rate and an ETA.")
    created_at: datetime = Field(default_factory=utcnow, description="When the job was submitted (UTC).")
    started_at: datetime | None = Field(default=None, description="When a worker first started it (UTC).")
    finished_at: datetime | None = Field(default=None, description="When it reached a final status (UTC).")
    error: str | None = Field(
        default=None, description="Why it failed (None unless failed): what failed and how, without hosts or credentials."
    )
    attempts: int = Field(default=0, description="How many times a worker started (or resumed) the job.")
    stalled_attempts: int = Field(
        default=0, description="Starts in a row that found no more work done than the start before (see LESDE_MAX_ATTEMPTS)."
    )
    progress_at_start: int = Field(default=0, description="progress.done when a worker last started the job.")
    lease: LeaseT | None = Field(default=None, description="The worker running the job (None unless running under a lease).")
    enqueued_at: datetime | None = Field(default=None, description="When the job's task message was last sent.")
    analysis: AnalysisState = Field(
        default=AnalysisState.none,
        description="State of the automatic analysis of a finished experiment: none, queued, running, succeeded or failed.",
    )
    analysis_error: str | None = Field(default=None, description="Why the automatic analysis failed (None unless it did).")
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


class JobRecord(JobFields[Lease]):
    """Stored state of one job. Written by the API at creation and by workers after."""


class LeasePublic(BaseModel):
    """What a job's owner sees of the lease: that a worker holds the job and until when. The
    worker's host and process id stay in the logs and metrics, for operators."""

    heartbeat_at: datetime = Field(description="When the worker last renewed the lease.")
    expires_at: datetime = Field(description="After this the worker is taken as gone and the reaper requeues the job.")


class JobPublic(JobFields[LeasePublic]):
    """A record as the API returns it, with the spec and links to related resources (no worker host or pid)."""

    lease: LeasePublic | None = Field(
        default=None, description="That a worker runs the job and until when (None unless running under a lease)."
    )

    spec: dict[str, Any] | None = Field(default=None, description="The submitted spec with every default filled in.")
    links: dict[str, str] = Field(
        default_factory=dict, description="URLs of this job's related resources (analysis, figures, artifacts, exports, events, ...)."
    )


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a listing: ``data`` on this page, ``count`` matching in all."""

    data: list[T] = Field(description="This page's items, newest first.")
    count: int = Field(description="How many items match in all (not only this page).")


class ArtifactInfo(BaseModel):
    """One downloadable object of a job."""

    name: str = Field(description="Path of the object inside the job (e.g. 'chunks/sampled/000000000-000000499.npz').")
    key: str = Field(description="Its key in the object store.")
    size: int = Field(description="Size in bytes.")
    content_type: str = Field(description="MIME type it is served with.")
    url: str = Field(description="Where to download it.")

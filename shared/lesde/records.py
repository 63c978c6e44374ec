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
    analysis: AnalysisState = AnalysisState.none
    analysis_error: str | None = None
    sweep_id: str | None = Field(default=None, description="The sweep this experiment is a point of (None: submitted alone).")


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

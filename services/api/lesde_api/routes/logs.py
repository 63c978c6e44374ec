"""``GET /v1/{experiments|simulations|sweeps}/{id}/logs``: the job's own log lines.

What the workers logged while they ran the job's tasks (training, analyses, figures,
imports, the sweep's analysis), kept in the store beside its status (:mod:`lesde_runtime.job_logs`),
oldest first. A line appears within a few seconds of being logged. An unknown id (or
another owner's) is a 404; a job whose tasks logged nothing answers an empty list.

Try it: ``curl 'localhost:8000/v1/experiments/<id>/logs?limit=50'``.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from lesde_runtime.job_logs import MAX_LINES, MAX_RUNS, read_job_logs
from lesde_runtime.job_repository import JobRepository
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lesde_api.deps import SweepsDep, get_experiments, get_simulations

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
# One router per kind, so the app can give each the ownership check of its kind's ids.
experiment_router = APIRouter(prefix="/v1/experiments", tags=["experiments"])
simulation_router = APIRouter(prefix="/v1/simulations", tags=["simulations"])
sweep_router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"])

MOST_LINES = MAX_LINES * MAX_RUNS  # all a job keeps


class JobLogLine(BaseModel):
    """One line a worker logged while it ran one of the job's tasks (other fields: ``extra`` of the call)."""

    model_config = ConfigDict(extra="allow")

    time: str = Field(default="", description="When, in UTC (ISO 8601, milliseconds).")
    level: str = Field(description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    logger: str = Field(description="The logger's name: the module that logged.")
    message: str = Field(description="The message.")
    service: str | None = Field(default=None, description="The process kind: trainer or analyzer.")
    job_id: str = Field(description="The job's id.")
    kind: str = Field(description="experiment, simulation or sweep.")
    task_id: str | None = Field(default=None, description="The Celery task's id: lines of one run share it.")
    task: str | None = Field(default=None, description="The task's name (lesde.train_experiment, lesde.analyze_experiment, ...).")
    exception: str | None = Field(default=None, description="The traceback, when an error was logged with one.")


class JobLogs(BaseModel):
    """The job's last ``limit`` lines, oldest first, and how many it keeps."""

    data: list[JobLogLine] = Field(description="The lines, oldest first.")
    count: int = Field(description="Lines the job keeps in all (its last runs' last lines; see docs/operations.md).")


Limit = Annotated[int, Query(ge=1, le=MOST_LINES, description=f"How many of the newest lines to answer (1 to {MOST_LINES}).")]


def _add_job_logs(router: APIRouter, get_repo: Callable[..., JobRepository]) -> None:
    Repo = Annotated[JobRepository, Depends(get_repo)]  # a type alias

    @router.get("/{job_id}/logs", response_model=JobLogs)
    def job_logs(job_id: str, repo: Repo, limit: Limit = 500) -> JobLogs:
        """The lines the workers logged while running this job's tasks, oldest first (JSON, as the workers' JSON logs)."""
        return _logs_of(repo, job_id, limit)


def _logs_of(repo: JobRepository, job_id: str, limit: int) -> JobLogs:
    repo.get(job_id)  # 404 for an unknown id
    lines, count = read_job_logs(repo.store, repo.kind, job_id, limit=limit)
    return JobLogs(data=[line for line in map(_parsed, lines) if line is not None], count=count)


def _parsed(line: dict) -> JobLogLine | None:
    """The stored line as the model; None for one that is not a log line (written by hand)."""
    try:
        return JobLogLine.model_validate(line)
    except ValidationError:
        return None


_add_job_logs(experiment_router, get_experiments)
_add_job_logs(simulation_router, get_simulations)


# The sweep's id is ``sweep_id`` on its router, as the app's ownership check of sweeps reads it.
@sweep_router.get("/{sweep_id}/logs", response_model=JobLogs)
def sweep_logs(sweep_id: str, sweeps: SweepsDep, limit: Limit = 500) -> JobLogs:
    """The lines the analyzer logged while analysing this sweep across its children (each child's own: at its id)."""
    return _logs_of(sweeps, sweep_id, limit)

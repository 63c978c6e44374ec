"""``GET /v1/{experiments|simulations|sweeps}/{id}/events``: live progress as Server-Sent Events.

Each event carries the job's whole snapshot; its name says what changed (``status``,
``progress``, ``analysis``), ``end`` closes the stream once the job and its analysis
have finished, ``deleted`` if the job goes meanwhile (see :mod:`lesde_api.operations.events`).
An unknown id is a 404 before the stream starts. Polling ``GET /v1/.../{id}`` stays.

Every stream of one job shares one watcher (one store read per poll, however many
watch); open streams are capped per owner and in total, one more is a 429 with
Retry-After (:mod:`lesde_api.operations.event_hub`).

Try it: ``curl -N localhost:8000/v1/experiments/<id>/events``.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from lesde_runtime.job_repository import JobRepository

from lesde_api.deps import ExperimentsDep, OwnerDep, SweepsDep, get_experiments, get_simulations
from lesde_api.operations.event_hub import EventHub, Snapshot
from lesde_api.operations.events import events, job_snapshot, sweep_snapshot

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
# One router per kind, so the app can give each the ownership check of its kind's ids.
experiment_router = APIRouter(prefix="/v1/experiments", tags=["experiments"])
simulation_router = APIRouter(prefix="/v1/simulations", tags=["simulations"])
sweep_router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"])

POLL_S = 0.5  # how often an experiment's or simulation's record is read (one store GET)
SWEEP_POLL_S = 1.0  # a sweep's snapshot reads every child's record: read it less often
HEARTBEAT_S = 15.0  # a comment line after this long without an event
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no caching, no proxy buffering
SSE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Events until the job and its analysis have finished."},
}  # 404 and the other errors: the router's documented error bodies (main.py)


def _stream(
    request: Request, kind: str, job_id: str, owner: str, read: Callable[[], Snapshot], first: Snapshot, poll_s: float
) -> StreamingResponse:
    """Join the job's shared watcher (429 past a cap, before anything is sent) and stream from it."""
    hub: EventHub = request.app.state.event_hub
    subscription = hub.subscribe(kind, job_id, owner, read=read, first=first, poll_s=poll_s)

    async def body() -> AsyncIterator[str]:
        try:
            async for text in events(subscription.next, first=first, heartbeat_s=HEARTBEAT_S, disconnected=request.is_disconnected):
                yield text
        finally:  # the end, a disconnect, a cancellation: the stream no longer counts
            subscription.close()

    return StreamingResponse(body(), media_type="text/event-stream", headers=HEADERS)


def _add_job_events(router: APIRouter, kind: str, get_repo: Callable[..., JobRepository]) -> None:
    Repo = Annotated[JobRepository, Depends(get_repo)]  # a type alias

    @router.get("/{job_id}/events", response_class=StreamingResponse, responses=SSE_RESPONSES)
    async def job_events(job_id: str, request: Request, repo: Repo, owner: OwnerDep) -> StreamingResponse:
        """Status, progress and analysis changes of the job, as Server-Sent Events (``text/event-stream``)."""
        first = await run_in_threadpool(job_snapshot, repo, job_id)
        return _stream(request, kind, job_id, owner, lambda: job_snapshot(repo, job_id), first, POLL_S)


_add_job_events(experiment_router, "experiment", get_experiments)
_add_job_events(simulation_router, "simulation", get_simulations)


@sweep_router.get("/{sweep_id}/events", response_class=StreamingResponse, responses=SSE_RESPONSES)
async def sweep_events(
    sweep_id: str, request: Request, sweeps: SweepsDep, experiments: ExperimentsDep, owner: OwnerDep
) -> StreamingResponse:
    """The sweep's aggregate status, counts, progress and each child's state, as Server-Sent Events."""
    first = await run_in_threadpool(sweep_snapshot, sweeps, experiments, sweep_id)
    return _stream(request, "sweep", sweep_id, owner, lambda: sweep_snapshot(sweeps, experiments, sweep_id), first, SWEEP_POLL_S)

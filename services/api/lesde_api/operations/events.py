"""A job's live progress as Server-Sent Events: snapshots of its record, sent when they change.

Job state lives in the object store, written by the workers, so the gateway learns of a
change only by reading it: the stream reads the job's snapshot every ``poll_s`` seconds
and sends an event only when the snapshot differs from the last one sent. Every event
carries the whole snapshot (a client that reconnects, or misses one, is current after
the next event); its name says what changed:

- ``status``: the first snapshot, and every change of ``status`` (queued, running, ...);
- ``analysis``: a change of the analysis state (``queued``, ``running``, ``succeeded``...);
- ``progress``: anything else (progress, rate, ETA; a sweep's counts and children);
- ``end``: the job and its analysis have finished; the stream closes after it;
- ``deleted``: the job was deleted while streaming; the stream closes after it.

A comment line (``: keep-alive``) goes out when nothing was sent for ``heartbeat_s``
seconds, so proxies and browsers keep an idle connection open.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool
from lesde_contract.object_store import StoreUnavailable
from lesde_contract.records import AnalysisState, JobRecord, JobStatus
from lesde_contract.sweep_children import SweepNotFound
from lesde_runtime.job_repository import JobNotFound, JobRepository

from lesde_api.operations.event_hub import GONE
from lesde_api.operations.sweep_view import sweep_view

Snapshot = dict[str, Any]
RECONNECT_MS = 2000  # the "retry:" field: how long a browser's EventSource waits before reconnecting
HEARTBEAT = ": keep-alive\n\n"
ANALYSIS_BUSY = (AnalysisState.queued.value, AnalysisState.running.value)


def job_snapshot(repo: JobRepository, job_id: str) -> Snapshot:
    """What an experiment's or simulation's stream reports (JSON-ready); :class:`JobNotFound` if absent.

    The lease and its heartbeat are left out: they change every few seconds without
    anything a watcher cares about changing."""
    return record_snapshot(repo.get(job_id))


SNAPSHOT_FIELDS = {
    "id",
    "kind",
    "name",
    "owner",
    "status",
    "progress",
    "analysis",
    "analysis_error",
    "error",
    "started_at",
    "finished_at",
    "attempts",
    "device",  # the last two change when a worker (re)starts the job
}


def record_snapshot(record: JobRecord) -> Snapshot:
    return record.model_dump(mode="json", include=SNAPSHOT_FIELDS)


def sweep_snapshot(sweeps: JobRepository, experiments: JobRepository, sweep_id: str) -> Snapshot:
    """A sweep's aggregate (status, counts, progress, each child's state), without its spec and links."""
    view = sweep_view(sweeps, experiments, sweeps.get(sweep_id), with_spec=False)
    return view.model_dump(mode="json", exclude={"spec", "links"})


def change_name(previous: Snapshot | None, current: Snapshot) -> str | None:
    """The event ``current`` makes after ``previous`` (the last one sent); ``None`` if nothing changed."""
    if previous is None or previous["status"] != current["status"]:
        return "status"
    if (previous["analysis"], previous["analysis_error"]) != (current["analysis"], current["analysis_error"]):
        return "analysis"
    return None if previous == current else "progress"


def is_final(snapshot: Snapshot) -> bool:
    """Whether nothing more will change by itself: the job finished and no analysis is pending.

    A new analysis (a re-analysis, or a sweep's child finishing late) may still start
    later; a client that asks for one opens a new stream."""
    return JobStatus(snapshot["status"]).finished and snapshot["analysis"] not in ANALYSIS_BUSY


def format_event(name: str, data: Snapshot, event_id: int) -> str:
    """One SSE message: ``id``, ``event`` and the snapshot as one line of JSON."""
    return f"id: {event_id}\nevent: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


NextSnapshot = Callable[[float], Awaitable[Any]]  # (timeout) -> a snapshot, GONE, or None for no news


async def events(
    next_snapshot: NextSnapshot, *, first: Snapshot, heartbeat_s: float, disconnected: Callable[[], Awaitable[bool]]
) -> AsyncIterator[str]:
    """The SSE text of one job: ``first``, then each snapshot ``next_snapshot`` yields that
    differs from the last one sent, until :func:`is_final` (``end``) or the job is gone
    (``deleted``); a keep-alive comment after ``heartbeat_s`` without an event."""
    yield f"retry: {RECONNECT_MS}\n\n"
    previous: Snapshot | None = None
    sent = 0
    last_write = time.monotonic()
    current: Any = first
    while True:
        if current is GONE:
            yield format_event("deleted", previous or first, sent + 1)
            return
        if current is not None:
            name = change_name(previous, current)
            if name is not None:
                sent += 1
                yield format_event(name, current, sent)
                previous, last_write = current, time.monotonic()
            if is_final(current):
                yield format_event("end", current, sent + 1)
                return
        if time.monotonic() - last_write >= heartbeat_s:
            yield HEARTBEAT
            last_write = time.monotonic()
        if await disconnected():  # nobody listens: stop waiting on the store for them
            return
        current = await next_snapshot(max(0.05, heartbeat_s - (time.monotonic() - last_write)))


async def event_stream(
    read: Callable[[], Snapshot],
    *,
    first: Snapshot,
    poll_s: float,
    heartbeat_s: float,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    """:func:`events` with its own polling: ``read()`` every ``poll_s`` s in a worker thread (a
    store outage is no news; heartbeats continue). The gateway's routes share one watcher per
    job instead (:mod:`.event_hub`); this is the same stream for one reader."""

    async def poll(_timeout: float) -> Any:
        await asyncio.sleep(poll_s)
        try:
            return await run_in_threadpool(read)
        except (JobNotFound, SweepNotFound):
            return GONE
        except StoreUnavailable:
            return None

    async for text in events(poll, first=first, heartbeat_s=heartbeat_s, disconnected=disconnected):
        yield text

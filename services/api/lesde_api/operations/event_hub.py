"""One watcher per job, shared by every event stream open on it; caps on open streams.

Before, each ``/events`` connection read the store for itself every half second: 50
dashboard tabs on one 100-child sweep were 50 x 100 record reads a second, and the
gateway's other requests queued behind them (``/healthz`` p95 from 8 ms to 1.3 s). Now
the first subscriber of a job starts one watcher task that reads the job's snapshot every
``poll_s`` (in a worker thread) and publishes it; every stream of that job waits on the
watcher's version counter and sends from the shared snapshot; the last subscriber to go
stops the watcher. Reads per job are therefore independent of how many watch it.

Open streams are capped per owner (``LESDE_MAX_EVENT_STREAMS_PER_OWNER``) and in total
(``LESDE_MAX_EVENT_STREAMS``); one more is refused with 429 and ``Retry-After`` before
it starts. Everything here runs on the event loop; only the store read leaves it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.concurrency import run_in_threadpool
from lesde_contract.object_store import StoreUnavailable
from lesde_contract.sweep_children import SweepNotFound
from lesde_runtime.job_repository import JobNotFound

Snapshot = dict[str, Any]
GONE = object()  # published when the job was deleted: the streams send "deleted" and close

__all__ = ["EventHub", "StreamLimitReached", "Subscription", "GONE"]


class StreamLimitReached(RuntimeError):
    """Too many open event streams for this owner or for the gateway (answered 429 with Retry-After)."""

    retry_after_s = 10


@dataclass
class _Watch:
    """The shared state of one job's watcher."""

    read: Callable[[], Snapshot]
    poll_s: float
    snapshot: Any = None  # the latest snapshot, GONE, or None while the store does not answer
    version: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    subscribers: int = 0
    task: asyncio.Task | None = None


@dataclass
class Subscription:
    """One stream's handle on its job's watcher."""

    hub: EventHub
    key: tuple[str, str]
    owner: str
    seen: int = 0

    async def next(self, timeout: float) -> Any:
        """The snapshot after the last one this stream saw (GONE if deleted), or None after ``timeout`` s without one."""
        watch = self.hub._watches[self.key]
        async with watch.changed:
            try:
                await asyncio.wait_for(watch.changed.wait_for(lambda: watch.version > self.seen), timeout)
            except TimeoutError:
                return None
            self.seen = watch.version
            return watch.snapshot

    def close(self) -> None:
        self.hub._leave(self)


class EventHub:
    """Watchers by ``(kind, id)``; :meth:`subscribe` checks the caps and joins (or starts) one."""

    def __init__(self, *, max_total: int, max_per_owner: int) -> None:
        self.max_total = max_total
        self.max_per_owner = max_per_owner
        self._watches: dict[tuple[str, str], _Watch] = {}
        self._per_owner: dict[str, int] = {}
        self._total = 0

    @property
    def open_streams(self) -> int:
        return self._total

    @property
    def watchers(self) -> int:
        return len(self._watches)

    def subscribe(
        self, kind: str, job_id: str, owner: str, *, read: Callable[[], Snapshot], first: Snapshot, poll_s: float
    ) -> Subscription:
        """Join job ``(kind, job_id)``'s watcher (starting it with ``first`` as its snapshot);
        :class:`StreamLimitReached` past a cap."""
        if self._total >= self.max_total:
            raise StreamLimitReached(
                f"the gateway has {self._total} event streams open, its cap (LESDE_MAX_EVENT_STREAMS); retry later, or poll the job"
            )
        if self._per_owner.get(owner, 0) >= self.max_per_owner:
            raise StreamLimitReached(
                f"owner {owner!r} has {self._per_owner[owner]} event streams open, the cap per owner "
                "(LESDE_MAX_EVENT_STREAMS_PER_OWNER); close some, or poll the job"
            )
        key = (kind, job_id)
        watch = self._watches.get(key)
        if watch is None:
            watch = self._watches[key] = _Watch(read=read, poll_s=poll_s, snapshot=first, version=1)
            watch.task = asyncio.get_running_loop().create_task(self._watch(key, watch), name=f"events-{kind}-{job_id}")
        watch.subscribers += 1
        self._per_owner[owner] = self._per_owner.get(owner, 0) + 1
        self._total += 1
        return Subscription(self, key, owner)

    def _leave(self, subscription: Subscription) -> None:
        watch = self._watches.get(subscription.key)
        self._total -= 1
        left = self._per_owner.get(subscription.owner, 1) - 1
        if left:
            self._per_owner[subscription.owner] = left
        else:
            self._per_owner.pop(subscription.owner, None)
        if watch is None:
            return
        watch.subscribers -= 1
        if watch.subscribers <= 0:
            self._watches.pop(subscription.key, None)
            if watch.task is not None:
                watch.task.cancel()

    async def _watch(self, key: tuple[str, str], watch: _Watch) -> None:
        """Read the snapshot every ``poll_s`` and publish it when it changed; stop when the job is gone."""
        while True:
            await asyncio.sleep(watch.poll_s)
            current: Snapshot | object  # a snapshot, or GONE
            try:
                current = await run_in_threadpool(watch.read)
            except (JobNotFound, SweepNotFound):
                current = GONE
            except StoreUnavailable:
                continue  # an outage: no news; the streams keep their heartbeats
            if current == watch.snapshot:
                continue
            async with watch.changed:
                watch.snapshot = current
                watch.version += 1
                watch.changed.notify_all()
            if current is GONE:
                return

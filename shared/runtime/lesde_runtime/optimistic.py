"""Optimistic concurrency: a compare-and-swap that lost to another writer reads again and tries again.

A job record is rewritten by several processes (the gateway, a worker and its heartbeat
thread, the reaper). Each write is a compare-and-swap on the version it read
(:meth:`lesde_contract.object_store.ObjectStore.put_if`): a writer whose version went stale gets
:class:`~lesde_contract.object_store.PreconditionFailed`, nothing written, and :class:`ConflictRetry`
runs its read-change-write again after a short pause. Pauses double and are cut to a random
50-100 % (so two writers that collided do not collide again in step); after ``attempts``
lost races the write gives up with :class:`WriteContention`, a retryable
:class:`~lesde_contract.object_store.StoreUnavailable`: Celery re-sends a task that meets it, the
gateway answers 503.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from lesde_contract.object_store import PreconditionFailed, StoreUnavailable

T = TypeVar("T")


class WriteContention(StoreUnavailable):
    """Every attempt of a compare-and-swap lost to a concurrent writer."""

    def __init__(self, key: str, attempts: int) -> None:
        super().__init__(f"the object store could not update {key!r} (other writers changed it first, {attempts} times)", retryable=True)
        self.key = key
        self.attempts = attempts


@dataclass(frozen=True)
class ConflictRetry:
    """Run a read-change-write until its compare-and-swap wins, at most ``attempts`` times.

    The defaults give up after about 3-6 s of pauses: far more than a handful of writers on
    one record ever need (each write takes milliseconds), far less than a lease."""

    attempts: int = 30
    first_pause_s: float = 0.005
    max_pause_s: float = 0.25
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def run(self, attempt: Callable[[], T], *, key: str) -> T:
        """``attempt()`` (which reads, changes and writes ``key``), again after each :class:`PreconditionFailed`."""
        pause = self.first_pause_s
        for _lost in range(self.attempts - 1):
            try:
                return attempt()
            except PreconditionFailed:
                self.sleep(pause * (0.5 + 0.5 * self.jitter()))
                pause = min(self.max_pause_s, pause * 2)
        try:
            return attempt()
        except PreconditionFailed:
            raise WriteContention(key, self.attempts) from None

"""The delayed purge of deleted jobs: a timer of the gateway's process.

A delete (``lesde_api.operations.job_views.delete_job``) writes the job's tombstone, removes its
objects, and asks for its prefix to be removed once more when no write that checked before
the tombstone can still land (:func:`lesde_runtime.tombstones.purge_delay_s`): what a writer that died
between its write and its second check left, or a PUT the server completed after its client
gave up. :data:`timer` runs such calls at their time, from one daemon thread (not the
server's request pool, whose threads would sleep through the delay; not a thread per call,
which a bulk delete would multiply).

The timer belongs to the process that deletes: the gateway starts it in its lifespan and
stops it on shutdown (``lesde_api.main``). There each purge runs at its exact delay, with no
store request until then. Calls pending when the process ends are not lost: each delete also
left a note in the store, and the reaper's full scan (:func:`lesde_runtime.tombstones.purge_buried`)
purges what no timer did. (Run by the reaper instead, the purge would wait for a pass after
its delay and cost a listing every pass: the timer is the prompt path, the reaper the durable one.)
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

__all__ = ["PurgeTimer", "purge_later", "timer"]


class PurgeTimer:
    """Calls run once their time has come, by one daemon thread while the timer runs.

    Calls may be scheduled at any time; they run once :meth:`start` was called. :meth:`stop`
    lets the thread go (it does not wait for it) and keeps the calls not yet due, for a later
    :meth:`start` in this process."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._due: list[tuple[float, int, Callable[[], object]]] = []
        self._condition = threading.Condition()
        self._scheduled = 0
        self._generation = 0  # bumped by start and stop: a thread runs while its generation is current
        self._running = False

    @property
    def running(self) -> bool:
        with self._condition:
            return self._running

    def start(self) -> None:
        """Run due calls from now on (a no-op while running)."""
        with self._condition:
            if self._running:
                return
            self._running = True
            self._generation += 1
            threading.Thread(target=self._run, args=(self._generation,), name="lesde-delayed-purge", daemon=True).start()

    def stop(self) -> None:
        """Run no more calls; the thread ends at once, or after the call it is running."""
        with self._condition:
            self._running = False
            self._generation += 1
            self._condition.notify_all()

    def schedule(self, delay_s: float, call: Callable[[], object]) -> None:
        """Run ``call()`` ``delay_s`` seconds from now (once the timer runs)."""
        with self._condition:
            self._scheduled += 1
            heapq.heappush(self._due, (self._clock() + delay_s, self._scheduled, call))
            self._condition.notify_all()

    def pending(self) -> int:
        """How many calls have not run yet."""
        with self._condition:
            return len(self._due)

    def _run(self, generation: int) -> None:
        while True:
            with self._condition:
                while self._generation == generation and (not self._due or self._due[0][0] > self._clock()):
                    self._condition.wait(timeout=self._due[0][0] - self._clock() if self._due else None)
                if self._generation != generation:
                    return
                _when, _order, call = heapq.heappop(self._due)
            try:
                call()
            except Exception:  # the reaper's purge_buried repeats it
                log.exception("delayed purge of a deleted job failed")


#: the gateway's timer (started and stopped by its lifespan)
timer = PurgeTimer()


def purge_later(delay_s: float, call: Callable[[], object]) -> None:
    """Schedule ``call`` on :data:`timer`: what ``delete_job`` does with a deleted job's purge."""
    timer.schedule(delay_s, call)

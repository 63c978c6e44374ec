"""A cap on each owner's unfinished jobs (``LESDE_MAX_UNFINISHED_JOBS_PER_OWNER``).

Unfinished: queued or running experiments (a sweep's children and imports among them) and
simulations, counted from the listing index (:mod:`lesde_runtime.job_index`: keys only, one
listing per kind and status). A sweep's own record is not counted; its children are.

Submissions of one owner are admitted one at a time in this process, the count and the
record written under one lock, so a burst through one gateway cannot overshoot. Several
gateway processes each admit on their own: together they can overshoot by at most one
submission each at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from lesde_contract.object_store import ObjectStore
from lesde_contract.records import JobKind, JobStatus
from lesde_runtime.job_repository import JobRepository

COUNTED_KINDS: tuple[JobKind, ...] = ("experiment", "simulation")
UNFINISHED = (JobStatus.queued, JobStatus.running)
RETRY_AFTER_S = 30  # jobs take minutes: sooner would only be refused again


class QuotaExceeded(RuntimeError):
    """The owner already has as many unfinished jobs as allowed (answered 429 with Retry-After)."""

    retry_after_s = RETRY_AFTER_S


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_of(owner: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(owner, threading.Lock())


def unfinished_jobs(store: ObjectStore, owner: str) -> int:
    """Queued or running jobs of ``owner`` (see the module docstring for which)."""
    return sum(JobRepository(store, kind).list(status=status, owner=owner, limit=0)[1] for kind in COUNTED_KINDS for status in UNFINISHED)


@contextmanager
def admitted(store: ObjectStore, owner: str, *, adding: int, limit: int) -> Iterator[None]:
    """Hold ``owner``'s admission while the caller records ``adding`` new jobs; raise
    :class:`QuotaExceeded` first if they would take the owner over ``limit``."""
    with _lock_of(owner):
        current = unfinished_jobs(store, owner)
        if current + adding > limit:
            raise QuotaExceeded(
                f"owner {owner!r} has {current:,} unfinished (queued or running) jobs and this submission adds {adding:,}; "
                f"this deployment allows {limit:,} per owner (LESDE_MAX_UNFINISHED_JOBS_PER_OWNER): retry when some "
                "have finished, or cancel some"
            )
        yield

"""Riding out a store outage: retry an operation with exponential backoff and jitter for at
least a budget of seconds, then fail with :class:`StoreUnavailable`.

A budget in seconds rather than a count of attempts, because an outage lasts a time (an
S3 server restarting, a network path flapping): workers wait at least
``LESDE_STORE_RETRY_SECONDS`` (60 s) so such an outage costs a pause, not a job; the
gateway waits ``LESDE_API_STORE_RETRY_SECONDS`` (2 s) so a request answers 503 quickly
instead of holding a server thread. A task that still fails is re-sent by Celery
(:func:`outage_task_options`), so its job is neither marked done nor lost.

Each store turns its own errors into :class:`StoreUnavailable` (``retryable`` or not)
with :func:`unavailable`, whose message names the operation, the key and the kind of
failure, never the host, port or bucket: it reaches HTTP answers and job records.
"""

from __future__ import annotations

import errno
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from lesde_contract.object_store import StoreUnavailable

from lesde_runtime.settings import StoreRetrySettings

T = TypeVar("T")

FIRST_DELAY_S = 0.1


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt an operation until it succeeds, fails for good, or ``budget_s`` has passed.

    Pauses double from ``first_delay_s`` up to ``max_delay_s``; each is cut to a random
    50-100 % (``jitter``) so that workers restarted together do not retry in step. The
    last pause is cut to end at the deadline, so the final attempt happens when the
    budget is spent: an operation gives up after at least ``budget_s``.
    ``clock``, ``sleep`` and ``jitter`` are injectable for tests.
    """

    budget_s: float
    first_delay_s: float = FIRST_DELAY_S
    max_delay_s: float = 5.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def run(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, again after each retryable :class:`StoreUnavailable` while the budget lasts."""
        started = self.clock()
        deadline = started + self.budget_s
        delay = self.first_delay_s
        attempts = 0
        while True:
            attempts += 1
            try:
                return attempt()
            except StoreUnavailable as error:
                left = deadline - self.clock()
                if not error.retryable or left <= 0:
                    if attempts == 1:
                        raise
                    spent = self.clock() - started
                    raise StoreUnavailable(f"{error}; gave up after {attempts} attempts in {spent:.1f} s") from error
                self.sleep(min(left, delay * (0.5 + 0.5 * self.jitter())))
                delay = min(self.max_delay_s, delay * 2)


def worker_policy(settings: StoreRetrySettings | None = None) -> RetryPolicy:
    settings = settings or StoreRetrySettings()
    return RetryPolicy(budget_s=settings.store_retry_seconds, max_delay_s=settings.store_retry_max_delay_seconds)


def gateway_policy(settings: StoreRetrySettings | None = None) -> RetryPolicy:
    settings = settings or StoreRetrySettings()
    return RetryPolicy(budget_s=settings.api_store_retry_seconds, max_delay_s=settings.store_retry_max_delay_seconds)


# errno values after which the same call may well succeed a moment later.
TRANSIENT_ERRNOS = frozenset(
    code
    for name in (
        "EAGAIN",
        "EBUSY",
        "EINTR",
        "EIO",
        "ENOSPC",
        "EDQUOT",
        "ESTALE",
        "ETIMEDOUT",
        "ECONNREFUSED",
        "ECONNRESET",
        "ECONNABORTED",
        "EPIPE",
        "ENOTCONN",
        "EHOSTDOWN",
        "EHOSTUNREACH",
        "ENETDOWN",
        "ENETUNREACH",
        "ENETRESET",
    )
    if (code := getattr(errno, name, None)) is not None
)


def describe(error: BaseException) -> str:
    """The kind of failure, in words that name no address: ``connection refused``, ``timed out``.

    Library messages are not used: urllib3's and minio's name the host, port and bucket."""
    for cause in _chain(error):
        if isinstance(cause, OSError) and cause.errno is not None:
            return (cause.strerror or errno.errorcode.get(cause.errno, str(cause.errno))).lower()
        if isinstance(cause, TimeoutError) or "Timeout" in type(cause).__name__:
            return "timed out"
    return type(error).__name__


def _chain(error: BaseException) -> list[BaseException]:
    """``error``, then what it wraps (``reason``, the cause, the context, exception args), breadth first."""
    seen: list[BaseException] = []
    pending = [error]
    while pending and len(seen) < 20:
        current = pending.pop(0)
        if any(current is known for known in seen):
            continue
        seen.append(current)
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return seen


def unavailable(operation: str, key: str | None, reason: str, *, retryable: bool) -> StoreUnavailable:
    """The error a store raises: ``the object store could not get 'experiments/x/status.json' (timed out)``."""
    what = f" {key!r}" if key is not None else ""
    return StoreUnavailable(f"the object store could not {operation}{what} ({reason})", retryable=retryable)


def outage_task_options(settings: StoreRetrySettings | None = None) -> dict:
    """Celery task options: a task that met a store outage (after the store's own retries)
    is re-sent with exponential backoff instead of being acknowledged as done.

    ``autoretry_for`` makes Celery call ``task.retry`` (celery/app/autoretry.py): the same
    task goes back to the queue with a countdown of ``retry_backoff * 2**retries`` seconds,
    capped at ``retry_backoff_max`` and drawn at random below it (``retry_jitter``); after
    ``max_retries`` the error propagates and the task fails (then the reaper's lease
    expiry takes over)."""
    settings = settings or StoreRetrySettings()
    return {
        "autoretry_for": (StoreUnavailable,),
        "retry_backoff": 5,
        "retry_backoff_max": 600,
        "retry_jitter": True,
        "max_retries": settings.store_outage_task_retries,
    }

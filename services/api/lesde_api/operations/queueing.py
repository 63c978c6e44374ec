"""Every message the gateway sends goes through :func:`enqueue`.

A broker that refuses a message must not leave behind something that says ``queued``
forever: whoever calls names what to mark as failed, and the request answers 503.
"""

from __future__ import annotations

from collections.abc import Callable

from lesde import celery_app
from lesde.jobs import JobRepository
from lesde.records import JobRecord, JobStatus


class BrokerUnavailable(RuntimeError):
    """The task broker refused or could not take a message (answered as 503)."""


def enqueue(task_name: str, *args: object, on_failure: Callable[[str], None] = lambda _error: None) -> None:
    """Send ``task_name(*args)`` to its queue; on failure call ``on_failure(error text)``, then raise BrokerUnavailable."""
    try:
        celery_app.send(task_name, *args)
    except Exception as error:  # kombu raises many types for a dead broker
        on_failure(f"could not enqueue: {error}")
        raise BrokerUnavailable(f"the task broker is unreachable: {error}") from error


def enqueue_job(repo: JobRepository, record: JobRecord, task_name: str) -> None:
    """Send the task that runs job ``record``; a broker failure fails the job visibly."""
    enqueue(task_name, record.id, on_failure=lambda error: repo.mark_finished(record.id, JobStatus.failed, error=error))

"""Every message the gateway sends goes through :func:`enqueue`.

A broker that refuses a message must not leave behind something that says ``queued``
forever: whoever calls names what to mark as failed, and the request answers 503.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from lesde_contract.records import JobRecord, JobStatus
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobRepository

from lesde_api.redact import without_addresses


class BrokerUnavailable(RuntimeError):
    """The task broker refused or could not take a message (answered as 503)."""


log = logging.getLogger(__name__)


def enqueue(task_name: str, *args: object, on_failure: Callable[[str], object] = lambda _error: None) -> None:
    """Send ``task_name(*args)`` to its queue; on failure call ``on_failure(error text)``, then raise BrokerUnavailable."""
    try:
        celery_app.send(task_name, *args)
    except Exception as error:  # kombu raises many types for a dead broker
        reason = without_addresses(str(error))  # it reaches the job's record and the answer
        on_failure(f"could not enqueue: {reason}")
        raise BrokerUnavailable(f"the task broker is unreachable: {reason}") from error


def enqueue_job(repo: JobRepository, record: JobRecord, task_name: str) -> None:
    """Send the task that runs job ``record``; a broker failure fails the job visibly.

    ``enqueued_at`` is written first, while no worker can hold the message: the reaper
    re-sends a queued job whose message the broker lost, counting from it. A send asked
    for here (a submission, a retry) gives the job ``LESDE_MAX_ATTEMPTS`` starts anew.
    """
    repo.mark_enqueued(record.id, reset_attempts=True)
    enqueue(task_name, record.id, on_failure=lambda error: repo.mark_finished(record.id, JobStatus.failed, error=error))


def enqueue_new_job(repo: JobRepository, record: JobRecord, task_name: str) -> None:
    """Send the task of a job just submitted; if the broker refuses, the job is removed again
    (objects and index entry) before :class:`BrokerUnavailable` is raised, so a 503 leaves
    no record behind: the client was told nothing was accepted, and the listing agrees."""
    repo.mark_enqueued(record.id, reset_attempts=True)
    try:
        enqueue(task_name, record.id)
    except BrokerUnavailable:
        try:
            repo.delete(record.id)
        except Exception:  # the store failing too: fail it visibly instead, as before
            log.warning("could not remove job %s after the broker refused it; marking it failed", record.id, exc_info=True)
            repo.mark_finished(record.id, JobStatus.failed, error="could not enqueue: the task broker is unreachable")
        raise

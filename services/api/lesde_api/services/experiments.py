"""Submitting experiments: validate against deployment limits, record, enqueue."""

from __future__ import annotations

from lesde import celery_app
from lesde.jobs import JobRepository
from lesde.records import JobRecord, JobStatus
from lesde.specs import ExperimentSpec, check_work_cap


class BrokerUnavailable(RuntimeError):
    pass


def submit_experiment(repo: JobRepository, spec: ExperimentSpec, *, owner: str, cap: int) -> JobRecord:
    """Record the job (status ``queued``) and enqueue its training task."""
    check_work_cap(spec, cap)
    record = repo.create(
        spec=spec.model_dump(mode="json"),
        owner=owner,
        name=spec.name,
        total=spec.training.iterations,
        unit="iterations",
    )
    enqueue(repo, record, celery_app.TRAIN_EXPERIMENT)
    return record


def enqueue(repo: JobRepository, record: JobRecord, task_name: str) -> None:
    """Send the task; a broker failure fails the job visibly instead of leaving it queued forever."""
    try:
        celery_app.send(task_name, record.id)
    except Exception as error:  # kombu raises many types for a dead broker
        repo.mark_finished(record.id, JobStatus.failed, error=f"could not enqueue: {error}")
        raise BrokerUnavailable(f"the task broker is unreachable: {error}") from error

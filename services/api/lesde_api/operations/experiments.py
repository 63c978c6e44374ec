"""Submitting experiments: validate against deployment limits, record, enqueue."""

from __future__ import annotations

from lesde_contract.records import JobRecord
from lesde_contract.specs import ExperimentSpec, check_work_cap
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.settings import TrainerSettings, WorkCapSettings

from lesde_api.operations.datasets import check_uploaded, mark_user
from lesde_api.operations.queueing import enqueue_new_job


def submit_experiment(repo: JobRepository, spec: ExperimentSpec, *, owner: str, cap: int) -> JobRecord:
    """Record the job (status ``queued``) and enqueue its training task."""
    record = record_experiment(repo, spec, owner=owner, cap=cap)
    enqueue_new_job(repo, record, celery_app.TRAIN_EXPERIMENT)
    return record


def record_experiment(repo: JobRepository, spec: ExperimentSpec, *, owner: str, cap: int, sweep_id: str | None = None) -> JobRecord:
    """Check the work cap and record the job as ``queued``, without enqueueing it (a sweep
    records all its children before it enqueues any)."""
    datasets = JobRepository(repo.store, "dataset")
    check_uploaded(datasets, spec, owner=owner)  # an uploaded data set: the caller's, valid, fitting the spec
    check_work_cap(spec, cap, limits=WorkCapSettings(), chunk_iterations=TrainerSettings().chunk_iterations)
    record = repo.create(
        spec=spec.model_dump(mode="json"),
        owner=owner,
        name=spec.name,
        total=spec.training.iterations,
        unit="iterations",
        sweep_id=sweep_id,
    )
    mark_user(datasets, spec, record.id)
    return record

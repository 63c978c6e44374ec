"""Celery task of the training worker (queue ``train``): a thin wrapper.

A store outage that outlasts the store's own retries is re-sent by Celery with backoff
(:func:`~lesde_runtime.storage.outage_task_options`), never acknowledged as done: the re-sent
task resumes from the last checkpoint.
"""

from __future__ import annotations

from lesde_runtime import celery_app
from lesde_runtime.storage import make_store, outage_task_options

from lesde_trainer.training_job import run_training_job


@celery_app.app.task(name=celery_app.TRAIN_EXPERIMENT, acks_late=True, reject_on_worker_lost=True, **outage_task_options())
def train_experiment_task(job_id: str) -> None:
    run_training_job(make_store(), job_id)

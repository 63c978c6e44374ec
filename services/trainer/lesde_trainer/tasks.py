"""Celery task of the training worker (queue ``train``): a thin wrapper."""

from __future__ import annotations

from lesde import celery_app
from lesde.storage import make_store
from lesde_trainer.job import run_training_job


@celery_app.app.task(name=celery_app.TRAIN_EXPERIMENT, acks_late=True, reject_on_worker_lost=True)
def train_experiment_task(job_id: str) -> None:
    run_training_job(make_store(), job_id)

"""Celery tasks of the analyzer worker (queue ``analyze``): thin wrappers."""

from __future__ import annotations

from lesde import celery_app
from lesde.storage import make_store
from lesde_analyzer.pipeline.run import run_experiment_analysis
from lesde_analyzer.pipeline.simulation_job import run_simulation_job


@celery_app.app.task(name=celery_app.ANALYZE_EXPERIMENT, acks_late=True)
def analyze_experiment_task(job_id: str) -> None:
    run_experiment_analysis(make_store(), job_id)


@celery_app.app.task(name=celery_app.RUN_SIMULATION, acks_late=True)
def run_simulation_task(job_id: str) -> None:
    run_simulation_job(make_store(), job_id)

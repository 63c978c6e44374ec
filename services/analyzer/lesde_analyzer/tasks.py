"""Celery tasks of the analyzer worker (queue ``analyze``): thin wrappers.

Each is re-sent by Celery with backoff when a store outage outlasts the store's own
retries (:func:`~lesde_runtime.storage.outage_task_options`), instead of being acknowledged as
done with its job's status unwritten.
"""

from __future__ import annotations

from lesde_runtime import celery_app
from lesde_runtime.analysis_leases import SWEEP_KEY
from lesde_runtime.storage import make_store, outage_task_options

from lesde_analyzer.datasets.validation_job import run_dataset_validation
from lesde_analyzer.experiments.analysis_job import render_figure_variant, run_experiment_analysis
from lesde_analyzer.imports import run_import_job
from lesde_analyzer.simulations.simulation_job import run_simulation_job
from lesde_analyzer.sweeps import run_sweep_analysis
from lesde_analyzer.sweeps.sweep_analysis_job import render_sweep_figure_variant

OUTAGE_RETRY = outage_task_options()


@celery_app.app.task(name=celery_app.ANALYZE_EXPERIMENT, acks_late=True, **OUTAGE_RETRY)
def analyze_experiment_task(job_id: str, options: dict | None = None) -> None:
    run_experiment_analysis(make_store(), job_id, options)


@celery_app.app.task(name=celery_app.IMPORT_EXPERIMENT, acks_late=True, **OUTAGE_RETRY)
def import_experiment_task(job_id: str) -> None:
    run_import_job(make_store(), job_id)


@celery_app.app.task(name=celery_app.RENDER_FIGURE, acks_late=True, **OUTAGE_RETRY)
def render_figure_task(
    job_id: str, options_key: str, name: str, width: float, height: float, dpi: int, fmt: str = "png", share_with: str | None = None
) -> None:
    """A figure rendered on request: an experiment's (``options_key`` its option set), or, with
    ``options_key`` :data:`~lesde_runtime.analysis_leases.SWEEP_KEY`, sweep ``job_id``'s. ``fmt`` and
    ``share_with`` are left out of the messages that need neither (older workers take six arguments)."""
    if options_key == SWEEP_KEY:
        render_sweep_figure_variant(make_store(), job_id, name, width, height, dpi, fmt)
    else:
        render_figure_variant(make_store(), job_id, options_key, name, width, height, dpi, fmt, share_with)


@celery_app.app.task(name=celery_app.RUN_SIMULATION, acks_late=True, **OUTAGE_RETRY)
def run_simulation_task(job_id: str) -> None:
    run_simulation_job(make_store(), job_id)


@celery_app.app.task(name=celery_app.ANALYZE_SWEEP, acks_late=True, **OUTAGE_RETRY)
def analyze_sweep_task(sweep_id: str) -> None:
    run_sweep_analysis(make_store(), sweep_id)


@celery_app.app.task(name=celery_app.VALIDATE_DATASET, acks_late=True, **OUTAGE_RETRY)
def validate_dataset_task(dataset_id: str) -> None:
    run_dataset_validation(make_store(), dataset_id)

"""Worker entry point: ``celery -A lesde_trainer.worker worker -Q train``."""

from lesde_runtime.celery_app import app
from lesde_runtime.task_signals import observe_worker  # first to import prometheus_client (lesde_runtime.worker_metrics says why)

from lesde_trainer import tasks  # noqa: F401 - imported for its side effect: it registers the task

observe_worker("trainer")  # logs with the job's fields, the job's stored lines, metrics: around every task

__all__ = ["app"]

"""Worker entry point: ``celery -A lesde_trainer.worker worker -Q train``."""

from lesde.celery_app import app
from lesde.task_signals import observe_worker  # first to import prometheus_client (lesde.metrics says why)

from lesde_trainer import tasks  # noqa: F401 - imported for its side effect: it registers the task

observe_worker("trainer")  # logs with the job's fields, the job's stored lines, metrics: around every task

__all__ = ["app"]

"""Worker entry point: ``celery -A lesde_analyzer.worker worker -Q analyze``."""

from lesde_runtime.celery_app import app
from lesde_runtime.task_signals import observe_worker  # first to import prometheus_client (lesde_runtime.worker_metrics says why)

from lesde_analyzer import tasks  # noqa: F401  (registers the tasks)

observe_worker("analyzer")  # logs with the job's fields, the job's stored lines, metrics: around every task

__all__ = ["app"]

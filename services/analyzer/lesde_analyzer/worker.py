"""Worker entry point: ``celery -A lesde_analyzer.worker worker -Q analyze``."""

from lesde.celery_app import app
from lesde_analyzer import tasks  # noqa: F401  (registers the tasks)

__all__ = ["app"]

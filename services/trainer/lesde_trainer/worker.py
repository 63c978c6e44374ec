"""Worker entry point: ``celery -A lesde_trainer.worker worker -Q train``."""

from lesde.celery_app import app
from lesde_trainer import tasks  # noqa: F401  (registers the task)

__all__ = ["app"]

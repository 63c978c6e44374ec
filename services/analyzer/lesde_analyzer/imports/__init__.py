"""Imports: the authors' CSV (``grid``, ``chunks``) or a recorded run's staged chunks (``run``)
become an experiment's chunks; ``job`` runs them as the import task.

``job`` (Celery, the store's leases) is imported on first use: ``lesde.analyze`` writes a
table into chunks with :mod:`.chunks` in a process that has no Celery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lesde_analyzer.imports.import_job import run_import_job

__all__ = ["run_import_job"]


def __getattr__(name: str) -> Any:
    if name == "run_import_job":
        from lesde_analyzer.imports.import_job import run_import_job  # lazy: Celery and the leases, absent where lesde.analyze runs

        return run_import_job
    raise AttributeError(f"module 'lesde_analyzer.imports' has no attribute {name!r}")

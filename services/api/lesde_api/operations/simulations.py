"""Submitting simulations and phase diagrams: record, enqueue on the analyzer queue."""

from __future__ import annotations

from lesde import celery_app
from lesde.jobs import JobRepository
from lesde.records import JobRecord
from lesde.specs.simulation import PhaseDiagramSpec, SimulationSpec

from lesde_api.operations.queueing import enqueue_new_job


def submit_simulation(repo: JobRepository, spec: SimulationSpec | PhaseDiagramSpec, *, owner: str, steps: int) -> JobRecord:
    """The stored spec tells the worker which it is: a phase diagram has ``grid``."""
    record = repo.create(spec=spec.model_dump(mode="json"), owner=owner, name=None, total=steps, unit="steps")
    enqueue_new_job(repo, record, celery_app.RUN_SIMULATION)
    return record

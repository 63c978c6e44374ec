"""Submitting simulations and phase diagrams (record, enqueue on the analyzer queue), and their figures."""

from __future__ import annotations

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound
from lesde_contract.records import JobRecord
from lesde_contract.specs.simulation import PhaseDiagramSpec, SimulationSpec
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobConflict, JobRepository

from lesde_api.operations.figures import stored_figure_names
from lesde_api.operations.job_views import ResourceMissing
from lesde_api.operations.queueing import enqueue_new_job


def submit_simulation(repo: JobRepository, spec: SimulationSpec | PhaseDiagramSpec, *, owner: str, steps: int) -> JobRecord:
    """The stored spec tells the worker which it is: a phase diagram has ``grid``."""
    record = repo.create(spec=spec.model_dump(mode="json"), owner=owner, name=None, total=steps, unit="steps")
    enqueue_new_job(repo, record, celery_app.RUN_SIMULATION)
    return record


def get_simulation_figure(repo: JobRepository, job_id: str, name: str, *, fmt: str = "png") -> bytes:
    """Figure ``name`` as ``fmt`` (``png``, ``svg``, ``pdf``); 409 while the job runs, 404 naming the stored figures.

    A result stored before figures were kept as SVG and PDF has only its PNG: its figures are
    drawn from the simulated trajectories, which are not stored, so no format can be rendered
    later; the 404 says so (the same spec and seed, submitted again, give the same result).
    """
    record = repo.get(job_id)
    try:
        return repo.store.get_bytes(object_keys.figure_key("simulation", job_id, name, fmt))
    except ObjectNotFound:
        pass
    if not record.status.finished:
        raise JobConflict(
            f"figures of simulation {job_id} are not available while the job is {record.status.value}; poll the job until it has finished"
        )
    available = stored_figure_names(repo.store, object_keys.job_prefix("simulation", job_id) + "figures/")
    if fmt != "png" and name in available:
        raise ResourceMissing(
            f"figure {name!r} of simulation {job_id} is stored as PNG only: the simulation ran before figures were also kept as "
            f"SVG and PDF, and its trajectories are not stored to draw them again; submit the same spec (same seed: the same "
            f"result) for every format, or take /v1/simulations/{job_id}/figures/{name}.png"
        )
    raise ResourceMissing(f"no figure {name!r} for simulation {job_id}; available: {available}")

"""Run one stored simulation or phase-diagram job and write its result JSON and figures.

The summary names its figures (``"figures"``: a list); the gateway builds their links.
The job runs under a lease (:mod:`lesde_runtime.leases`): a second delivery of its task while the
first runs is refused, and a run that lost its lease writes no result.
"""

from __future__ import annotations

import logging

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectStore, StoreUnavailable
from lesde_contract.records import AnalysisState, JobStatus
from lesde_contract.specs.simulation import PhaseDiagramSpec, SimulationSpec
from lesde_runtime.job_repository import JobNotFound, JobRepository
from lesde_runtime.leases import hold_lease
from lesde_runtime.settings import LeaseSettings
from lesde_runtime.tombstones import JobDeleted, guarded_write

from lesde_analyzer.figures.formats import MEDIA_TYPES
from lesde_analyzer.simulations.service import run_phase_diagram, run_simulation

log = logging.getLogger(__name__)


def run_simulation_job(store: ObjectStore, job_id: str, *, leases: LeaseSettings | None = None) -> None:
    """Simulate, store ``analysis/summary.json`` and ``figures/<name>.{png,svg,pdf}``, record the outcome."""
    repo = JobRepository(store, "simulation")
    with hold_lease(repo, job_id, leases) as lease:
        if lease is None:
            return
        try:
            raw = repo.get_spec(job_id)
            if "grid" in raw:
                result = run_phase_diagram(PhaseDiagramSpec.model_validate(raw))
            else:
                result = run_simulation(SimulationSpec.model_validate(raw))
            if not lease.confirm() or lease.lost:
                log.warning("simulation %s is run by another worker; this run writes nothing", job_id)
                return
            _store_results(store, job_id, result.figure_files(), result.summary)
        except JobDeleted:
            log.info("simulation %s was deleted while it ran; stopped", job_id)
            return
        except StoreUnavailable:  # an outage past the store's retries: the task is re-sent
            raise
        except Exception as error:
            log.exception("simulation %s failed", job_id)
            repo.mark_finished(job_id, JobStatus.failed, error=f"{type(error).__name__}: {error}")
            return

        def all_steps_done(record):  # noqa: ANN001, ANN202
            record.progress.done = record.progress.total

        try:
            repo.update(job_id, all_steps_done)
            repo.mark_finished(job_id, JobStatus.succeeded, analysis=AnalysisState.succeeded)
        except (JobDeleted, JobNotFound):
            log.info("simulation %s was deleted as it finished", job_id)


def _store_results(store: ObjectStore, job_id: str, figures: dict[str, dict[str, bytes]], summary: dict) -> None:
    """Figures (each as PNG, SVG and PDF), then the summary that names them, each only while the
    job exists (:mod:`lesde_runtime.tombstones`)."""
    for name, files in figures.items():
        for fmt, data in files.items():
            target = object_keys.figure_key("simulation", job_id, name, fmt)
            guarded_write(store, "simulation", job_id, target, lambda: store.put_bytes(target, data, content_type=MEDIA_TYPES[fmt]))  # noqa: B023 - called at once
    summary = dict(summary) | {"figures": list(figures)}
    target = object_keys.analysis_key("simulation", job_id, "summary")
    guarded_write(store, "simulation", job_id, target, lambda: store.put_json(target, summary))

"""Run one stored simulation or phase-diagram job and write its result JSON and figures.

The summary names its figures (``"figures"``: a list); the gateway builds their links.
"""

from __future__ import annotations

import logging

from lesde import keys
from lesde.jobs import JobRepository
from lesde.records import AnalysisState, JobStatus
from lesde.specs.simulation import PhaseDiagramSpec, SimulationSpec
from lesde.storage import ObjectStore
from lesde_analyzer.simulations.service import run_phase_diagram, run_simulation

log = logging.getLogger(__name__)


def run_simulation_job(store: ObjectStore, job_id: str) -> None:
    """Simulate, store ``analysis/summary.json`` and ``figures/<name>.png``, record the outcome."""
    repo = JobRepository(store, "simulation")
    if repo.start(job_id) is None:
        return
    try:
        raw = repo.get_spec(job_id)
        if "grid" in raw:
            result = run_phase_diagram(PhaseDiagramSpec.model_validate(raw))
        else:
            result = run_simulation(SimulationSpec.model_validate(raw))
        for name, png in result.figures.items():
            store.put_bytes(keys.figure_key("simulation", job_id, name), png, content_type="image/png")
        summary = dict(result.summary)
        summary["figures"] = list(result.figures)
        store.put_json(keys.analysis_key("simulation", job_id, "summary"), summary)
    except Exception as error:
        log.exception("simulation %s failed", job_id)
        repo.mark_finished(job_id, JobStatus.failed, error=f"{type(error).__name__}: {error}")
        return

    def all_steps_done(record):  # noqa: ANN001, ANN202
        record.progress.done = record.progress.total

    repo.update(job_id, all_steps_done)
    repo.mark_finished(job_id, JobStatus.succeeded, analysis=AnalysisState.succeeded)

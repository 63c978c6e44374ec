"""``/v1/simulations``: LE-SDE theory runs and phase diagrams (plus the shared job routes)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from lesde.records import JobPublic
from lesde.specs.simulation import PhaseDiagramSpec, SimulationSpec
from lesde_api.deps import OwnerDep, SimulationsDep, get_simulations
from lesde_api.routes.job_routes import add_job_routes
from lesde_api.operations import jobs
from lesde_api.operations.links import job_url
from lesde_api.operations.simulations import submit_simulation

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])


def _accepted(repo, spec, owner: str, response: Response, *, steps: int) -> JobPublic:  # noqa: ANN001
    record = submit_simulation(repo, spec, owner=owner, steps=steps)
    response.headers["Location"] = job_url("simulation", record.id)
    return jobs.public_view(repo, record)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def create_simulation(spec: SimulationSpec, repo: SimulationsDep, owner: OwnerDep, response: Response) -> JobPublic:
    """Simulate the LE dynamics (discrete, SDE or ODE; I- or L-model). Results at ``/analysis``."""
    return _accepted(repo, spec, owner, response, steps=spec.steps)


@router.post("/phase-diagram", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def create_phase_diagram(spec: PhaseDiagramSpec, repo: SimulationsDep, owner: OwnerDep, response: Response) -> JobPublic:
    """Separable fraction at the final time over an alpha-beta (Theorem 2.1) or exponent (Theorem 3.1) grid."""
    return _accepted(repo, spec, owner, response, steps=spec.base.steps * spec.size)


add_job_routes(router, get_simulations)

"""``/v1/simulations``: LE-SDE theory runs and phase diagrams (plus the shared job routes)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from lesde.specs.simulation import PhaseDiagramSpec, SimulationSpec
from lesde.records import JobPublic
from lesde_api.models.jobs import SimulationPublic
from lesde_api.deps import LimitsDep, OwnerDep, QuotaDep, SimulationsDep, SubmissionQuota, get_simulations
from lesde_api.routes.job_routes import add_job_routes
from lesde_api.operations import jobs
from lesde_api.operations.links import job_url
from lesde_api.operations.simulation_cost import check_phase_diagram_cost, check_simulation_cost
from lesde_api.operations.simulations import submit_simulation

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])


def _accepted(repo, spec, owner: str, quota: SubmissionQuota, response: Response, *, steps: int) -> SimulationPublic:  # noqa: ANN001
    with quota.admit(owner):
        record = submit_simulation(repo, spec, owner=owner, steps=steps)
    response.headers["Location"] = job_url("simulation", record.id)
    return jobs.public_view(repo, record)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic, responses={202: {"model": SimulationPublic, "description": "Queued."}})
def create_simulation(
    spec: SimulationSpec, repo: SimulationsDep, limits: LimitsDep, owner: OwnerDep, quota: QuotaDep, response: Response
) -> SimulationPublic:
    """Simulate the LE dynamics (discrete, SDE or ODE; I- or L-model). Results at ``/analysis``.
    Its cost is capped (``LESDE_MAX_SIMULATION_WORK``; the ode is not charged for ``samples_per_class``)."""
    check_simulation_cost(spec, limits)
    return _accepted(repo, spec, owner, quota, response, steps=spec.steps)


@router.post("/phase-diagram", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic, responses={202: {"model": SimulationPublic, "description": "Queued."}})
def create_phase_diagram(
    spec: PhaseDiagramSpec, repo: SimulationsDep, limits: LimitsDep, owner: OwnerDep, quota: QuotaDep, response: Response
) -> SimulationPublic:
    """Separable fraction at the final time over an alpha-beta (Theorem 2.1) or exponent (Theorem 3.1) grid."""
    check_phase_diagram_cost(spec, limits)
    return _accepted(repo, spec, owner, quota, response, steps=spec.base.steps * spec.size)


add_job_routes(router, get_simulations, public=SimulationPublic)

"""``/v1/simulations``: LE-SDE theory runs and phase diagrams (plus the shared job routes), their results and
figures (each as PNG, SVG and PDF)."""

from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from fastapi.responses import JSONResponse
from lesde_contract.object_keys import FIGURE_FORMATS
from lesde_contract.records import JobPublic
from lesde_contract.specs.simulation import PhaseDiagramSpec, SimulationSpec

from lesde_api.deps import LimitsDep, OwnerDep, QuotaDep, SimulationsDep, SubmissionQuota, get_simulations
from lesde_api.models.analysis import PhaseDiagramResult, SimulationRun
from lesde_api.models.jobs import SimulationPublic
from lesde_api.operations import job_views
from lesde_api.operations.figures import FIGURE_MEDIA_TYPES
from lesde_api.operations.links import job_url
from lesde_api.operations.simulation_cost import check_phase_diagram_cost, check_simulation_cost
from lesde_api.operations.simulations import get_simulation_figure, submit_simulation
from lesde_api.operations.stored_answers import typed_or_as_stored
from lesde_api.routes.common_job_routes import FIGURE_NAME, add_job_routes

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
router = APIRouter(prefix="/v1/simulations", tags=["simulations"])


def _accepted(repo, spec, owner: str, quota: SubmissionQuota, response: Response, *, steps: int) -> JobPublic:  # noqa: ANN001
    with quota.admit(owner):
        record = submit_simulation(repo, spec, owner=owner, steps=steps)
    response.headers["Location"] = job_url("simulation", record.id)
    return job_views.public_view(repo, record)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses={202: {"model": SimulationPublic, "description": "Queued."}},
)
def create_simulation(
    spec: SimulationSpec, repo: SimulationsDep, limits: LimitsDep, owner: OwnerDep, quota: QuotaDep, response: Response
) -> JobPublic:
    """Simulate the LE dynamics (discrete, SDE or ODE; I- or L-model). Results at ``/analysis``.
    Its cost is capped (``LESDE_MAX_SIMULATION_WORK``; the ode is not charged for ``samples_per_class``)."""
    check_simulation_cost(spec, limits)
    return _accepted(repo, spec, owner, quota, response, steps=spec.steps)


@router.post(
    "/phase-diagram",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses={202: {"model": SimulationPublic, "description": "Queued."}},
)
def create_phase_diagram(
    spec: PhaseDiagramSpec, repo: SimulationsDep, limits: LimitsDep, owner: OwnerDep, quota: QuotaDep, response: Response
) -> JobPublic:
    """Separable fraction at the final time over an alpha-beta (Theorem 2.1) or exponent (Theorem 3.1) grid."""
    check_phase_diagram_cost(spec, limits)
    return _accepted(repo, spec, owner, quota, response, steps=spec.base.steps * spec.size)


add_job_routes(router, get_simulations, public=SimulationPublic, with_analysis=False)


# Typed by the contract's models; a stored result that no longer fits them is answered as stored (never a 500).
@router.get(
    "/{job_id}/analysis", response_model=SimulationRun | PhaseDiagramResult, response_model_exclude_unset=True,
    responses={200: {"description": "The result."}},
)  # fmt: skip
def get_analysis(job_id: str, repo: SimulationsDep) -> SimulationRun | PhaseDiagramResult | JSONResponse:
    """The result JSON (404 before one exists, 409 while the job runs)."""
    body = job_views.get_simulation_summary(repo, job_id)
    what = f"the result of simulation {job_id}"
    if "grid_kind" in body:  # a phase diagram
        return typed_or_as_stored(PhaseDiagramResult, body, what=what)
    return typed_or_as_stored(SimulationRun, body, what=what)


def _add_figure_route(fmt: str) -> None:
    """``GET /{job_id}/figures/{name}.<fmt>``: one route per format, each documenting its media type."""
    media_type = FIGURE_MEDIA_TYPES[fmt]

    @router.get(
        f"/{{job_id}}/figures/{{name}}.{fmt}",
        response_class=Response,
        name=f"get_simulation_figure_{fmt}",
        description=f"One figure by name as {fmt.upper()} (404 lists the available ones); every figure is served as `.png`, "
        "`.svg` and `.pdf` (a simulation run before SVG and PDF were stored has its PNG only: the 404 says so).",
        responses={200: {"content": {media_type: {}}, "description": f"The figure as {fmt.upper()}."}},
    )
    def get_figure(
        job_id: str,
        name: Annotated[str, Path(pattern=FIGURE_NAME, description="The figure, as the result's `figures` names it (e.g. trajectories).")],
        repo: SimulationsDep,
    ) -> Response:
        data = get_simulation_figure(repo, job_id, name, fmt=fmt)
        return Response(content=data, media_type=media_type, headers={"Content-Disposition": f'inline; filename="{job_id}-{name}.{fmt}"'})


for _fmt in FIGURE_FORMATS:
    _add_figure_route(_fmt)

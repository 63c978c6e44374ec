"""``/v1/experiments``: submit multi-trial training experiments (plus the shared job routes)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from lesde_contract.specs import ExperimentSpec
from lesde_contract.specs.duration import estimated_seconds

from lesde_api.deps import ExperimentsDep, LimitsDep, OwnerDep, QuotaDep, get_experiments
from lesde_api.models.jobs import ExperimentPublic
from lesde_api.operations import job_views
from lesde_api.operations.experiments import submit_experiment
from lesde_api.operations.links import job_url
from lesde_api.routes.analysis import add_analysis_routes
from lesde_api.routes.common_job_routes import add_job_routes

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExperimentPublic,
    responses={202: {"model": ExperimentPublic, "description": "Queued."}},
)
def create_experiment(
    spec: ExperimentSpec, repo: ExperimentsDep, limits: LimitsDep, owner: OwnerDep, quota: QuotaDep, response: Response
) -> ExperimentPublic:
    """Queue a multi-trial training experiment. Poll the ``Location`` it answers (429 while the owner has too many unfinished jobs)."""
    with quota.admit(owner):
        record = submit_experiment(repo, spec, owner=owner, cap=limits.max_trial_iterations)
    response.headers["Location"] = job_url("experiment", record.id)
    public = job_views.public_view(repo, record)
    return ExperimentPublic(**public.model_dump(), estimated_seconds=estimated_seconds(spec))


add_analysis_routes(router)
add_job_routes(router, get_experiments, public=ExperimentPublic, with_analysis=False)

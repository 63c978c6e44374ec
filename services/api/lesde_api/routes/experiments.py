"""``/v1/experiments``: submit, poll, list, cancel, delete; artifacts, analysis, figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from fastapi.responses import StreamingResponse

from lesde.records import ArtifactInfo, JobPublic, JobStatus, Page
from lesde.specs import ExperimentSpec
from lesde_api.deps import ExperimentsDep, LimitsDep, OwnerDep
from lesde_api.services import jobs
from lesde_api.services.experiments import BrokerUnavailable, submit_experiment

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])

FIGURE_NAME = r"^[a-z0-9][a-z0-9-]{0,63}$"


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic)
def create_experiment(
    spec: ExperimentSpec, repo: ExperimentsDep, limits: LimitsDep, owner: OwnerDep, response: Response
) -> JobPublic:
    """Queue a multi-trial training experiment. Poll the ``Location`` it answers."""
    try:
        record = submit_experiment(repo, spec, owner=owner, cap=limits.max_trial_iterations)
    except BrokerUnavailable as error:
        raise HTTPException(status_code=503, detail=str(error)) from None
    response.headers["Location"] = f"/v1/experiments/{record.id}"
    return jobs.public_view(repo, record)


@router.get("", response_model=Page[JobPublic])
def list_experiments(
    repo: ExperimentsDep,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    owner: Annotated[str | None, Query(max_length=100)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[JobPublic]:
    """Newest first, ``{data, count}``; filter by ``status`` and ``owner``."""
    records, count = repo.list(status=status_filter, owner=owner, offset=offset, limit=limit)
    return Page[JobPublic](data=[jobs.public_view(repo, record, with_spec=False) for record in records], count=count)


@router.get("/{job_id}", response_model=JobPublic)
def get_experiment(job_id: str, repo: ExperimentsDep) -> JobPublic:
    return jobs.public_view(repo, repo.get(job_id))


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel_experiment(job_id: str, repo: ExperimentsDep) -> JobPublic:
    """Queued: cancelled at once. Running: stops within one chunk. Finished: 409."""
    return jobs.public_view(repo, repo.request_cancel(job_id))


@router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_experiment(job_id: str, repo: ExperimentsDep) -> Response:
    """Remove the experiment and all its objects (409 while it runs: cancel first)."""
    jobs.delete_job(repo, job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{job_id}/artifacts", response_model=Page[ArtifactInfo])
def list_artifacts(job_id: str, repo: ExperimentsDep) -> Page[ArtifactInfo]:
    artifacts = jobs.list_artifacts(repo, job_id)
    return Page[ArtifactInfo](data=artifacts, count=len(artifacts))


@router.get("/{job_id}/artifacts/{name:path}")
def download_artifact(job_id: str, name: str, repo: ExperimentsDep) -> StreamingResponse:
    try:
        pieces, size = jobs.open_artifact(repo, job_id, name)
    except jobs.ResourceMissing as error:
        raise HTTPException(status_code=404, detail=str(error)) from None
    filename = name.rsplit("/", 1)[-1]
    return StreamingResponse(
        pieces,
        media_type=jobs.content_type_of(name),
        headers={"Content-Length": str(size), "Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/{job_id}/analysis")
def get_analysis(job_id: str, repo: ExperimentsDep) -> dict:
    """The analysis summary (404 before one exists, 409 while the job runs)."""
    try:
        return jobs.get_analysis(repo, job_id)
    except jobs.ResourceMissing as error:
        raise HTTPException(status_code=404, detail=str(error)) from None


@router.get(
    "/{job_id}/figures/{name}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The figure as PNG."}},
)
def get_figure(job_id: str, name: Annotated[str, Path(pattern=FIGURE_NAME)], repo: ExperimentsDep) -> Response:
    try:
        return Response(content=jobs.get_figure(repo, job_id, name), media_type="image/png")
    except jobs.ResourceMissing as error:
        raise HTTPException(status_code=404, detail=str(error)) from None

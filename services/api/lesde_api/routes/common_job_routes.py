"""Routes every job kind shares: get, list, cancel, delete, artifacts, analysis, figures.

Experiments and simulations differ only in how they are submitted, so the rest is
registered once here on each kind's router.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response, status
from fastapi.responses import StreamingResponse
from lesde_contract.records import ArtifactInfo, JobPublic, Page
from lesde_runtime.job_repository import JobRepository

from lesde_api.deps import ListingDep
from lesde_api.models.analysis import PhaseDiagramResult, SimulationRun
from lesde_api.operations import job_views

FIGURE_NAME = r"^[a-z0-9][a-z0-9-]{0,63}$"
# No "from __future__ import annotations" here: FastAPI must see the local Repo alias itself.


def add_job_routes(
    router: APIRouter, get_repo: Any, *, public: type[JobPublic] = JobPublic, with_analysis: bool = True, before_delete: Any = None
) -> None:
    """Register the shared routes on ``router``; ``get_repo`` is the kind's repository dependency,
    ``public`` the kind's answer model (its spec typed).

    ``with_analysis=False`` leaves out the analysis and figure routes (experiments have
    their own, with options: :mod:`lesde_api.routes.analysis`). ``before_delete(repo, id)``
    may refuse a delete by raising (a data set in use: 409).
    """
    Repo = Annotated[JobRepository, Depends(get_repo)]  # a type alias
    # Page[public], parametrised with the class passed in (a subscript would read as a static type)
    public_page = Page.__class_getitem__(public)

    # ``public`` documents the spec by kind; the stored spec is answered as it is (JobPublic).
    @router.get("", response_model=Page[JobPublic], responses={200: {"model": public_page, "description": "A page of job_views."}})
    def list_jobs(repo: Repo, listing: ListingDep) -> Page[JobPublic]:
        """Newest first, ``{data, count}``; filter by ``status`` and ``owner`` (with API keys: your jobs only)."""
        if listing.nobody:
            return Page[JobPublic](data=[], count=0)
        records, count = repo.list(status=listing.status, owner=listing.owner, offset=listing.offset, limit=listing.limit)
        return Page[JobPublic](data=[job_views.public_view(repo, record, with_spec=False) for record in records], count=count)

    @router.get("/{job_id}", response_model=JobPublic, responses={200: {"model": public, "description": "The job."}})
    def get_job(job_id: str, repo: Repo) -> JobPublic:
        """Status, progress, timestamps and the error message of a failed job."""
        return job_views.public_view(repo, repo.get(job_id))

    @router.post("/{job_id}/cancel", response_model=JobPublic, responses={200: {"model": public, "description": "The job."}})
    def cancel_job(job_id: str, repo: Repo) -> JobPublic:
        """Queued: cancelled at once. Running: stops at its next check. Finished: 409."""
        return job_views.public_view(repo, repo.request_cancel(job_id))

    @router.delete("/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
    def delete_job(job_id: str, repo: Repo) -> Response:
        """Remove the job and all its objects (409 while it runs: cancel first)."""
        if before_delete is not None:
            repo.get(job_id)  # 404 first
            before_delete(repo, job_id)
        job_views.delete_job(repo, job_id)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    @router.get("/{job_id}/artifacts", response_model=Page[ArtifactInfo])
    def list_artifacts(job_id: str, repo: Repo) -> Page[ArtifactInfo]:
        """Every stored object of the job, with its download URL."""
        artifacts = job_views.list_artifacts(repo, job_id)
        return Page[ArtifactInfo](data=artifacts, count=len(artifacts))

    @router.get(
        "/{job_id}/artifacts/{name:path}",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/octet-stream": {}}, "description": "The object's bytes (its own content type)."}},
    )
    def download_artifact(job_id: str, name: str, repo: Repo) -> StreamingResponse:
        """Stream one stored object."""
        pieces, size = job_views.open_artifact(repo, job_id, name)
        filename = name.rsplit("/", 1)[-1]
        return StreamingResponse(
            pieces,
            media_type=job_views.content_type_of(name),
            headers={"Content-Length": str(size), "Content-Disposition": f'attachment; filename="{filename}"'},
        )

    if not with_analysis:
        return

    @router.get(
        "/{job_id}/analysis",
        response_model=None,
        responses={200: {"model": SimulationRun | PhaseDiagramResult, "description": "The result."}},
    )
    def get_analysis(job_id: str, repo: Repo) -> dict:
        """The result JSON (404 before one exists, 409 while the job runs)."""
        return job_views.get_simulation_summary(repo, job_id)

    @router.get(
        "/{job_id}/figures/{name}.png",
        response_class=Response,
        responses={200: {"content": {"image/png": {}}, "description": "The figure as PNG."}},
    )
    def get_figure(job_id: str, name: Annotated[str, Path(pattern=FIGURE_NAME)], repo: Repo) -> Response:
        """One figure by name (404 lists the available ones)."""
        return Response(content=job_views.get_figure(repo, job_id, name), media_type="image/png")

"""``/v1/sweeps``: grids of experiments over fields of one base spec, and their cross-child results."""

from contextlib import AbstractContextManager
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from lesde_contract.object_keys import FIGURE_FORMATS
from lesde_contract.records import Page
from lesde_contract.specs import SweepSpec

from lesde_api.deps import ExperimentsDep, LimitsDep, ListingDep, OwnerDep, QuotaDep, SweepsDep
from lesde_api.models.analysis import SweepAnalysis
from lesde_api.models.errors import ErrorBody
from lesde_api.operations import sweeps as operations
from lesde_api.operations.figures import FIGURE_MEDIA_TYPES
from lesde_api.operations.links import job_url
from lesde_api.operations.stored_answers import typed_or_as_stored
from lesde_api.operations.sweep_view import SweepPublic, list_sweeps, sweep_view
from lesde_api.routes.common_job_routes import FIGURE_NAME

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
router = APIRouter(prefix="/v1/sweeps", tags=["sweeps"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=SweepPublic)
def create_sweep(
    spec: SweepSpec, sweeps: SweepsDep, experiments: ExperimentsDep, limits: LimitsDep, owner: OwnerDep, quota: QuotaDep, response: Response
) -> SweepPublic:
    """Queue one experiment per grid point (``axes``: their product; ``points``: each listed). The whole grid
    is checked first: an unknown field, an empty axis, a repeated value or point, a child that breaks a bound
    or a grid over the caps is answered 422 naming it, and nothing is created. Poll the ``Location``. Its children count
    against the owner's unfinished jobs (429 while they would not fit; 422 for a grid larger than that quota)."""

    def admit(children: int) -> AbstractContextManager[None]:  # called once the grid itself is valid
        operations.check_fits_quota(spec, quota.limit)
        return quota.admit(owner, adding=children)

    record = operations.create_sweep(sweeps, experiments, spec, owner=owner, limits=limits, admit=admit)
    response.headers["Location"] = job_url("sweep", record.id)
    return sweep_view(sweeps, experiments, record)


@router.get("", response_model=Page[SweepPublic])
def list_all(sweeps: SweepsDep, experiments: ExperimentsDep, listing: ListingDep) -> Page[SweepPublic]:
    """Newest first, ``{data, count}``, without children or spec; filter by ``status`` and ``owner`` (with API keys: your sweeps only)."""
    if listing.nobody:
        return Page[SweepPublic](data=[], count=0)
    views, count = list_sweeps(sweeps, experiments, status=listing.status, owner=listing.owner, offset=listing.offset, limit=listing.limit)
    return Page[SweepPublic](data=views, count=count)


@router.get("/{sweep_id}", response_model=SweepPublic)
def get_sweep(sweep_id: str, sweeps: SweepsDep, experiments: ExperimentsDep) -> SweepPublic:
    """Status and progress aggregated from the children, counts per state, and each child with its grid values."""
    return sweep_view(sweeps, experiments, sweeps.get(sweep_id))


@router.post("/{sweep_id}/cancel", response_model=SweepPublic)
def cancel_sweep(sweep_id: str, sweeps: SweepsDep, experiments: ExperimentsDep) -> SweepPublic:
    """Cancel every unfinished child (queued at once, running within a chunk); 409 when all have finished."""
    operations.cancel_sweep(sweeps, experiments, sweep_id)
    return sweep_view(sweeps, experiments, sweeps.get(sweep_id))


@router.post("/{sweep_id}/retry", status_code=status.HTTP_202_ACCEPTED, response_model=SweepPublic)
def retry_sweep(sweep_id: str, sweeps: SweepsDep, experiments: ExperimentsDep) -> SweepPublic:
    """Re-queue the failed children only, each resuming from its last checkpoint; 409 when none failed."""
    operations.retry_sweep(sweeps, experiments, sweep_id)
    return sweep_view(sweeps, experiments, sweeps.get(sweep_id))


@router.delete("/{sweep_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_sweep(sweep_id: str, sweeps: SweepsDep, experiments: ExperimentsDep) -> Response:
    """Remove every child and then the sweep (409 while a child runs: cancel first)."""
    operations.delete_sweep(sweeps, experiments, sweep_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Typed by the contract's model; a stored result that no longer fits it is answered as stored (never a 500).
@router.get(
    "/{sweep_id}/analysis", response_model=SweepAnalysis, response_model_exclude_unset=True,
    responses={200: {"description": "The analysis."}},
)  # fmt: skip
def get_analysis(sweep_id: str, sweeps: SweepsDep, experiments: ExperimentsDep) -> SweepAnalysis | JSONResponse:
    """The cross-child analysis (partial while children run), figures as links; 404 saying why before one exists."""
    body = operations.get_sweep_analysis(sweeps, experiments, sweep_id)
    return typed_or_as_stored(SweepAnalysis, body, what=f"the analysis of sweep {sweep_id}")


def _add_figure_route(fmt: str) -> None:
    """``GET /{sweep_id}/figures/{name}.<fmt>``: one route per format, each documenting its media type."""
    media_type = FIGURE_MEDIA_TYPES[fmt]

    @router.get(
        f"/{{sweep_id}}/figures/{{name}}.{fmt}",
        response_class=Response,
        name=f"get_sweep_figure_{fmt}",
        description=f"One figure of the cross-child analysis by name as {fmt.upper()} (404 lists the available ones); every "
        "figure is served as `.png`, `.svg` and `.pdf` (an analysis stored before SVG and PDF were: rendered once, 202 "
        "with `Retry-After`, then 200).",
        responses={
            200: {"content": {media_type: {}}, "description": f"The figure as {fmt.upper()}."},
            202: {"model": ErrorBody, "description": "Being rendered (a format an older analysis was stored without); retry after `Retry-After` seconds."},
        },
    )  # fmt: skip
    def get_figure(
        sweep_id: str,
        name: Annotated[
            str, Path(pattern=FIGURE_NAME, description="The figure, as the analysis's `figures` names it (e.g. sweep-accuracy).")
        ],
        sweeps: SweepsDep,
    ) -> Response:
        data = operations.get_sweep_figure(sweeps, sweep_id, name, fmt=fmt)
        return Response(
            content=data, media_type=media_type, headers={"Content-Disposition": f'inline; filename="sweep-{sweep_id}-{name}.{fmt}"'}
        )


for _fmt in FIGURE_FORMATS:
    _add_figure_route(_fmt)


@router.get("/{sweep_id}/table.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
def get_table(sweep_id: str, sweeps: SweepsDep) -> StreamingResponse:
    """One row per child: grid values, final accuracies, tail indices, verdict, imitation error (404 before the analysis)."""
    pieces, size = operations.open_sweep_table(sweeps, sweep_id)
    headers = {"Content-Length": str(size), "Content-Disposition": f'attachment; filename="sweep-{sweep_id}.csv"'}
    return StreamingResponse(pieces, media_type="text/csv", headers=headers)

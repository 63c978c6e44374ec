"""``/v1/experiments/{id}/analysis`` and ``/figures``: results per option set, re-runs, sizes,
formats (PNG, SVG, PDF) and figure pairs on shared axes.

Status codes: 404 before an analysis exists (or unknown experiment/figure), 409 while the
job or the analysis runs, 422 for bad options (the message names the field and range),
202 when a run or a figure rendering was enqueued (another size, shared axes, or SVG/PDF of
a result stored before they were).
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from lesde_contract.object_keys import FIGURE_FORMATS, ID_PATTERN
from lesde_contract.specs.analysis import DEFAULT_FIGURE_SIZE, DEFAULT_KEY, FIGURE_NAMES, OPTIONS_KEY_PATTERN, AnalysisOptions

from lesde_api.auth import caller_of
from lesde_api.deps import ExperimentsDep
from lesde_api.models.analysis import AnalysisRequested, ExperimentAnalysis
from lesde_api.models.errors import ErrorBody
from lesde_api.operations import analysis
from lesde_api.operations.figures import FIGURE_MEDIA_TYPES
from lesde_api.operations.stored_answers import typed_or_as_stored

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
FIGURE = r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$"
OptionsKey = Annotated[str, Query(pattern=OPTIONS_KEY_PATTERN, description="Which option set: 'default' or the key a POST answered.")]


def add_analysis_routes(router: APIRouter) -> None:
    # Typed by the contract's model; a stored result that no longer fits it is answered as stored (never a 500).
    # exclude_unset: a field the stored result leaves out stays out of the answer.
    @router.get(
        "/{job_id}/analysis", response_model=ExperimentAnalysis, response_model_exclude_unset=True,
        responses={200: {"description": "The analysis."}},
    )  # fmt: skip
    def get_analysis(
        job_id: str,
        repo: ExperimentsDep,
        options_key: OptionsKey = DEFAULT_KEY,
        max_points: Annotated[int, Query(ge=2, le=1_000_000, description="Most records per series (evenly thinned).")] = 1000,
        series: Annotated[bool, Query(description="Include the (thinned) time series.")] = True,
    ) -> ExperimentAnalysis | JSONResponse:
        """Every number of the analysis; ``series`` thinned server-side to ``max_points`` records."""
        body = analysis.get_analysis(repo, job_id, key=options_key, max_points=max_points, with_series=series)
        return typed_or_as_stored(ExperimentAnalysis, body, what=f"the analysis of experiment {job_id} (options {options_key})")

    @router.post(
        "/{job_id}/analysis",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=None,
        responses={
            200: {"model": AnalysisRequested, "description": "A complete result is stored (cached), or it is already running."},
            202: {"model": AnalysisRequested, "description": "A run was queued."},
        },
    )
    def request_analysis(
        job_id: str,
        repo: ExperimentsDep,
        response: Response,
        options: AnalysisOptions | None = None,
        force: Annotated[bool, Query(description="Recompute even if a complete result is cached.")] = False,
    ) -> dict:
        """(Re-)run the analysis with ``options``; 200 with the cached result's links if it exists.

        While the experiment trains, the run covers the iterations committed so far and its
        JSON says ``"partial": true``.
        """
        body, enqueued = analysis.request_analysis(repo, job_id, options or AnalysisOptions(), force=force)
        if not enqueued:
            response.status_code = status.HTTP_200_OK if body["state"] == "succeeded" else status.HTTP_202_ACCEPTED
        response.headers["Location"] = body["links"]["analysis"]
        return body

    @router.get("/{job_id}/analysis/series.npz", response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
    def get_series(job_id: str, repo: ExperimentsDep, options_key: OptionsKey = DEFAULT_KEY) -> Response:
        """Every series at full length (NPZ; array names ``group/name``, each group with its ``t``)."""
        data = analysis.open_series(repo, job_id, key=options_key)
        headers = {"Content-Disposition": f'attachment; filename="{job_id}-{options_key}-series.npz"'}
        return Response(content=data, media_type="application/octet-stream", headers=headers)

    for fmt in FIGURE_FORMATS:
        _add_figure_route(router, fmt)


def _add_figure_route(router: APIRouter, fmt: str) -> None:
    """``GET /{job_id}/figures/{name}.<fmt>``: one route per format, each documenting its media type."""
    media_type = FIGURE_MEDIA_TYPES[fmt]
    description = (
        f"One figure by name as {fmt.upper()}{' (vector: text stays text)' if fmt != 'png' else ''}; the same figure is served as "
        "`.png`, `.svg` and `.pdf`. `width`/`height`/`dpi` other than the default, and `share_axes_with`, render once "
        "(202 with `Retry-After`, then 200); so does a vector format of a result stored before vector figures were."
    )

    @router.get(
        f"/{{job_id}}/figures/{{name}}.{fmt}",
        response_class=Response,
        name=f"get_figure_{fmt}",
        description=description,
        responses={
            200: {"content": {media_type: {}}, "description": f"The figure as {fmt.upper()}."},
            202: {"model": ErrorBody, "description": "Being rendered (another size, shared axes, or a format an older result "
                  "was stored without); retry after `Retry-After` seconds."},
        },
    )  # fmt: skip
    def get_figure(
        job_id: str,
        name: Annotated[str, Path(pattern=FIGURE, description=f"The figure: one of {', '.join(FIGURE_NAMES)}.")],
        repo: ExperimentsDep,
        request: Request,
        options_key: OptionsKey = DEFAULT_KEY,
        width: Annotated[float | None, Query(ge=2.0, le=40.0, description="Width in inches (default 10).")] = None,
        height: Annotated[float | None, Query(ge=1.5, le=40.0, description="Height in inches (default 4.5).")] = None,
        dpi: Annotated[
            int | None, Query(ge=30, le=400, description="Dots per inch (default 110; for SVG and PDF only their raster parts).")
        ] = None,
        share_axes_with: Annotated[
            str | None,
            Query(
                pattern=ID_PATTERN.pattern,
                description="Another experiment's id (yours, analysed with the same options): each axes of the figure gets the "
                "union of its limits and the other's same figure, so the pair reads on one scale (rendered once: 202, then 200).",
            ),
        ] = None,
    ) -> Response:
        size = None
        if width is not None or height is not None or dpi is not None:
            size = (
                round(width or DEFAULT_FIGURE_SIZE.width, 2),
                round(height or DEFAULT_FIGURE_SIZE.height, 2),
                dpi or DEFAULT_FIGURE_SIZE.dpi,
            )
            if max(size[0], size[1]) * size[2] > 8000:
                raise HTTPException(
                    status_code=422,
                    detail=[
                        {
                            "loc": ["query", "dpi"],
                            "field": "dpi",
                            "msg": "width x dpi and height x dpi must be at most 8000 pixels",
                            "type": "value_error",
                        }
                    ],
                )
        caller = caller_of(request)
        data = analysis.get_figure(
            repo,
            job_id,
            name,
            key=options_key,
            size=size,
            fmt=fmt,
            share_with=share_axes_with,
            owner=caller.owner if caller.enforced else None,
        )
        stem = "-".join(part for part in (job_id, name, None if options_key == DEFAULT_KEY else options_key) if part)
        if share_axes_with is not None:
            stem += f"-with-{share_axes_with}"
        return Response(content=data, media_type=media_type, headers={"Content-Disposition": f'inline; filename="{stem}.{fmt}"'})

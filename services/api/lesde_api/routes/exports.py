"""``/v1/experiments/{id}/export.{csv,npz,parquet}?stream=``: a recorded stream as a long table.

``stream=sampled`` (the default) is the sampled logits in the authors' layout; ``probe`` and
``features`` the probe set's logits and penultimate features (layouts in
:mod:`lesde_api.operations.exports`).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from lesde_api.deps import ExperimentsDep
from lesde_api.models.errors import ErrorBody
from lesde_api.operations import exports
from lesde_api.operations.exports import Stream

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
router = APIRouter(prefix="/v1/experiments", tags=["experiments"])

StreamQuery = Annotated[
    Stream,
    Query(
        description="Which recorded stream: 'sampled' (the sampled logits, the authors' layout), 'probe' (the probe "
        "set's logits, every training.probe_every iterations) or 'features' (its penultimate features, every "
        "training.features_every iterations). 404 where the experiment has no such stream.",
    ),
]
MISSING_STREAM: dict[int | str, dict[str, Any]] = {
    404: {
        "model": ErrorBody,
        "description": "No such experiment (another owner's answers the same), or it has no such stream: "
        "features_every = 0, or an import of the authors' CSV (sampled only).",
    }
}


def _filename(job_id: str, stream: str, fmt: str) -> str:
    """``<id>.<fmt>`` for the sampled stream (as before), ``<id>-<stream>.<fmt>`` for the others."""
    return f"{job_id}.{fmt}" if stream == "sampled" else f"{job_id}-{stream}.{fmt}"


def _headers(job_id: str, stream: str, fmt: str, size: int | None = None) -> dict[str, str]:
    headers = {"Content-Disposition": f'attachment; filename="{_filename(job_id, stream, fmt)}"'}
    return headers if size is None else {"Content-Length": str(size)} | headers


@router.get("/{job_id}/export.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}, **MISSING_STREAM})
def export_csv(job_id: str, repo: ExperimentsDep, stream: StreamQuery = "sampled") -> StreamingResponse:
    """sampled: ``trial, itr, smp, y, y_logit0..y_logit{K-1}, tr_loss, val_loss, val_acc``, rows by (itr, trial),
    ``val_*`` empty where ``itr`` was not evaluated; probe: ``trial, itr, probe_sample, y, logit0..logit{K-1}``;
    features: ``trial, itr, probe_sample, y, feature0..feature{F-1}``; probe and features rows by
    (itr, trial, probe_sample), ``y`` the probe sample's true class (409 before any data)."""
    rows = exports.export_csv(repo, job_id, stream)
    return StreamingResponse(rows, media_type="text/csv", headers=_headers(job_id, stream, "csv"))


@router.get(
    "/{job_id}/export.npz",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **MISSING_STREAM},
)
def export_npz(job_id: str, repo: ExperimentsDep, stream: StreamQuery = "sampled") -> StreamingResponse:
    """The long table as NPZ: the CSV's non-matrix columns (N,) each, and ``logits`` (N, K) (sampled, probe)
    or ``features`` (N, F) (features)."""
    pieces, size = exports.export_npz(repo, job_id, stream)
    return StreamingResponse(pieces, media_type="application/octet-stream", headers=_headers(job_id, stream, "npz", size))


@router.get(
    "/{job_id}/export.parquet",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/vnd.apache.parquet": {}}},
        **MISSING_STREAM,
        501: {"model": ErrorBody, "description": "pyarrow is not installed."},
    },
)
def export_parquet(job_id: str, repo: ExperimentsDep, stream: StreamQuery = "sampled") -> StreamingResponse:
    """The CSV's columns as Parquet (one row group per stored chunk); 501 where pyarrow is not installed."""
    pieces, size = exports.export_parquet(repo, job_id, stream)
    return StreamingResponse(pieces, media_type="application/vnd.apache.parquet", headers=_headers(job_id, stream, "parquet", size))

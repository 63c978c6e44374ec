"""``/v1/experiments/{id}/export.{csv,npz,parquet}``: the sampled logits in the authors' long layout."""

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from lesde_api.deps import ExperimentsDep
from lesde_api.models.errors import ErrorBody
from lesde_api.operations import exports

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
router = APIRouter(prefix="/v1/experiments", tags=["experiments"])


@router.get("/{job_id}/export.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
def export_csv(job_id: str, repo: ExperimentsDep) -> StreamingResponse:
    """Columns ``trial, itr, smp, y, y_logit0..y_logit{K-1}, tr_loss, val_loss, val_acc``; rows by (itr, trial);
    ``val_*`` empty where ``itr`` was not evaluated (409 before any data)."""
    rows = exports.export_csv(repo, job_id)
    return StreamingResponse(rows, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{job_id}.csv"'})


@router.get("/{job_id}/export.npz", response_class=StreamingResponse, responses={200: {"content": {"application/octet-stream": {}}}})
def export_npz(job_id: str, repo: ExperimentsDep) -> StreamingResponse:
    """The long table as NPZ: ``trial, itr, smp, y, tr_loss, val_loss, val_acc`` (N,) and ``logits`` (N, K)."""
    pieces, size = exports.export_npz(repo, job_id)
    headers = {"Content-Length": str(size), "Content-Disposition": f'attachment; filename="{job_id}.npz"'}
    return StreamingResponse(pieces, media_type="application/octet-stream", headers=headers)


@router.get("/{job_id}/export.parquet", response_class=StreamingResponse, responses={200: {"content": {"application/vnd.apache.parquet": {}}}, 501: {"model": ErrorBody, "description": "pyarrow is not installed."}})
def export_parquet(job_id: str, repo: ExperimentsDep) -> StreamingResponse:
    """The CSV's columns as Parquet (one row group per stored chunk); 501 where pyarrow is not installed."""
    pieces, size = exports.export_parquet(repo, job_id)
    headers = {"Content-Length": str(size), "Content-Disposition": f'attachment; filename="{job_id}.parquet"'}
    return StreamingResponse(pieces, media_type="application/vnd.apache.parquet", headers=headers)

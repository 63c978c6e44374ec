"""``/v1/imports``: turn logits in the authors' CSV layout into an analysable experiment."""

from typing import Annotated

from fastapi import APIRouter, Body, File, Form, Path, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from lesde_contract.records import JobPublic
from pydantic import Field

from lesde_api.deps import ExperimentsDep, LimitsDep, OwnerDep, QuotaDep
from lesde_api.errors import csv_layout_problem
from lesde_api.models.jobs import ExperimentPublic
from lesde_api.operations import job_views
from lesde_api.operations.imports import ImportTooLarge, start_import
from lesde_api.operations.links import job_url
from lesde_api.operations.run_imports import DIGEST_PATTERN, RunImport, missing_chunks, stage_chunk, start_run_import

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
IMPORT_PATH = "/v1/imports"  # an upload: its body cap is LESDE_MAX_IMPORT_BYTES, not the JSON one (lesde_api.main)
CHUNKS_PATH = IMPORT_PATH + "/chunks/"  # staged chunks of a recorded run: capped at MAX_CHUNK_BYTES each
router = APIRouter(prefix=IMPORT_PATH, tags=["imports"])
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file


# The upload's example: the authors' CSV layout, one logit column per class (README, Endpoints).
UPLOAD_EXAMPLE = {
    "file": "trial,itr,smp,y,y_logit0,y_logit1,y_logit2,tr_loss,val_loss,val_acc\n0,0,17,2,0.01,-0.02,0.03,1.10,1.10,0.33\n",
    "name": "authors' run",
    "classes": "triangle,rectangle,ellipse",
}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses={202: {"model": ExperimentPublic, "description": "Queued."}},
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"example": UPLOAD_EXAMPLE}}}},
)
def create_import(
    request: Request,
    response: Response,
    repo: ExperimentsDep,
    limits: LimitsDep,
    owner: OwnerDep,
    quota: QuotaDep,
    file: Annotated[UploadFile, File(description="CSV: trial, itr, smp, y, y_logit0..y_logit{K-1}, tr_loss, val_loss, val_acc")],
    name: Annotated[str | None, Form(max_length=200, description="A name for the imported experiment (shown in listings).")] = None,
    classes: Annotated[str | None, Form(max_length=2000, description="Comma-separated class names in label order.")] = None,
) -> JobPublic | JSONResponse:
    """Queue the import of a CSV as an experiment (poll the Location; it ends succeeded with
    its analysis queued, or failed with the row and column of a problem in its error). A
    header without the layout's columns is answered 422 at once."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_import_bytes + MULTIPART_SLACK:
        raise ImportTooLarge(limits.max_import_bytes)
    names = [part.strip() for part in classes.split(",")] if classes else None
    if names is not None and (len(set(names)) != len(names) or not all(names)):
        return csv_layout_problem("classes", "class names must be non-empty and unique")
    with quota.admit(owner):
        record = start_import(
            repo,
            file.file,
            filename=file.filename or "upload.csv",
            owner=owner,
            name=name,
            classes=names,
            max_bytes=limits.max_import_bytes,
        )
    response.headers["Location"] = job_url("experiment", record.id)
    return job_views.public_view(repo, record)


Digest = Annotated[str, Path(pattern=DIGEST_PATTERN, description="The chunk's sha256, 64 lowercase hex digits.", examples=["0" * 64])]


CHUNK_BODY = {
    "required": True,
    "description": "The chunk's bytes (an .npz of arrays, as lesde.Recorder writes them); their sha256 must be the URL's.",
    "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}, "example": "PK... (the bytes of a chunk's .npz)"}
    },
}


@router.put(
    "/chunks/{digest}",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "Already staged (nothing written)."}, 201: {"description": "Staged."}},
    openapi_extra={"requestBody": CHUNK_BODY},
)
async def put_chunk(digest: Digest, request: Request, response: Response, repo: ExperimentsDep, owner: OwnerDep) -> dict:
    """Stage one chunk of a recorded run (:class:`lesde.Recorder`) under its sha256, for a later
    ``POST /v1/imports/runs``. Idempotent: a chunk staged before answers 200."""
    body = await request.body()  # capped by the body limit (lesde_api.main)
    created = await run_in_threadpool(stage_chunk, repo.store, owner, digest, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return {"checksum": f"sha256:{digest}", "size": len(body), "created": created}


@router.post(
    "/chunks/missing", openapi_extra={"requestBody": {"content": {"application/json": {"example": {"checksums": ["sha256:" + "0" * 64]}}}}}
)
def post_missing_chunks(
    repo: ExperimentsDep,
    owner: OwnerDep,
    checksums: Annotated[
        list[Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]],
        Body(embed=True, max_length=100_000, description="`sha256:<hex>` of each chunk."),
    ],
) -> dict:
    """Which of these chunks the server does not have staged yet (a resumed upload sends only those)."""
    return {"missing": missing_chunks(repo.store, owner, checksums)}


@router.post(
    "/runs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    responses={202: {"model": ExperimentPublic, "description": "Queued."}},
)
def post_run_import(
    run: RunImport, response: Response, repo: ExperimentsDep, limits: LimitsDep, owner: OwnerDep, quota: QuotaDep
) -> JobPublic:
    """Queue the import of a recorded run whose chunks are staged (poll the Location; it ends
    succeeded with its analysis queued, or failed naming the chunk and array at fault). 409
    when some chunks are not staged: the message lists them."""
    with quota.admit(owner):
        record = start_run_import(repo, run, owner=owner, max_bytes=limits.max_import_bytes)
    response.headers["Location"] = job_url("experiment", record.id)
    return job_views.public_view(repo, record)

"""``/v1/imports``: turn logits in the authors' CSV layout into an analysable experiment."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse

from lesde.records import JobPublic
from lesde_api.models.jobs import ExperimentPublic
from lesde_api.deps import ExperimentsDep, LimitsDep, OwnerDep, QuotaDep
from lesde_api.errors import csv_layout_problem
from lesde_api.operations import jobs
from lesde_api.operations.imports import ImportTooLarge, start_import
from lesde_api.operations.links import job_url

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
IMPORT_PATH = "/v1/imports"  # an upload: its body cap is LESDE_MAX_IMPORT_BYTES, not the JSON one (lesde_api.main)
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
) -> ExperimentPublic | JSONResponse:
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
            repo, file.file, filename=file.filename or "upload.csv", owner=owner, name=name, classes=names, max_bytes=limits.max_import_bytes
        )
    response.headers["Location"] = job_url("experiment", record.id)
    return jobs.public_view(repo, record)

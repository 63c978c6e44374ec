"""``/v1/datasets``: upload your own data set (an ``.npz``), then train on it by its id."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from lesde_runtime.job_repository import JobRepository

from lesde_api.deps import DatasetsDep, LimitsDep, OwnerDep, QuotaDep, get_datasets
from lesde_api.models.datasets import DatasetPublic
from lesde_api.operations import job_views
from lesde_api.operations.datasets import dataset_info, refuse_delete_in_use, start_dataset
from lesde_api.operations.links import job_url
from lesde_api.operations.uploads import ImportTooLarge
from lesde_api.routes.common_job_routes import add_job_routes

# No "from __future__ import annotations": FastAPI resolves the Annotated aliases itself.
DATASET_PATH = "/v1/datasets"  # an upload: its body cap is LESDE_MAX_IMPORT_BYTES, not the JSON one (lesde_api.main)
router = APIRouter(prefix=DATASET_PATH, tags=["datasets"])
MULTIPART_SLACK = 64 * 1024


def public_dataset(repo: JobRepository, job_id: str) -> DatasetPublic:
    """The data set's record, with what its validation found once it succeeded."""
    view = job_views.public_view(repo, repo.get(job_id))
    return DatasetPublic(**view.model_dump(), info=dataset_info(repo, job_id))


# The upload's example (binary in practice: numpy.savez's output).
UPLOAD_EXAMPLE = {"file": "<the .npz: x_train (N, C, H, W) uint8, y_train (N,), x_val, y_val, class_names>", "name": "my shapes"}


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DatasetPublic,
    responses={202: {"model": DatasetPublic, "description": "Stored; its validation is queued."}},
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"example": UPLOAD_EXAMPLE}}}},
)
def create_dataset(
    request: Request,
    response: Response,
    repo: DatasetsDep,
    limits: LimitsDep,
    owner: OwnerDep,
    quota: QuotaDep,
    file: Annotated[UploadFile, File(description=".npz with x_train, y_train, x_val, y_val and optionally class_names")],
    name: Annotated[str | None, Form(max_length=200, description="A name for listings.")] = None,
) -> DatasetPublic:
    """Store an ``.npz`` data set and queue its validation (poll the Location: it ends succeeded,
    with the shape, classes, counts per class and checksum in ``info``, or failed naming the
    array and the problem). Then train on it with ``"dataset": {"name": "uploaded", "id": ...}``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_import_bytes + MULTIPART_SLACK:
        raise ImportTooLarge(limits.max_import_bytes)
    with quota.admit(owner):
        record = start_dataset(
            repo, file.file, filename=file.filename or "upload.npz", owner=owner, name=name, max_bytes=limits.max_import_bytes
        )
    response.headers["Location"] = job_url("dataset", record.id)
    return public_dataset(repo, record.id)


@router.get("/{job_id}", response_model=DatasetPublic, responses={200: {"model": DatasetPublic, "description": "The data set."}})
def get_dataset(job_id: str, repo: DatasetsDep) -> DatasetPublic:
    """Status (queued, running, succeeded, failed with the reason) and, once valid, ``info``:
    image shape (C, H, W), class names, training and validation counts per class, sha256."""
    return public_dataset(repo, job_id)


def _refuse_in_use(repo: JobRepository, job_id: str) -> None:
    refuse_delete_in_use(repo, JobRepository(repo.store, "experiment"), job_id)


# The listing, cancel, delete (refused while in use), artifacts, events and logs of a job.
add_job_routes(router, get_datasets, public=DatasetPublic, with_analysis=False, before_delete=_refuse_in_use)

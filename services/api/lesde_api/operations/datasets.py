"""Uploaded data sets: store the file and queue its validation; use and delete them safely.

The gateway streams the upload to the store untouched and queues the analyzer's validation
job (:mod:`lesde_analyzer.datasets.validation_job`); the data set is usable once that job succeeded.
An experiment that names it leaves a marker under the data set (``object_keys.dataset_user_key``),
and a delete is refused (409) while a marked experiment is still queued or running.
"""

from __future__ import annotations

from typing import BinaryIO

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound
from lesde_contract.records import JobRecord, JobStatus
from lesde_contract.specs import ExperimentSpec
from lesde_contract.specs.uploaded import DatasetMismatch, check_against_dataset
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobConflict, JobNotFound, JobRepository

from lesde_api.operations.queueing import enqueue_new_job
from lesde_api.operations.uploads import store_upload, upload_size

ZIP_MAGIC = b"PK\x03\x04"


def start_dataset(repo: JobRepository, upload: BinaryIO, *, filename: str, owner: str, name: str | None, max_bytes: int) -> JobRecord:
    """Store the upload as a new data set (status ``queued``) and queue its validation."""
    size = upload_size(upload, max_bytes=max_bytes)
    magic = upload.read(4)
    upload.seek(0)
    if magic != ZIP_MAGIC:  # the one check worth doing here: anything else is the job's
        raise DatasetMismatch("file", "not an .npz file (an .npz is a zip archive of .npy arrays: numpy.savez writes one)")
    spec = {"kind": "dataset", "name": name, "source": {"format": "npz", "filename": filename, "bytes": size}}
    record = repo.create(spec=spec, owner=owner, name=name, total=size, unit="bytes")
    store_upload(repo, record, object_keys.dataset_file_key(record.id), upload, size, content_type="application/octet-stream")
    enqueue_new_job(repo, record, celery_app.VALIDATE_DATASET)  # refused: the record and its file are removed
    return record


def dataset_info(repo: JobRepository, dataset_id: str) -> dict | None:
    """The validated data set's info (``DatasetInfo.as_json``), or None before it succeeded."""
    try:
        return repo.store.get_json(object_keys.dataset_info_key(dataset_id))
    except ObjectNotFound:
        return None


def check_uploaded(datasets: JobRepository, spec: ExperimentSpec, *, owner: str) -> None:
    """For a spec on an uploaded data set: the caller's data set, validated, holding what the
    spec asks (:func:`~lesde_contract.specs.uploaded.check_against_dataset`); else DatasetMismatch."""
    dataset_id = spec.dataset.id
    if spec.dataset.name != "uploaded" or dataset_id is None:  # the spec's validator gives "uploaded" its id
        return
    try:
        record = datasets.get(dataset_id)
    except JobNotFound:
        record = None
    if record is None or record.owner != owner:
        raise DatasetMismatch("dataset.id", f"no data set {dataset_id} of yours (GET /v1/datasets lists them)")
    if record.status is not JobStatus.succeeded:
        why = f": {record.error}" if record.error else ""
        raise DatasetMismatch(
            "dataset.id", f"data set {dataset_id} is {record.status.value}{why}; only a validated (succeeded) data set trains"
        )
    info = dataset_info(datasets, dataset_id)
    if info is None:
        raise DatasetMismatch("dataset.id", f"data set {dataset_id} has no info; upload it again")
    check_against_dataset(spec, info)


def mark_user(datasets: JobRepository, spec: ExperimentSpec, experiment_id: str) -> None:
    """Remember that experiment ``experiment_id`` trains on the spec's uploaded data set."""
    if spec.dataset.name == "uploaded" and spec.dataset.id is not None:  # the validator gives "uploaded" its id
        datasets.store.put_json(object_keys.dataset_user_key(spec.dataset.id, experiment_id), {"experiment": experiment_id})


def refuse_delete_in_use(datasets: JobRepository, experiments: JobRepository, dataset_id: str) -> None:
    """JobConflict (409) while an experiment on the data set is queued or running."""
    prefix = object_keys.dataset_users_prefix(dataset_id)
    for info in datasets.store.list(prefix):
        experiment_id = info.key[len(prefix) :]
        try:
            record = experiments.get(experiment_id)
        except JobNotFound:
            datasets.store.delete(info.key)  # the experiment is gone: so is its use
            continue
        if not record.status.finished:
            raise JobConflict(
                f"data set {dataset_id} is in use by experiment {experiment_id} ({record.status.value}); "
                f"delete it when that experiment has finished, or cancel it"
            )

"""Validate an uploaded data set (``POST /v1/datasets``) and record what it holds.

Runs under a lease like every worker job: a worker killed mid-validation stops renewing it
and the reaper sends the job again. The upload stays where the gateway stored it
(``object_keys.dataset_file_key``); a valid one gains ``info.json`` (shape, classes, counts per
class, checksum) and the job succeeds; an invalid one fails with the array and the problem
in the job's error, and its file is deleted (nothing else is touched).
"""

from __future__ import annotations

import logging
import tempfile

from lesde_contract import object_keys
from lesde_contract.dataset_files import DatasetRejected, inspect_npz
from lesde_contract.object_store import ObjectStore, StoreUnavailable
from lesde_contract.records import JobStatus
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.leases import run_leased
from lesde_runtime.settings import LeaseSettings
from lesde_runtime.tombstones import JobDeleted

log = logging.getLogger(__name__)

__all__ = ["run_dataset_validation"]


def run_dataset_validation(store: ObjectStore, dataset_id: str, *, leases: LeaseSettings | None = None) -> None:
    """Check data set ``dataset_id``'s file; succeed with its info, or fail saying why."""
    repo = JobRepository(store, "dataset")
    run_leased(repo, dataset_id, lambda: _validate(store, repo, dataset_id), leases)


def _validate(store: ObjectStore, repo: JobRepository, dataset_id: str) -> None:
    try:
        with tempfile.TemporaryFile(prefix="lesde-dataset-") as copy:
            for piece in store.iter_bytes(object_keys.dataset_file_key(dataset_id)):
                copy.write(piece)
            info, _ = inspect_npz(copy)
        store.put_json(object_keys.dataset_info_key(dataset_id), info.as_json())
    except JobDeleted:
        log.info("data set %s was deleted while it was checked; stopped", dataset_id)
        return
    except StoreUnavailable:
        raise  # not the file's fault: the task is re-sent once the store is back
    except DatasetRejected as rejected:
        repo.mark_finished(dataset_id, JobStatus.failed, error=str(rejected))
        store.delete(object_keys.dataset_file_key(dataset_id))
        return
    except Exception as error:
        log.exception("data set %s could not be checked", dataset_id)
        repo.mark_finished(dataset_id, JobStatus.failed, error=f"not a readable .npz: {type(error).__name__}: {error}")
        store.delete(object_keys.dataset_file_key(dataset_id))
        return
    repo.mark_finished(dataset_id, JobStatus.succeeded)

"""What every upload does at the gateway: measure it against its cap, then store it for its job.

Imports (a CSV) and data sets (an .npz) both stream the file to the store as one object
under the new job and queue the job that reads it; a failure to store fails the job.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from lesde_contract.records import JobRecord, JobStatus
from lesde_runtime.job_repository import JobRepository


class ImportTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the upload exceeds this deployment's limit of {limit:,} bytes (LESDE_MAX_IMPORT_BYTES)")


def upload_size(upload: BinaryIO, *, max_bytes: int) -> int:
    """The upload's size in bytes (rewound), or ImportTooLarge over ``max_bytes``."""
    size = upload.seek(0, os.SEEK_END)
    upload.seek(0)
    if size > max_bytes:
        raise ImportTooLarge(max_bytes)
    return size


def store_upload(repo: JobRepository, record: JobRecord, key: str, upload: BinaryIO, size: int, *, content_type: str) -> None:
    """Put the upload at ``key``; if the store refuses, the job fails saying so (and the error propagates)."""
    try:
        repo.store.put_file(key, upload, size, content_type=content_type)
    except Exception as error:
        repo.mark_finished(record.id, JobStatus.failed, error=f"could not store the upload: {error}")
        raise

"""Import logits in the authors' CSV layout: store the upload and queue its import.

The gateway reads only the header line (a missing or misnamed column, or a class list of
the wrong length, is answered 422 at once, with row and column); the upload is then
streamed to the store as one object and the analyzer's import task parses it row by row
(a bad cell fails the job with its row and column in the job's error). See
:mod:`lesde_analyzer.imports` for the mapping onto chunks.
"""

from __future__ import annotations

import csv
from typing import BinaryIO

from lesde_contract import object_keys
from lesde_contract.csv_layout import MAX_HEADER_BYTES, ImportRejected, check_header
from lesde_contract.records import JobRecord
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobRepository

from lesde_api.operations.queueing import enqueue_new_job
from lesde_api.operations.uploads import ImportTooLarge, store_upload, upload_size

__all__ = ["ImportTooLarge", "start_import"]


def _classes_of_header(upload: BinaryIO) -> int:
    """K of the upload's header line (read, then the stream is rewound)."""
    line = upload.readline(MAX_HEADER_BYTES + 1)
    upload.seek(0)
    if len(line) > MAX_HEADER_BYTES:
        raise ImportRejected(
            f"the header line is longer than {MAX_HEADER_BYTES:,} bytes (128 KiB), the limit of this layout's header", row=1
        )
    try:
        head = next(csv.reader([line.decode("utf-8")]), None)
    except UnicodeDecodeError as error:
        raise ImportRejected(f"not UTF-8 text ({error})", row=1) from None
    except csv.Error as error:
        raise ImportRejected(f"malformed CSV header ({error})", row=1) from None
    if not head:
        raise ImportRejected("the file is empty; expected a header row", row=1)
    return check_header(head)[1]


def start_import(
    repo: JobRepository, upload: BinaryIO, *, filename: str, owner: str, name: str | None, classes: list[str] | None, max_bytes: int
) -> JobRecord:
    """Check the header, store the upload and queue its import; return the new (queued) experiment."""
    size = upload_size(upload, max_bytes=max_bytes)
    K = _classes_of_header(upload)
    if classes is not None and len(classes) != K:
        raise ImportRejected(f"{len(classes)} class names given for K = {K} logit columns", column="classes")
    spec = {
        "kind": "import",
        "name": name,
        "source": {"format": "authors-csv", "filename": filename, "bytes": size},
        "dataset": {"name": "imported", "classes": classes or [str(k) for k in range(K)]},
    }
    record = repo.create(spec=spec, owner=owner, name=name, total=size, unit="bytes")
    store_upload(repo, record, object_keys.upload_key(record.id), upload, size, content_type="text/csv")
    enqueue_new_job(repo, record, celery_app.IMPORT_EXPERIMENT)  # refused: the job and its upload are removed
    return record

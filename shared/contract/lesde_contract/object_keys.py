"""Object keys: the storage contract between services (DESIGN section 4).

Chunk keys carry zero-padded iteration ranges so that lexicographic order of keys is
iteration order, and a retried write of the same range lands on the same key.
"""

from __future__ import annotations

import hashlib
import re

STREAMS = ("sampled", "probe", "eval", "features")
ID_PATTERN = re.compile(r"^[a-z0-9]{8,40}$")
_CHUNK = re.compile(r"(?P<first>\d{9})-(?P<last>\d{9})\.npz$")


def job_prefix(kind: str, job_id: str) -> str:
    """``experiments/<id>/``, ``simulations/<id>/`` or ``sweeps/<id>/``."""
    return f"{kind}s/{job_id}/"


def spec_key(kind: str, job_id: str) -> str:
    return job_prefix(kind, job_id) + "spec.json"


def status_key(kind: str, job_id: str) -> str:
    return job_prefix(kind, job_id) + "status.json"


def cancel_key(kind: str, job_id: str) -> str:
    """Marker object: its presence asks the worker to stop (written only by the API)."""
    return job_prefix(kind, job_id) + "cancel"


def tombstone_key(kind: str, job_id: str) -> str:
    """Marker of a deleted job, outside the job's prefix so that deleting the job keeps it:
    a worker still holding the job sees it and stops writing (:mod:`lesde_runtime.tombstones`)."""
    return f"tombstones/{kind}/{job_id}"


def manifest_key(job_id: str) -> str:
    return job_prefix("experiment", job_id) + "manifest.json"


def checkpoint_key(job_id: str) -> str:
    return job_prefix("experiment", job_id) + "checkpoint/state.npz"


def dataset_file_key(dataset_id: str) -> str:
    """An uploaded data set's ``.npz``, as uploaded (kept while the data set exists)."""
    return job_prefix("dataset", dataset_id) + "data.npz"


def dataset_info_key(dataset_id: str) -> str:
    """What the validation found in it (``lesde_contract.dataset_files.DatasetInfo``), once it succeeded."""
    return job_prefix("dataset", dataset_id) + "info.json"


def dataset_user_key(dataset_id: str, experiment_id: str) -> str:
    """A marker: experiment ``experiment_id`` trains on the data set (a delete checks these)."""
    return job_prefix("dataset", dataset_id) + f"users/{experiment_id}"


def dataset_users_prefix(dataset_id: str) -> str:
    return job_prefix("dataset", dataset_id) + "users/"


def upload_key(job_id: str) -> str:
    """A CSV upload waiting for the analyzer to import it (deleted once imported)."""
    return job_prefix("experiment", job_id) + "upload.csv"


def staged_chunk_key(owner: str, digest: str) -> str:
    """A chunk uploaded for a recorded run's import (``PUT /v1/imports/chunks/{sha256}``),
    content-addressed per owner, until the import that lists it has copied it."""
    return f"staging/{hashlib.sha256(owner.encode()).hexdigest()[:16]}/{digest}.npz"


def staging_prefix(owner: str) -> str:
    return staged_chunk_key(owner, "x").rsplit("/", 1)[0] + "/"


def run_upload_key(job_id: str) -> str:
    """A recorded run's manifest as uploaded (the chunks it lists are staged), until imported."""
    return job_prefix("experiment", job_id) + "upload-run.json"


def sweep_children_key(sweep_id: str) -> str:
    """The sweep's children: which experiment runs which grid point (:mod:`lesde_contract.sweep_children`)."""
    return job_prefix("sweep", sweep_id) + "children.json"


def sweep_table_key(sweep_id: str) -> str:
    """The cross-child table as CSV, one row per child (written by the analyzer)."""
    return job_prefix("sweep", sweep_id) + "analysis/table.csv"


def chunk_prefix(job_id: str, stream: str) -> str:
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {STREAMS}, got {stream!r}")
    return job_prefix("experiment", job_id) + f"chunks/{stream}/"


def chunk_key(job_id: str, stream: str, first: int, last: int) -> str:
    """Key of the chunk holding iterations ``first..last`` (inclusive) of ``stream``."""
    return chunk_prefix(job_id, stream) + f"{first:09d}-{last:09d}.npz"


def parse_chunk_range(key: str) -> tuple[int, int]:
    """``(first, last)`` of a chunk key."""
    match = _CHUNK.search(key)
    if match is None:
        raise ValueError(f"not a chunk key: {key!r}")
    return int(match["first"]), int(match["last"])


def analysis_key(kind: str, job_id: str, name: str) -> str:
    return job_prefix(kind, job_id) + f"analysis/{name}.json"


#: the file formats every figure is served in (``figures/<name>.<ext>``)
FIGURE_FORMATS = ("png", "svg", "pdf")


def figure_key(kind: str, job_id: str, name: str, ext: str = "png") -> str:
    """``<kind>s/<id>/figures/<name>.<ext>``, ``ext`` one of :data:`FIGURE_FORMATS`."""
    if ext not in FIGURE_FORMATS:
        raise ValueError(f"ext must be one of {FIGURE_FORMATS}, got {ext!r}")
    return job_prefix(kind, job_id) + f"figures/{name}.{ext}"


def job_logs_prefix(kind: str, job_id: str) -> str:
    """``<kind>s/<id>/logs/``: the job's own log lines, one object per task run (:mod:`lesde_runtime.job_logs`)."""
    return job_prefix(kind, job_id) + "logs/"


def job_log_key(kind: str, job_id: str, segment: str) -> str:
    """One task run's lines as JSON lines; ``segment`` is ``<start>-<worker>`` (chronological by name)."""
    return job_logs_prefix(kind, job_id) + f"{segment}.jsonl"


#: where the leases of running analyses live, one object each: the reaper lists only this prefix
ANALYSIS_LEASES_PREFIX = "leases/analysis/"


def analysis_lease_key(job_id: str, options_key: str) -> str:
    """The lease of the running analysis of experiment ``job_id`` with option set ``options_key``."""
    return f"{ANALYSIS_LEASES_PREFIX}{job_id}.{options_key}.json"

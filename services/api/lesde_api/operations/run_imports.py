"""Import a recorded run (:class:`lesde.Recorder`): chunks staged one by one, then one import job.

The client uploads each chunk of its run folder under its sha256 (``PUT
/v1/imports/chunks/{sha256}``): content-addressed, so a retried or resumed upload sends
only what the server lacks (``POST /v1/imports/chunks/missing``), and an interrupted
upload picks up at its first missing chunk. Each chunk is checked here as it arrives (its
digest, and that it is an ``.npz`` of plain arrays). ``POST /v1/imports/runs`` then names
the run's manifest; every chunk it lists must be staged (409 listing those that are not)
and the analyzer's import job checks them against the manifest and each other
(:mod:`lesde_analyzer.imports.run`) before they become the experiment's chunks.
"""

from __future__ import annotations

import hashlib

from lesde_contract import object_keys
from lesde_contract.chunks.format import decode_chunk
from lesde_contract.object_store import ObjectStore
from lesde_contract.records import JobRecord
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobConflict, JobRepository
from pydantic import BaseModel, Field, field_validator

from lesde_api.operations.queueing import enqueue_new_job
from lesde_api.operations.uploads import ImportTooLarge

MAX_CHUNK_BYTES = 256 << 20  # one staged chunk (a Recorder's chunk of 1,000 steps is a few MB)
DIGEST_PATTERN = r"^[0-9a-f]{64}$"
MAX_RUN_CHUNKS = 100_000


class ChunkRejected(ValueError):
    """An uploaded chunk is not what its URL says, or not a chunk; ``field`` names what."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ChunkEntry(BaseModel):
    """One chunk of the run's manifest (as :class:`lesde.Recorder` writes it)."""

    first: int = Field(ge=0, description="First iteration the chunk covers.")
    last: int = Field(ge=0, description="Last iteration the chunk covers (inclusive).")
    records: int = Field(ge=1, description="Records in the chunk.")
    checksum: str = Field(pattern=r"^sha256:[0-9a-f]{64}$", description="`sha256:<hex>` of the chunk's bytes, as staged.")
    size: int = Field(ge=1, le=MAX_CHUNK_BYTES, description="Bytes.")


class RunManifest(BaseModel):
    """The run folder's ``manifest.json`` (its ``key`` fields and ``job_id`` are ignored: the server names the chunks)."""

    iterations_done: int = Field(ge=1, description="One past the last iteration every trial recorded.")
    chunks: dict[str, list[ChunkEntry]] = Field(description="Per stream (`sampled`, `probe`, `features`, `eval`), the chunks in order.")

    @field_validator("chunks")
    @classmethod
    def _streams(cls, value: dict[str, list[ChunkEntry]]) -> dict[str, list[ChunkEntry]]:
        unknown = sorted(set(value) - set(object_keys.STREAMS))
        if unknown:
            raise ValueError(f"unknown stream(s) {', '.join(unknown)}; streams are {', '.join(object_keys.STREAMS)}")
        if not value.get("sampled"):
            raise ValueError("the sampled stream lists no chunk: a run needs its sampled logits")
        if sum(len(entries) for entries in value.values()) > MAX_RUN_CHUNKS:
            raise ValueError(f"at most {MAX_RUN_CHUNKS:,} chunks per run")
        for stream, entries in value.items():
            for before, after in zip(entries, entries[1:]):
                if after.first <= before.last:
                    raise ValueError(f"{stream}: chunk {after.first}-{after.last} overlaps or precedes {before.first}-{before.last}")
        return value


class RunImport(BaseModel):
    """``POST /v1/imports/runs``: a recorded run whose chunks are staged."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "my-run",
                    "classes": ["cat", "dog", "ship"],
                    "trials": 2,
                    "manifest": {
                        "iterations_done": 1000,
                        "chunks": {
                            "sampled": [
                                {"first": 0, "last": 999, "records": 1000, "checksum": "sha256:" + "0" * 64, "size": 61234},
                            ]
                        },
                    },
                    "source": {"recorder": "lesde 0.1.0", "batch_size": 1},
                }
            ]
        }
    }

    name: str | None = Field(default=None, max_length=200, description="A name for the experiment (shown in listings).")
    classes: list[str] = Field(min_length=2, max_length=1000, description="Class names in label order (K of them).")
    trials: int = Field(ge=1, le=100_000, description="R, the models recorded side by side.")
    manifest: RunManifest = Field(description="The run folder's manifest.json: its chunks per stream and how far it got.")
    source: dict = Field(default_factory=dict, description="What recorded it (the run's spec `source`), kept in the experiment's spec.")

    @field_validator("classes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value) or not all(value):
            raise ValueError("class names must be non-empty and unique")
        return value


def stage_chunk(store: ObjectStore, owner: str, digest: str, data: bytes) -> bool:
    """Keep an uploaded chunk for a later run import; True if it was new (False: already staged)."""
    if len(data) > MAX_CHUNK_BYTES:
        raise ImportTooLarge(MAX_CHUNK_BYTES)
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise ChunkRejected("sha256", f"the body's sha256 is {actual}, not the {digest} of the URL (changed in transit, or the wrong file)")
    try:
        decode_chunk(data)
    except ValueError as error:
        raise ChunkRejected("body", f"not a chunk: an .npz of plain arrays is needed ({error})") from None
    key = object_keys.staged_chunk_key(owner, digest)
    if store.exists(key):
        return False
    store.put_bytes(key, data)
    return True


def missing_chunks(store: ObjectStore, owner: str, checksums: list[str]) -> list[str]:
    """Those of ``checksums`` (``sha256:<hex>``) not staged for ``owner``, in the order given."""
    return [
        checksum
        for checksum in dict.fromkeys(checksums)
        if not store.exists(object_keys.staged_chunk_key(owner, checksum.removeprefix("sha256:")))
    ]


def start_run_import(repo: JobRepository, run: RunImport, *, owner: str, max_bytes: int) -> JobRecord:
    """Check that every chunk is staged, store the manifest and queue the import job."""
    entries = [entry for stream_entries in run.manifest.chunks.values() for entry in stream_entries]
    total = sum(entry.size for entry in entries)
    if total > max_bytes:
        raise ImportTooLarge(max_bytes)
    missing = missing_chunks(repo.store, owner, [entry.checksum for entry in entries])
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise JobConflict(f"{len(missing)} of the run's chunks are not staged: {shown}; PUT them to /v1/imports/chunks/{{sha256}} first")
    spec = {
        "kind": "import",
        "name": run.name,
        "source": run.source | {"format": "lesde-run", "chunks": len(entries), "bytes": total},
        "dataset": {"name": "recorded", "classes": run.classes},
        "training": {"iterations": run.manifest.iterations_done, "trials": run.trials},
    }
    record = repo.create(spec=spec, owner=owner, name=run.name, total=len(entries), unit="chunks")
    repo.store.put_json(object_keys.run_upload_key(record.id), run.manifest.model_dump(mode="json") | {"owner": owner})
    enqueue_new_job(repo, record, celery_app.IMPORT_EXPERIMENT)  # refused: the job and its upload are removed
    return record

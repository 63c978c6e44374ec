"""Writing an experiment's chunk streams and its manifest.

Each chunk is one PUT under an idempotent key (``chunks/<stream>/<first>-<last>.npz``)
and is never modified. The manifest lists the chunks written so far with checksums; it
is rewritten after the chunks and the checkpoint of a step, so it never names a chunk
that is not there. After a crash, entries beyond the checkpoint are dropped: the resumed
run rewrites those chunks with the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lesde import keys
from lesde.chunks import checksum, encode_chunk
from lesde.storage import ObjectNotFound, ObjectStore

MANIFEST_VERSION = 1


@dataclass
class Manifest:
    """``chunks[stream]``: list of ``{"key", "first", "last", "records", "checksum", "size"}`` in order.

    ``dataset``: provenance of the arrays trained on, ``{"name", "generator_version"}``
    (the version is None for datasets read from files).
    """

    job_id: str
    chunks: dict[str, list[dict]] = field(default_factory=lambda: {stream: [] for stream in keys.STREAMS})
    iterations_done: int = 0
    complete: bool = False
    dataset: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "version": MANIFEST_VERSION,
            "job_id": self.job_id,
            "iterations_done": self.iterations_done,
            "complete": self.complete,
            "dataset": self.dataset,
            "chunks": self.chunks,
        }

    @classmethod
    def from_json(cls, value: dict) -> "Manifest":
        chunks = {stream: list(value.get("chunks", {}).get(stream, [])) for stream in keys.STREAMS}
        return cls(
            job_id=value["job_id"],
            chunks=chunks,
            iterations_done=int(value.get("iterations_done", 0)),
            complete=bool(value.get("complete", False)),
            dataset=dict(value.get("dataset", {})),
        )

    def truncate(self, iterations_done: int) -> None:
        """Forget chunks that end past ``iterations_done`` (they will be rewritten identically)."""
        for stream, entries in self.chunks.items():
            self.chunks[stream] = [entry for entry in entries if entry["last"] < iterations_done]
        self.iterations_done = iterations_done


class ChunkWriter:
    """Puts chunks and keeps the manifest of one experiment."""

    def __init__(self, store: ObjectStore, job_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self.manifest = Manifest(job_id=job_id)

    def load_manifest(self, iterations_done: int) -> None:
        """Resume: read the stored manifest and cut it back to the checkpoint."""
        try:
            self.manifest = Manifest.from_json(self.store.get_json(keys.manifest_key(self.job_id)))
        except ObjectNotFound:
            self.manifest = Manifest(job_id=self.job_id)
        self.manifest.truncate(iterations_done)

    def put(self, stream: str, first: int, last: int, arrays: dict[str, np.ndarray]) -> None:
        """Write one chunk covering update iterations ``first..last`` (inclusive)."""
        data = encode_chunk(arrays)
        key = keys.chunk_key(self.job_id, stream, first, last)
        self.store.put_bytes(key, data)
        records = int(len(next(iter(arrays.values())))) if arrays else 0
        entry = {"key": key, "first": first, "last": last, "records": records, "checksum": checksum(data), "size": len(data)}
        entries = self.manifest.chunks[stream]
        entries[:] = [existing for existing in entries if existing["key"] != key]
        entries.append(entry)

    def commit(self, iterations_done: int, *, complete: bool = False) -> None:
        self.manifest.iterations_done = iterations_done
        self.manifest.complete = complete
        self.store.put_json(keys.manifest_key(self.job_id), self.manifest.to_json())

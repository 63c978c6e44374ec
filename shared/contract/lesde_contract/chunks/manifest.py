"""The manifest of an experiment: which chunks exist, with checksums, and how far training got.

It is the only index of an experiment's data: readers list chunks from it, never from the
store, and stop at ``iterations_done``, so a chunk written but not yet committed is never
read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lesde_contract import object_keys

if TYPE_CHECKING:  # the manifest itself needs no store: the light client's Recorder writes it
    from lesde_contract.object_store import ObjectStore

MANIFEST_VERSION = 1


@dataclass
class Manifest:
    """``chunks[stream]``: list of ``{"key", "first", "last", "records", "checksum", "size"}`` in order.

    ``dataset``: provenance of the arrays trained on, ``{"name", "generator_version"}``
    (the version is None for datasets read from files; empty for imported or synthetic data).
    """

    job_id: str
    chunks: dict[str, list[dict]] = field(default_factory=lambda: {stream: [] for stream in object_keys.STREAMS})
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
    def from_json(cls, value: dict) -> Manifest:
        chunks = {stream: list(value.get("chunks", {}).get(stream, [])) for stream in object_keys.STREAMS}
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


def load_manifest(store: ObjectStore, job_id: str) -> Manifest:
    """The stored manifest of ``job_id``; raises ``ObjectNotFound`` before the first commit."""
    return Manifest.from_json(store.get_json(object_keys.manifest_key(job_id)))


def save_manifest(store: ObjectStore, manifest: Manifest) -> None:
    store.put_json(object_keys.manifest_key(manifest.job_id), manifest.to_json())

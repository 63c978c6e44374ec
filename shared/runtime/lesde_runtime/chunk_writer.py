"""Writing an experiment's chunk streams, its checkpoint and its manifest.

Each chunk is one PUT under an idempotent key (``chunks/<stream>/<first>-<last>.npz``)
and is never modified. A step ends with :meth:`ChunkWriter.commit`: the manifest is
written, then the checkpoint (if the writer has one), so the manifest never names a chunk
that is not there, and the checkpoint is never ahead of the manifest (a kill between the
two leaves the manifest ahead by one step). After a crash, :meth:`ChunkWriter.resume`
drops the entries past the checkpoint: the resumed run rewrites those chunks with the same
bytes.

Every write checks the job's tombstone (:mod:`lesde_runtime.tombstones`): once the job is
deleted, the next chunk, checkpoint or manifest write raises
:class:`~lesde_runtime.tombstones.JobDeleted` and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from lesde_contract import object_keys
from lesde_contract.chunks.format import checksum, decode_chunk, encode_chunk
from lesde_contract.chunks.manifest import Manifest, load_manifest, save_manifest
from lesde_contract.object_store import ObjectNotFound, ObjectStore

from lesde_runtime.tombstones import guarded_write


class ChunkWriter:
    """Puts chunks and keeps the manifest (and the resume checkpoint) of one experiment."""

    def __init__(self, store: ObjectStore, job_id: str) -> None:
        self.store = store
        self.job_id = job_id
        self.manifest = Manifest(job_id=job_id)

    def load_checkpoint(self) -> dict | None:
        """The state saved by the last :meth:`commit` that carried one (0-d arrays as scalars); None if none."""
        try:
            state = decode_chunk(self.store.get_bytes(object_keys.checkpoint_key(self.job_id)))
        except ObjectNotFound:
            return None
        return {name: value.item() if value.ndim == 0 else value for name, value in state.items()}

    def resume(self, iterations_done: int) -> None:
        """Read the stored manifest (if any) and cut it back to ``iterations_done``, the checkpoint's iteration."""
        try:
            self.manifest = load_manifest(self.store, self.job_id)
        except ObjectNotFound:
            self.manifest = Manifest(job_id=self.job_id)
        self.manifest.truncate(iterations_done)

    def put(self, stream: str, first: int, last: int, arrays: dict[str, np.ndarray]) -> None:
        """Write one chunk covering iterations ``first..last`` (inclusive); ``arrays["iteration"]`` is its record axis."""
        data = encode_chunk(arrays)
        key = object_keys.chunk_key(self.job_id, stream, first, last)
        self._write(key, lambda: self.store.put_bytes(key, data))
        entry = {
            "key": key,
            "first": first,
            "last": last,
            "records": len(arrays["iteration"]),
            "checksum": checksum(data),
            "size": len(data),
        }
        entries = self.manifest.chunks[stream]
        entries[:] = [existing for existing in entries if existing["key"] != key]
        entries.append(entry)

    def commit(self, iterations_done: int, *, complete: bool = False, checkpoint: dict | None = None) -> None:
        """End a step: save the manifest up to ``iterations_done``, then ``checkpoint`` (arrays and scalars).

        The manifest first: a worker killed between the two leaves a manifest ahead of the
        checkpoint, which the next worker's :meth:`resume` cuts back (it retrains that step
        and rewrites the same chunks). The other order could leave the checkpoint ahead: the
        next worker would then continue past chunks the manifest never listed, and they
        would be lost from the run (seen when five kills landed mid-commit).
        """
        self.manifest.iterations_done = iterations_done
        self.manifest.complete = complete
        self._write(object_keys.manifest_key(self.job_id), lambda: save_manifest(self.store, self.manifest))
        if checkpoint is not None:
            state = encode_chunk({name: np.asarray(value) for name, value in checkpoint.items()})
            key = object_keys.checkpoint_key(self.job_id)
            self._write(key, lambda: self.store.put_bytes(key, state))

    def _write(self, key: str, write: Callable[[], None]) -> None:
        """``write()`` stores ``key``, unless the job was deleted (:func:`~lesde_runtime.tombstones.guarded_write`)."""
        guarded_write(self.store, "experiment", self.job_id, key, write)

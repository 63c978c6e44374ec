"""The chunk contract, once for every service: chunk bytes, the manifest, the writer
(chunks, checkpoint, commit), the reader (checksums, cut at ``iterations_done``) and the
per-class reduction stored with the sampled stream. Keys are in :mod:`lesde_contract.object_keys`.

The bytes, the manifest and the reduction need numpy only, so the light client's
:class:`~lesde.Recorder` writes the same chunks; the reader and the writer (which talk to
an object store and check tombstones) are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lesde_contract.chunks.format import checksum, decode_chunk, encode_chunk
from lesde_contract.chunks.manifest import MANIFEST_VERSION, Manifest, load_manifest, save_manifest
from lesde_contract.chunks.reduction import class_means, class_sums

if TYPE_CHECKING:
    from lesde_contract.chunks.reader import ChunkCorrupt, iter_chunks
    from lesde_runtime.chunk_writer import ChunkWriter

_LAZY = {"ChunkCorrupt": "lesde_contract.chunks.reader", "iter_chunks": "lesde_contract.chunks.reader", "ChunkWriter": "lesde_runtime.chunk_writer"}

__all__ = [
    "MANIFEST_VERSION",
    "ChunkCorrupt",
    "ChunkWriter",
    "Manifest",
    "checksum",
    "class_means",
    "class_sums",
    "decode_chunk",
    "encode_chunk",
    "iter_chunks",
    "load_manifest",
    "save_manifest",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lesde_contract.chunks' has no attribute {name!r}")

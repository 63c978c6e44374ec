"""The chunk contract, once for every service: chunk bytes, the manifest, the reader
(checksums, cut at ``iterations_done``), the per-class reduction stored with the sampled
stream and the checks of an uploaded chunk. Keys are in :mod:`lesde_contract.object_keys`;
the writer, which checks tombstones, is the runtime's (:mod:`lesde_runtime.chunk_writer`).
"""

from __future__ import annotations

from lesde_contract.chunks.format import checksum, decode_chunk, encode_chunk
from lesde_contract.chunks.manifest import MANIFEST_VERSION, Manifest, load_manifest, save_manifest
from lesde_contract.chunks.reader import ChunkCorrupt, iter_chunks
from lesde_contract.chunks.reduction import class_means, class_sums

__all__ = [
    "MANIFEST_VERSION",
    "ChunkCorrupt",
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

"""The chunk contract, once for every service: chunk bytes, the manifest, the writer
(chunks, checkpoint, commit), the reader (checksums, cut at ``iterations_done``) and the
per-class reduction stored with the sampled stream. Keys are in :mod:`lesde.keys`."""

from lesde.chunks.format import checksum, decode_chunk, encode_chunk
from lesde.chunks.manifest import MANIFEST_VERSION, Manifest, load_manifest, save_manifest
from lesde.chunks.reader import ChunkCorrupt, iter_chunks
from lesde.chunks.reduction import class_means, class_sums
from lesde.chunks.writer import ChunkWriter

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

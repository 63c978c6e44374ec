"""Reading an experiment's chunk streams back, chunk by chunk (bounded memory).

Chunks are listed by the manifest, each one's checksum is checked against it (a damaged
object is reported by key instead of silently skewing an analysis or an export), and
records past the manifest's ``iterations_done`` are dropped, so an experiment that is
still training is read up to what it has committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from lesde_contract.chunks.format import checksum, decode_chunk
from lesde_contract.chunks.manifest import Manifest
from lesde_contract.object_store import ObjectStore


class ChunkCorrupt(ValueError):
    """A stored chunk's bytes do not match the checksum its manifest lists."""


def iter_chunks(
    store: ObjectStore, manifest: Manifest, stream: str, *, fields: Iterable[str] | None = None
) -> Iterator[dict[str, np.ndarray]]:
    """Yield the chunks of ``stream`` in iteration order, only the arrays in ``fields`` (None: all).

    Records after ``manifest.iterations_done`` are cut off: for ``sampled`` (update
    ``t`` logs the forward pass before it) those with ``iteration >= done``, for the state
    records (``probe``, ``eval``, ``features``: the model after ``t`` updates) ``> done``.
    Arrays without the record axis (``probe_label``) are passed through whole.
    """
    done = manifest.iterations_done
    for entry in manifest.chunks.get(stream, []):
        data = store.get_bytes(entry["key"])
        if checksum(data) != entry["checksum"]:
            raise ChunkCorrupt(f"chunk {entry['key']} does not match its manifest checksum")
        arrays = decode_chunk(data, fields=fields)
        if "iteration" in arrays:
            keep = arrays["iteration"] < done if stream == "sampled" else arrays["iteration"] <= done
            if not keep.all():
                arrays = {name: (value[keep] if value.shape[:1] == keep.shape else value) for name, value in arrays.items()}
        yield arrays

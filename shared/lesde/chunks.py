"""Chunk format: one ``.npz`` object per stream and iteration range.

A chunk is a dict of named numpy arrays whose first axis is the record axis (one entry
per logged iteration). It is serialised deterministically (no timestamps, fixed array
order) so a re-run of the same iterations produces byte-identical objects.
"""

from __future__ import annotations

import hashlib
import io
import zipfile

import numpy as np


def encode_chunk(arrays: dict[str, np.ndarray]) -> bytes:
    """Serialise ``arrays`` to npz bytes; byte-identical for identical inputs."""
    buffer = io.BytesIO()
    # np.savez writes zip entries with a fixed date, so the bytes depend only on data.
    # (np.require keeps 0-d arrays 0-d; np.ascontiguousarray would make them 1-d.)
    np.savez(buffer, **{name: np.require(arrays[name], requirements="C") for name in sorted(arrays)})
    return buffer.getvalue()


def decode_chunk(data: bytes) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode_chunk`."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ValueError(f"corrupt chunk: {error}") from error


def checksum(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()

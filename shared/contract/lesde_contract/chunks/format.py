"""Chunk bytes: one ``.npz`` object per stream and iteration range.

A chunk is a dict of named numpy arrays whose first axis is the record axis (one entry
per logged iteration). It is serialised deterministically (no timestamps, fixed array
order) so a re-run of the same iterations produces byte-identical objects.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable

import numpy as np


def encode_chunk(arrays: dict[str, np.ndarray]) -> bytes:
    """Serialise ``arrays`` to npz bytes; byte-identical for identical inputs."""
    buffer = io.BytesIO()
    # np.savez writes zip entries with a fixed date, so the bytes depend only on data.
    # (np.require keeps 0-d arrays 0-d; np.ascontiguousarray would make them 1-d.)
    # allow_pickle is numpy's default, named so that no array can take the flag's place
    np.savez(buffer, allow_pickle=True, **{name: np.require(arrays[name], requirements="C") for name in sorted(arrays)})
    return buffer.getvalue()


def decode_chunk(data: bytes, *, fields: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode_chunk`.

    ``fields``: decode only these arrays (npz members are read lazily, so the others
    cost nothing); names the chunk does not have are left out. None: every array.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            names = archive.files if fields is None else [name for name in fields if name in archive.files]
            return {name: archive[name] for name in names}
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ValueError(f"corrupt chunk: {error}") from error


def checksum(data: bytes) -> str:
    """``"sha256:<hex>"`` of a chunk's bytes, as the manifest lists it."""
    return "sha256:" + hashlib.sha256(data).hexdigest()

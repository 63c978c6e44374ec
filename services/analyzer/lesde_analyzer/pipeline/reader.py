"""Read an experiment's chunk streams back, chunk by chunk (bounded memory)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lesde import keys
from lesde.chunks import checksum, decode_chunk
from lesde.storage import ObjectNotFound, ObjectStore


class ExperimentDataMissing(LookupError):
    """The experiment has no (or no complete) data to analyse."""


def read_manifest(store: ObjectStore, job_id: str) -> dict:
    try:
        return store.get_json(keys.manifest_key(job_id))
    except ObjectNotFound:
        raise ExperimentDataMissing(f"experiment {job_id} has no manifest: nothing was trained yet") from None


def iter_chunks(
    store: ObjectStore, job_id: str, stream: str, *, fields: tuple[str, ...] | None = None, verify: bool = True
) -> Iterator[dict[str, np.ndarray]]:
    """Yield the chunks of ``stream`` in iteration order, as listed by the manifest.

    ``verify`` checks each chunk's checksum against the manifest, so a damaged object
    is reported by key instead of silently skewing the analysis.
    """
    manifest = read_manifest(store, job_id)
    for entry in manifest["chunks"].get(stream, []):
        data = store.get_bytes(entry["key"])
        if verify and checksum(data) != entry["checksum"]:
            raise ValueError(f"chunk {entry['key']} does not match its manifest checksum")
        arrays = decode_chunk(data)
        yield arrays if fields is None else {name: arrays[name] for name in fields}


def class_means_from_sampled(store: ObjectStore, job_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Xbar(t) the authors' way: mean over trials of the sampled logits grouped by label.

    Returns
    -------
    iterations : ndarray of shape (T,)
    xbar : ndarray of shape (T, K, K)
        ``xbar[t, k]`` mean logit vector of trials that trained on label k at t (NaN if none).
    counts : ndarray of shape (T, K)
        How many trials contributed to each mean.
    """
    iterations, sums, counts = [], [], []
    for chunk in iter_chunks(store, job_id, "sampled", fields=("iteration", "class_sum", "class_count")):
        iterations.append(chunk["iteration"])
        sums.append(chunk["class_sum"])
        counts.append(chunk["class_count"])
    if not iterations:
        raise ExperimentDataMissing(f"experiment {job_id} has no sampled chunks")
    total = np.concatenate(sums)
    count = np.concatenate(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        xbar = total / count[:, :, None]
    return np.concatenate(iterations), xbar, count


def read_stream(store: ObjectStore, job_id: str, stream: str, *, fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Concatenate ``fields`` of every chunk of a small stream (``eval``, ``probe``)."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in fields}
    for chunk in iter_chunks(store, job_id, stream, fields=fields):
        for name in fields:
            parts[name].append(chunk[name])
    if not parts[fields[0]]:
        raise ExperimentDataMissing(f"experiment {job_id} has no {stream} chunks")
    return {name: np.concatenate(values) for name, values in parts.items()}

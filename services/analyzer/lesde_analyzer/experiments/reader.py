"""An experiment's manifest and streams for the analysis (the chunk contract is :mod:`lesde_contract.chunks`)."""

from __future__ import annotations

import numpy as np
from lesde_contract.chunks import Manifest, class_means, iter_chunks, load_manifest
from lesde_contract.object_store import ObjectNotFound, ObjectStore


class ExperimentDataMissing(LookupError):
    """The experiment has no (or no complete) data to analyse."""


def read_manifest(store: ObjectStore, job_id: str) -> Manifest:
    try:
        return load_manifest(store, job_id)
    except ObjectNotFound:
        raise ExperimentDataMissing(f"experiment {job_id} has no manifest: nothing was trained yet") from None


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
    for chunk in iter_chunks(store, read_manifest(store, job_id), "sampled", fields=("iteration", "class_sum", "class_count")):
        iterations.append(chunk["iteration"])
        sums.append(chunk["class_sum"])
        counts.append(chunk["class_count"])
    if not iterations:
        raise ExperimentDataMissing(f"experiment {job_id} has no sampled chunks")
    count = np.concatenate(counts)
    return np.concatenate(iterations), class_means(np.concatenate(sums), count), count


def read_stream(store: ObjectStore, manifest: Manifest, stream: str, *, fields: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """Concatenate the per-record ``fields`` of a small stream (``eval``, ``probe``); None if it has no records.

    Fields without a record axis (``probe_label``) are taken from the first chunk.
    """
    parts: dict[str, list[np.ndarray]] = {name: [] for name in fields}
    for chunk in iter_chunks(store, manifest, stream, fields=fields):
        for name in fields:
            if name in chunk:
                parts[name].append(chunk[name])
    if not parts[fields[0]] or sum(len(part) for part in parts[fields[0]]) == 0:
        return None
    per_record = {name: np.concatenate(values) for name, values in parts.items() if name not in ("probe_label", "probe_index") and values}
    fixed = {name: parts[name][0] for name in ("probe_label", "probe_index") if name in parts and parts[name]}
    return per_record | fixed

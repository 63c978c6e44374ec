"""Read an experiment's chunk streams back, chunk by chunk (bounded memory).

Only the arrays asked for are decoded (npz members are read lazily), and records past
the manifest's ``iterations_done`` are dropped, so an experiment that is still training
is analysed up to what it has committed.
"""

from __future__ import annotations

import io
import zipfile
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


def _decode_fields(data: bytes, fields: tuple[str, ...] | None) -> dict[str, np.ndarray]:
    if fields is None:
        return decode_chunk(data)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {name: archive[name] for name in fields if name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ValueError(f"corrupt chunk: {error}") from error


def iter_chunks(
    store: ObjectStore,
    job_id: str,
    stream: str,
    *,
    fields: tuple[str, ...] | None = None,
    verify: bool = True,
    manifest: dict | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Yield the chunks of ``stream`` in iteration order, as listed by the manifest.

    ``verify`` checks each chunk's checksum against the manifest, so a damaged object
    is reported by key instead of silently skewing the analysis. Records after the
    manifest's ``iterations_done`` (sampled: ``>=``; state records: ``>``) are cut off.
    """
    manifest = manifest if manifest is not None else read_manifest(store, job_id)
    done = int(manifest.get("iterations_done", 0))
    for entry in manifest["chunks"].get(stream, []):
        data = store.get_bytes(entry["key"])
        if verify and checksum(data) != entry["checksum"]:
            raise ValueError(f"chunk {entry['key']} does not match its manifest checksum")
        arrays = _decode_fields(data, fields)
        if "iteration" in arrays:
            keep = arrays["iteration"] < done if stream == "sampled" else arrays["iteration"] <= done
            if not keep.all():
                arrays = {name: (value[keep] if value.shape[:1] == keep.shape else value) for name, value in arrays.items()}
        yield arrays


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


def read_stream(
    store: ObjectStore, job_id: str, stream: str, *, fields: tuple[str, ...], manifest: dict | None = None
) -> dict[str, np.ndarray] | None:
    """Concatenate the per-record ``fields`` of a small stream (``eval``, ``probe``); None if it has no records.

    Fields without a record axis (``probe_label``) are taken from the first chunk.
    """
    parts: dict[str, list[np.ndarray]] = {name: [] for name in fields}
    for chunk in iter_chunks(store, job_id, stream, fields=fields, manifest=manifest):
        for name in fields:
            if name in chunk:
                parts[name].append(chunk[name])
    if not parts[fields[0]] or sum(len(part) for part in parts[fields[0]]) == 0:
        return None
    per_record = {name: np.concatenate(values) for name, values in parts.items() if name not in ("probe_label", "probe_index") and values}
    fixed = {name: parts[name][0] for name in ("probe_label", "probe_index") if name in parts and parts[name]}
    return per_record | fixed

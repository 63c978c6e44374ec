"""Is an uploaded chunk one the analysis can read? Checks of shapes, types and values per stream.

A recorded run uploaded to the server (``/v1/imports/runs``) arrives as chunks written by
someone else's code; the import checks every one before it becomes part of an experiment,
so a bad upload fails its job with the chunk and the array named instead of failing the
analysis later. Shapes: R trials, K classes, B rows per step (absent at batch size 1),
P probe samples, F feature dimension, n records.
"""

from __future__ import annotations

import numpy as np

SAMPLED = {"iteration": 1, "label": 2, "logits": 3}  # required arrays and their least number of axes
RECORD_ARRAYS = {"probe": ("logits",), "features": ("features",), "eval": ("val_loss", "val_acc", "train_loss", "train_acc")}
MAX_MAGNITUDE = 1e30  # beyond this a sum of squares overflows float64 in the analysis


class ChunkInvalid(ValueError):
    """A chunk the analysis cannot read; the message names the array."""


def check_chunk(stream: str, arrays: dict[str, np.ndarray], *, first: int, last: int, classes: int) -> int:
    """Check one chunk of ``stream`` covering iterations ``first..last``; return its trials R.

    Raises :class:`ChunkInvalid` naming the first problem.
    """
    if "iteration" not in arrays:
        raise ChunkInvalid("iteration: missing (every chunk has the record axis 'iteration')")
    it = arrays["iteration"]
    if it.ndim != 1 or it.dtype.kind not in "iu" or it.size == 0:
        raise ChunkInvalid(f"iteration: a non-empty 1-d integer array is needed, got {it.dtype} of shape {it.shape}")
    if (np.diff(it) <= 0).any() or it[0] < first or it[-1] > last:
        raise ChunkInvalid(f"iteration: increasing values within {first}..{last} are needed")
    if stream == "sampled":
        return _check_sampled(arrays, first, last, classes)
    if stream not in RECORD_ARRAYS:
        raise ChunkInvalid(f"stream: one of sampled, {', '.join(RECORD_ARRAYS)}, got {stream!r}")
    trials = None
    for name in RECORD_ARRAYS[stream]:
        if name not in arrays:
            if stream == "eval":
                continue
            raise ChunkInvalid(f"{name}: missing from the {stream} chunk")
        value = arrays[name]
        if value.dtype.kind != "f" or value.ndim < 2 or value.shape[0] != it.size:
            raise ChunkInvalid(f"{name}: a float array of shape ({it.size}, R, ...) is needed, got {value.dtype} of shape {value.shape}")
        if np.abs(value[np.isfinite(value)]).max(initial=0.0) > MAX_MAGNITUDE:
            raise ChunkInvalid(f"{name}: values beyond {MAX_MAGNITUDE:g} in magnitude")
        trials = value.shape[1]
    if stream in ("probe", "features"):
        labels = arrays.get("probe_label")
        value = arrays[RECORD_ARRAYS[stream][0]]
        if labels is None or labels.ndim != 1 or labels.dtype.kind not in "iu" or value.ndim != 4 or value.shape[2] != labels.size:
            raise ChunkInvalid(f"probe_label: one integer label per probe sample is needed ({stream} has shape {value.shape})")
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ChunkInvalid(f"probe_label: labels 0 .. {classes - 1} are needed")
        if stream == "probe" and value.shape[3] != classes:
            raise ChunkInvalid(f"logits: {value.shape[3]} logits per probe sample for K = {classes} classes")
    if trials is None:
        raise ChunkInvalid(f"{stream}: the chunk holds none of {', '.join(RECORD_ARRAYS[stream])}")
    return int(trials)


def _check_sampled(arrays: dict[str, np.ndarray], first: int, last: int, classes: int) -> int:
    for name, axes in SAMPLED.items():
        if name not in arrays:
            raise ChunkInvalid(f"{name}: missing from the sampled chunk")
        if arrays[name].ndim < axes:
            raise ChunkInvalid(f"{name}: at least {axes} axes are needed, got shape {arrays[name].shape}")
    it, label, logits = arrays["iteration"], arrays["label"], arrays["logits"]
    if not np.array_equal(it, np.arange(first, last + 1)):
        raise ChunkInvalid(f"iteration: the sampled stream has one record per iteration, {first} to {last}")
    if label.dtype.kind not in "iu" or label.shape[0] != it.size:
        raise ChunkInvalid(f"label: an integer array of shape ({it.size}, R) is needed, got {label.dtype} of shape {label.shape}")
    if logits.dtype.kind != "f" or logits.shape != (*label.shape, classes):
        raise ChunkInvalid(
            f"logits: a float array of shape {(*label.shape, classes)} is needed, got {logits.dtype} of shape {logits.shape}"
        )
    if label.size and (label.min() < 0 or label.max() >= classes):
        raise ChunkInvalid(f"label: labels 0 .. {classes - 1} are needed")
    if not np.isfinite(logits).all() or np.abs(logits).max(initial=0.0) > MAX_MAGNITUDE:
        raise ChunkInvalid(f"logits: finite values at most {MAX_MAGNITUDE:g} in magnitude are needed")
    for name in ("true_label", "loss", "index"):
        if name in arrays and arrays[name].shape != label.shape:
            raise ChunkInvalid(f"{name}: shape {label.shape} (as label) is needed, got {arrays[name].shape}")
    if "true_label" in arrays and (arrays["true_label"].min(initial=0) < 0 or arrays["true_label"].max(initial=0) >= classes):
        raise ChunkInvalid(f"true_label: labels 0 .. {classes - 1} are needed")
    return int(label.shape[1])

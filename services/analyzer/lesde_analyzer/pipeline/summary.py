"""The experiment summary: accuracies, losses and class means at the start and the end."""

from __future__ import annotations

import numpy as np

from lesde.storage import ObjectStore
from lesde_analyzer.pipeline.class_means import weighted_window_mean
from lesde_analyzer.pipeline.reader import class_means_from_sampled, iter_chunks, read_stream

EDGE_WINDOW = 100  # iterations averaged for "Xbar at start / end" from the sampled stream


def _stats(values: np.ndarray) -> dict[str, float]:
    """Mean and standard deviation over trials of a (R,) array."""
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


def _listify(array: np.ndarray) -> list:
    return np.where(np.isfinite(array), array, np.nan).round(8).tolist()


def probe_class_means(store: ObjectStore, job_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Exact Xbar(t) from the probe stream (mean over trials and probe samples per class).

    Returns ``iterations`` (S,) and ``xbar`` (S, K, K).
    """
    iterations, means = [], []
    for chunk in iter_chunks(store, job_id, "probe", fields=("iteration", "logits", "probe_label")):
        labels = chunk["probe_label"]  # (P,)
        classes = int(chunk["logits"].shape[-1])
        one_hot = np.eye(classes)[labels]  # (P, K)
        per_class = np.einsum("srpk,pc->sck", chunk["logits"], one_hot) / (one_hot.sum(axis=0)[None, :, None] * chunk["logits"].shape[1])
        iterations.append(chunk["iteration"])
        means.append(per_class)
    return np.concatenate(iterations), np.concatenate(means)


def experiment_summary(store: ObjectStore, job_id: str, *, class_names: list[str]) -> tuple[dict, dict]:
    """Return ``(summary, series)``: the JSON summary and the arrays the figures need."""
    iterations, xbar, counts = class_means_from_sampled(store, job_id)
    evals = read_stream(store, job_id, "eval", fields=("iteration", "val_loss", "val_acc", "train_loss", "train_acc"))
    probe_t, probe_xbar = probe_class_means(store, job_id)
    edge = min(EDGE_WINDOW, len(iterations))
    summary = {
        "classes": class_names,
        "iterations": int(iterations[-1]) + 1,
        "trials": int(evals["val_acc"].shape[1]),
        "final": {
            "iteration": int(evals["iteration"][-1]),
            "train_accuracy": _stats(evals["train_acc"][-1]),
            "validation_accuracy": _stats(evals["val_acc"][-1]),
            "train_loss": _stats(evals["train_loss"][-1]),
            "validation_loss": _stats(evals["val_loss"][-1]),
        },
        "class_means": {
            "note": "xbar[k][j]: mean logit j of samples of class k; rows follow 'classes'",
            "sampled": {
                "window": edge,
                "start": _listify(weighted_window_mean(xbar, counts, slice(0, edge))),
                "end": _listify(weighted_window_mean(xbar, counts, slice(len(iterations) - edge, None))),
            },
            "probe": {
                "start_iteration": int(probe_t[0]),
                "end_iteration": int(probe_t[-1]),
                "start": _listify(probe_xbar[0]),
                "end": _listify(probe_xbar[-1]),
            },
        },
    }
    series = {"iterations": iterations, "xbar": xbar, "counts": counts, "probe_t": probe_t, "probe_xbar": probe_xbar, "evals": evals}
    return summary, series

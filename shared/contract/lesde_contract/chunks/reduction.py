"""Per-class reduction of sampled logits, stored beside them so Xbar(t) is cheap to read back.

Every writer of the ``sampled`` stream (trainer, importer, test fixtures) adds
:func:`class_sums` to each chunk; readers turn the concatenated sums back into class
means with :func:`class_means`.
"""

from __future__ import annotations

import numpy as np


def class_sums(label: np.ndarray, logits: np.ndarray, *, num_classes: int) -> dict[str, np.ndarray]:
    """Sum and count, per iteration, of the logged logits grouped by their trained label.

    Parameters
    ----------
    label : ndarray of int, shape (n, *rows)
        Trained label of each logged row (``rows`` is ``(R,)`` trials, or ``(R, B)`` with a
        batch of ``B`` samples per trial).
    logits : ndarray of shape (n, *rows, K)
    num_classes : int
        K.

    Returns
    -------
    dict with
        ``class_sum`` : ndarray of shape (n, K, K), dtype of ``logits``: ``[t, k]`` is the sum
        of the logit vectors of the rows whose label is k at iteration t;
        ``class_count`` : ndarray of int64, shape (n, K): how many rows had label k.
    """
    rows = logits.reshape(len(logits), -1, logits.shape[-1])  # (n, rows, K)
    one_hot = np.eye(num_classes, dtype=logits.dtype)[label.reshape(len(label), -1)]  # (n, rows, K)
    return {
        "class_sum": np.einsum("nrk,nrj->nkj", one_hot, rows),
        "class_count": one_hot.sum(axis=1).astype(np.int64),
    }


def class_means(class_sum: np.ndarray, class_count: np.ndarray) -> np.ndarray:
    """Xbar(t): ``class_sum`` (T, K, K) / ``class_count`` (T, K) -> (T, K, K), NaN where a class had no row."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return class_sum / class_count[:, :, None]

"""Count-weighted smoothing and windowed means of class-mean logits with missing (NaN) entries."""

from __future__ import annotations

import numpy as np


def weighted_window_mean(xbar: np.ndarray, counts: np.ndarray, window: slice) -> np.ndarray:
    """Count-weighted mean of ``xbar`` over the iterations in ``window``.

    Parameters
    ----------
    xbar : ndarray of shape (T, K, p)
    counts : ndarray of shape (T, K)

    Returns
    -------
    ndarray of shape (K, p)
        NaN for a class with no sample in the window.

    Examples
    --------
    Class 0 has 1, 1 and 2 rows at 1, 3 and 5: ``(1 + 3 + 2 * 5) / 4``; class 1 was not
    sampled at the first iteration (its NaN carries no weight):

    >>> xbar = np.array([[[1.0], [np.nan]], [[3.0], [2.0]], [[5.0], [4.0]]])
    >>> counts = np.array([[1, 0], [1, 1], [2, 1]])
    >>> weighted_window_mean(xbar, counts, slice(0, 3))
    array([[3.5],
           [3. ]])
    """
    values = np.nan_to_num(xbar[window])
    weights = counts[window].astype(float)
    total = weights.sum(axis=0)  # (K,)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.einsum("tkp,tk->kp", values, weights) / total[:, None]


def moving_average(xbar: np.ndarray, counts: np.ndarray, *, window: int) -> np.ndarray:
    """Count-weighted centred moving average along time: (T, K, p) -> (T, K, p).

    Iterations where a class was not sampled carry no weight, so the result is the
    mean over all logged rows of that class within the window (the authors' curves).

    Examples
    --------
    A window of 3 on ``0, 1, 2, 3, 4`` (one class, one row each); the ends average what they have:

    >>> x = np.arange(5.0).reshape(5, 1, 1)
    >>> moving_average(x, np.ones((5, 1)), window=3)[:, 0, 0]
    array([0.5, 1. , 2. , 3. , 3.5])
    """
    window = max(1, int(window))
    weights = counts.astype(float)  # (T, K)
    values = np.nan_to_num(xbar) * weights[:, :, None]

    def smooth(series: np.ndarray) -> np.ndarray:
        padded = np.concatenate([[0.0], np.cumsum(series)])
        half = window // 2
        t = np.arange(len(series))
        lo = np.clip(t - half, 0, len(series))
        hi = np.clip(t - half + window, 0, len(series))
        return padded[hi] - padded[lo]

    num = np.apply_along_axis(smooth, 0, values.reshape(len(values), -1)).reshape(values.shape)
    den = np.apply_along_axis(smooth, 0, weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den[:, :, None]

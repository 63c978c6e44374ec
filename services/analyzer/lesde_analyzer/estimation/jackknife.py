"""Groups of trials and their leave-one-out class means: the replicates of the jackknife.

Trials are independent trainings of the same network, so the error of anything computed
from ``Xbar(t)`` (the integrals, Gamma, a tail index) is measured by recomputing it with
each group of trials left out in turn (delete-one-group jackknife,
``SE^2 = (G-1)/G sum_g (theta_g - mean theta)^2``). Groups are contiguous blocks of trial
indices of near-equal size; each group's class sums are kept beside the totals, so a
leave-out mean is ``(total - group) / (count - group count)`` without a second pass over
the data.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_int
from ..errors import InvalidArgument

__all__ = ["DEFAULT_GROUPS", "group_class_sums", "leave_one_out_means", "trial_groups"]

DEFAULT_GROUPS = 10


def trial_groups(trials: int, groups: int = DEFAULT_GROUPS) -> np.ndarray:
    """Group of each trial: ``min(groups, trials)`` contiguous blocks of near-equal size; shape (trials,)."""
    R = check_int(trials, "trials", low=1)
    G = min(check_int(groups, "groups", low=1), R)
    return (np.arange(R) * G) // R


def group_class_sums(label: np.ndarray, logits: np.ndarray, group: np.ndarray, *, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per iteration, group of trials and class: the sum and count of the logged logits.

    Parameters
    ----------
    label : ndarray of int, shape (n, R) or (n, R, B)
        Label of each logged row (trained or true: the caller picks the grouping).
    logits : ndarray of shape (n, R, p) or (n, R, B, p)
    group : ndarray of int, shape (R,)
        Group of each trial (:func:`trial_groups`).
    num_classes : int
        K.

    Returns
    -------
    sums : ndarray of shape (n, G, K, p)
    counts : ndarray of shape (n, G, K)
    """
    K = check_int(num_classes, "num_classes", low=2)
    label = np.asarray(label)
    x = np.asarray(logits, dtype=np.float64)
    if label.ndim == 3:  # a batch per trial: rows (R, B) share their trial's group
        n, R, B = label.shape
        label, x, group = label.reshape(n, R * B), x.reshape(n, R * B, -1), np.repeat(group, B)
    n, R = label.shape
    if x.shape[:2] != (n, R) or group.shape != (R,):
        raise InvalidArgument("logits", f"shapes disagree: label {label.shape}, logits {x.shape}, group {group.shape}")
    G = int(group.max()) + 1
    member = np.zeros((R, G))
    member[np.arange(R), group] = 1.0
    onehot = (label[..., None] == np.arange(K)).astype(np.float64)  # (n, R, K)
    sums = np.einsum("rg,nrk,nrp->ngkp", member, onehot, x, optimize=True)
    counts = np.einsum("rg,nrk->ngk", member, onehot, optimize=True)
    return sums, counts


def leave_one_out_means(sums: ArrayLike, counts: ArrayLike) -> np.ndarray:
    """Class means with each group left out in turn.

    Parameters
    ----------
    sums : array_like of shape (T, G, K, p)
    counts : array_like of shape (T, G, K)

    Returns
    -------
    ndarray of shape (G, T, K, p)
        ``out[g]`` is Xbar(t) of every trial outside group ``g`` (NaN where none had the class).
    """
    s = as_float_array(sums, "sums", ndim=4, finite=False)
    c = as_float_array(counts, "counts", ndim=3)
    if c.shape != s.shape[:3]:
        raise InvalidArgument("counts", f"must have shape {s.shape[:3]} like sums; got {c.shape}")
    rest_sum = s.sum(axis=1, keepdims=True) - s  # (T, G, K, p)
    rest_count = c.sum(axis=1, keepdims=True) - c
    with np.errstate(invalid="ignore", divide="ignore"):
        means = rest_sum / rest_count[..., None]
    return np.moveaxis(means, 1, 0)

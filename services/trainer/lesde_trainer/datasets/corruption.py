"""Label corruption: move a fraction p of each class's labels to the other classes."""

from __future__ import annotations

import numpy as np


def corrupt_labels(labels: np.ndarray, *, num_classes: int, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Return corrupted labels; ``labels`` is not modified.

    In every class, ``round(fraction * n_k)`` samples chosen at random get a new label,
    spread over the other ``K - 1`` classes in equal shares (the remainder of the
    division goes to randomly chosen target classes, one extra sample each).

    Parameters
    ----------
    labels : ndarray of shape (N,), int64
    num_classes : int
    fraction : float in [0, 1)
    rng : numpy Generator (determinism per seed)

    Returns
    -------
    noisy : ndarray of shape (N,), int64
    """
    noisy = labels.copy()
    for k in range(num_classes):
        members = np.flatnonzero(labels == k)
        moved = int(round(fraction * members.size))
        if moved == 0:
            continue
        chosen = rng.choice(members, size=moved, replace=False)
        others = np.array([c for c in range(num_classes) if c != k])
        share, extra = divmod(moved, others.size)
        counts = np.full(others.size, share)
        counts[rng.choice(others.size, size=extra, replace=False)] += 1
        noisy[chosen] = rng.permutation(np.repeat(others, counts))
    return noisy

"""Counter-based sample draws: the index trial r uses at iteration t is a pure function of
(seed, r, t), so blocks, resumes and ensemble sizes never change which sample a trial sees.

A splitmix64 cascade over (seed, stream, trial, iteration) gives 64 random bits; the top
53 bits make a uniform in [0, 1) that is scaled to an index (bias below 2**-40 for any
realistic dataset size).
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def counter_uniform(*, seed: int, stream: int, trials: np.ndarray, iterations: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1) for every (iteration, trial).

    Parameters
    ----------
    seed, stream : int
    trials : ndarray of shape (R,), absolute trial numbers
    iterations : ndarray of shape (n,), absolute iteration numbers

    Returns
    -------
    u : ndarray of shape (n, R), float64
    """
    with np.errstate(over="ignore"):
        key = _splitmix64(np.array([seed & (2**64 - 1)], dtype=np.uint64) + _GOLDEN * np.uint64(stream + 1))
        per_trial = _splitmix64(key ^ _splitmix64(np.asarray(trials, dtype=np.uint64) + _GOLDEN))
        per_step = _splitmix64(np.asarray(iterations, dtype=np.uint64) * _GOLDEN + np.uint64(0x5851F42D4C957F2D))
        bits = _splitmix64(per_trial[None, :] ^ per_step[:, None])
    return (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)


def draw_indices(*, seed: int, trials: np.ndarray, iterations: np.ndarray, pools: list[np.ndarray]) -> np.ndarray:
    """Draw one sample from each pool per (iteration, trial).

    Parameters
    ----------
    pools : list of P index arrays (one pool = all training samples for batch-size-1
        SGD, or one pool per class for per-class batches)

    Returns
    -------
    index : ndarray of shape (n, R, P), int64
    """
    out = np.empty((len(iterations), len(trials), len(pools)), dtype=np.int64)
    for p, pool in enumerate(pools):
        u = counter_uniform(seed=seed, stream=p, trials=trials, iterations=iterations)
        out[:, :, p] = pool[np.minimum((u * pool.size).astype(np.int64), pool.size - 1)]
    return out

"""How well a simulated class-mean path matches the genuine one.

* ``nrmse = sqrt(mean (sim - genuine)^2) / sqrt(mean genuine^2)`` over (t, k, j) with a
  finite genuine value, overall and per class.
* Logit order at the end: per class, every pair of genuine logits that is not a tie must
  have the same sign of difference in the simulation. Genuine logits closer than
  ``tolerance * max_j |genuine_j|`` are ties (at collapse the K - 1 non-target logits tie by
  symmetry) and their order is not compared.
* Orthogonal share: an L-model LE-ODE moves class ``k`` only along ``d_k = e_k - 1/K``,
  along ``r_k`` (a vector built from the other classes) and not at all along ``1_K``. The
  share of the centred end logits ``z = x - mean_j(x_j) 1`` orthogonal to ``d_k``,
  ``|z - (z . d_k / |d_k|^2) d_k|^2 / |z|^2``, is the part of the class's final logit
  pattern that a model moving each class along its own ``d_k`` cannot reach (0: the class
  lies along ``d_k``, 1: entirely across it).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array
from ..errors import InvalidArgument

__all__ = ["nrmse", "same_order", "orthogonal_share"]


def nrmse(sim: ArrayLike, genuine: ArrayLike) -> tuple[float, np.ndarray]:
    """Normalised RMSE over (t, j), overall and per class.

    Parameters
    ----------
    sim : array_like of shape (T, K, p)
    genuine : array_like of shape (T, K, p)
        Non-finite entries are left out (with the matching ``sim`` entries).

    Returns
    -------
    overall : float
        NaN when no genuine entry is finite and non-zero.
    per_class : ndarray of shape (K,)

    Examples
    --------
    One record, two classes: class 0 exact, class 1 off by its own size:

    >>> overall, per_class = nrmse([[[1.0], [2.0]]], [[[1.0], [1.0]]])
    >>> round(overall, 4), per_class
    (0.7071, array([0., 1.]))
    """
    s = np.asarray(sim, dtype=np.float64)
    g = np.asarray(genuine, dtype=np.float64)
    ok = np.isfinite(g)
    err = np.where(ok, s - np.where(ok, g, 0.0), 0.0) ** 2
    energy = np.where(ok, g, 0.0) ** 2

    def ratio(e: np.ndarray, n: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n > 0, np.sqrt(e / np.where(n > 0, n, 1.0)), np.nan)

    overall = float(ratio(np.asarray(err.sum()), np.asarray(energy.sum())))
    return overall, ratio(err.sum(axis=(0, 2)), energy.sum(axis=(0, 2)))


def same_order(sim: ArrayLike, genuine: ArrayLike, *, tolerance: float = 1e-3) -> bool:
    """Whether the order of the logits of one class agrees, genuine ties excepted.

    Parameters
    ----------
    sim, genuine : array_like of shape (p,)
    tolerance : float
        Relative tie tolerance (of ``max_j |genuine_j|``).

    Returns
    -------
    bool

    Examples
    --------
    >>> same_order([3.0, 1.0, 2.0], [30.0, 10.0, 20.0])
    True
    >>> same_order([1.0, 3.0, 2.0], [30.0, 10.0, 20.0])
    False
    >>> same_order([3.0, 1.0, 1.5], [30.0, 10.0, 10.0])  # the genuine tie is not compared
    True
    """
    s = np.asarray(sim, dtype=np.float64)
    g = np.asarray(genuine, dtype=np.float64)
    dg = g[:, None] - g[None, :]
    ds = s[:, None] - s[None, :]
    strict = np.abs(dg) > tolerance * np.max(np.abs(g))
    return bool(np.all(np.sign(ds[strict]) == np.sign(dg[strict])))


def orthogonal_share(logits: ArrayLike) -> np.ndarray:
    """Per class, the share of the centred logit energy orthogonal to ``d_k``.

    Parameters
    ----------
    logits : array_like of shape (K, K)
        ``logits[k]``: the (end) logit vector of class ``k``.

    Returns
    -------
    share : ndarray of shape (K,)
        In [0, 1]; NaN for a class whose centred logits are all zero.

    Examples
    --------
    Class 1 ends with its largest logit on class 2: three quarters of its centred energy
    lies across ``d_1``:

    >>> np.round(orthogonal_share([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), 4)
    array([0.  , 0.75, 0.  ])
    """
    x = as_float_array(logits, "logits", ndim=2)
    K = x.shape[0]
    if K < 2 or x.shape[1] != K:
        raise InvalidArgument("logits", f"must have shape (K, K) with K >= 2; got {x.shape}")
    return _orthogonal_share(x)


def _orthogonal_share(x: np.ndarray) -> np.ndarray:
    K = x.shape[0]
    d = np.eye(K) - 1.0 / K
    z = x - x.mean(axis=1, keepdims=True)
    along = np.einsum("kj,kj->k", z, d) / ((K - 1) / K)
    rest = z - along[:, None] * d
    total = np.einsum("kj,kj->k", z, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, np.einsum("kj,kj->k", rest, rest) / np.where(total > 0, total, 1.0), np.nan)

"""Neural-collapse metrics (Papyan, Han & Donoho 2020), batched over leading axes.

Notation: features ``h`` of shape (..., K, n, p); class means ``mu_k``; global mean
``mu_G = mean_k mu_k`` (the mean of all features for balanced classes); centred means
``Mtil = [mu_k - mu_G]``.

* ``NC1 = tr(Sigma_W Sigma_B^+) / K`` with ``Sigma_W = (1/(K n)) sum_{k,i} (h - mu_k)(h - mu_k)^T``
  and ``Sigma_B = (1/K) sum_k (mu_k - mu_G)(mu_k - mu_G)^T`` (population normalisation,
  ``^+`` the Moore-Penrose pseudo-inverse).
* ``equinorm = std_k |mu_k - mu_G| / mean_k |mu_k - mu_G|`` (population std, ddof 0).
* ``equiangularity = mean_{k != l} |cos(mu_k - mu_G, mu_l - mu_G) + 1/(K-1)|``.
* ``ETF distance = | G / |G|_F - (I_K - 1 1^T / K) / sqrt(K-1) |_F`` with the Gram matrix
  ``G = Mtil^T Mtil``; both matrices have unit Frobenius norm, so the distance is in
  ``[0, 2]`` and is 0 exactly for a simplex ETF of any scale.

All are 0 at neural collapse; degenerate inputs (all means equal) give NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array
from ..errors import InvalidArgument

__all__ = ["NCMetrics", "nc_metrics", "nc1", "equinorm", "equiangularity", "etf_distance"]


def _means(means: ArrayLike, name: str = "means") -> np.ndarray:
    m = as_float_array(means, name, min_ndim=2)
    if m.shape[-2] < 2:
        raise InvalidArgument(name, f"needs K >= 2 classes on axis -2; got shape {m.shape}")
    return m


def _centred(m: np.ndarray) -> np.ndarray:
    return m - m.mean(axis=-2, keepdims=True)


def equinorm(means: ArrayLike) -> np.ndarray:
    """Coefficient of variation of the centred class-mean norms.

    Parameters
    ----------
    means : array_like of shape (..., K, p)

    Returns
    -------
    ndarray of shape (...)

    Examples
    --------
    Centred norms 1, 1 and 3 about their mean: ``std / mean = 0.9428 / 1.6667``:

    >>> round(float(equinorm([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0]])), 4)
    0.1716
    """
    norms = np.linalg.norm(_centred(_means(means)), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return norms.std(axis=-1) / norms.mean(axis=-1)


def equiangularity(means: ArrayLike) -> np.ndarray:
    """Mean over ``k != l`` of ``|cos + 1/(K-1)|`` of the centred class means.

    ``means`` of shape (..., K, p) in, an ndarray of shape (...) out, as for :func:`equinorm`.

    Examples
    --------
    Three means at 120 degrees have every cosine at ``-1/(K-1)``; two distinct means
    always do. Means (already centred) at 90, 135 and 135 degrees miss ``-1/2`` by ``1/2``,
    ``0.2071`` and ``0.2071``:

    >>> from lesde_analyzer.dynamics import simplex_directions
    >>> round(float(equiangularity(simplex_directions(3))), 6)
    0.0
    >>> round(float(equiangularity([[1.0, 0.0], [0.0, 1.0]])), 6)
    0.0
    >>> round(float(equiangularity([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])), 4)
    0.3047
    """
    c = _centred(_means(means))
    K = c.shape[-2]
    with np.errstate(invalid="ignore", divide="ignore"):
        u = c / np.linalg.norm(c, axis=-1, keepdims=True)
        cos = np.einsum("...ki,...li->...kl", u, u)
    off = ~np.eye(K, dtype=bool)
    return np.abs(cos[..., off] + 1.0 / (K - 1)).mean(axis=-1)


def etf_distance(means: ArrayLike, *, normalize: bool = False) -> np.ndarray:
    """Frobenius distance of the normalised Gram matrix to the simplex ETF's.

    Parameters
    ----------
    means : array_like of shape (..., K, p)
    normalize : bool
        Divide each class mean by its norm first (Proposition 3.4 speaks of
        ``Xbar^k / |Xbar^k|``); the centring by the global mean follows.

    Returns
    -------
    ndarray of shape (...)

    Examples
    --------
    The simplex directions are a simplex ETF, at any scale:

    >>> from lesde_analyzer.dynamics import simplex_directions
    >>> round(float(etf_distance(5 * simplex_directions(3))), 6)
    0.0
    >>> round(float(etf_distance([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])), 4)
    0.4595
    """
    m = _means(means)
    K = m.shape[-2]
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize:
            m = m / np.linalg.norm(m, axis=-1, keepdims=True)
        c = _centred(m)
        G = np.einsum("...ki,...li->...kl", c, c)
        G = G / np.linalg.norm(G, axis=(-2, -1), keepdims=True)
    target = (np.eye(K) - 1.0 / K) / np.sqrt(K - 1)
    return np.linalg.norm(G - target, axis=(-2, -1))


def nc1(features: ArrayLike) -> np.ndarray:
    """Within-class variability relative to between-class: ``tr(Sigma_W Sigma_B^+) / K``.

    Parameters
    ----------
    features : array_like of shape (..., K, n, p)

    Returns
    -------
    ndarray of shape (...)

    Examples
    --------
    Features at their class means have no within-class variability:

    >>> means = np.array([[1.0, 0.0], [-1.0, 0.0]])
    >>> features = np.repeat(means[:, None, :], 3, axis=1)  # (K, n, p) = (2, 3, 2)
    >>> float(nc1(features))
    0.0
    >>> noisy = features + 0.1 * np.random.default_rng(0).standard_normal(features.shape)
    >>> 0 < float(nc1(noisy)) < 1
    True
    """
    h = as_float_array(features, "features", min_ndim=3)
    K, n = h.shape[-3], h.shape[-2]
    if K < 2:
        raise InvalidArgument("features", f"needs K >= 2 classes on axis -3; got shape {h.shape}")
    mu = h.mean(axis=-2)
    w = h - mu[..., None, :]
    sw = np.einsum("...kni,...knj->...ij", w, w) / (K * n)
    c = _centred(mu)
    sb = np.einsum("...ki,...kj->...ij", c, c) / K
    return np.trace(sw @ np.linalg.pinv(sb, hermitian=True), axis1=-2, axis2=-1) / K


@dataclass(frozen=True)
class NCMetrics:
    """Neural-collapse metrics, each of shape (...) (the leading axes of the input).

    Attributes
    ----------
    nc1, equinorm, equiangularity, etf_distance : ndarray
    """

    nc1: np.ndarray
    equinorm: np.ndarray
    equiangularity: np.ndarray
    etf_distance: np.ndarray


def nc_metrics(features: ArrayLike) -> NCMetrics:
    """All four metrics from features.

    Parameters
    ----------
    features : array_like of shape (..., K, n, p)

    Returns
    -------
    NCMetrics

    Examples
    --------
    At neural collapse (features at the vertices of a simplex ETF) all four are 0:

    >>> from lesde_analyzer.dynamics import simplex_directions
    >>> features = np.repeat(simplex_directions(3)[:, None, :], 4, axis=1)
    >>> m = nc_metrics(features)
    >>> [round(float(v), 6) for v in (m.nc1, m.equinorm, m.equiangularity, m.etf_distance)]
    [0.0, 0.0, 0.0, 0.0]
    """
    h = as_float_array(features, "features", min_ndim=3)
    mu = h.mean(axis=-2)
    return NCMetrics(nc1=nc1(h), equinorm=equinorm(mu), equiangularity=equiangularity(mu), etf_distance=etf_distance(mu))

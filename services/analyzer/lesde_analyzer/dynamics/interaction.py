"""The interaction structure of the LE-SDE: effect matrix E, transforms H and drift M.

Block ``(k, l)`` of the drift matrix is ``M_kl = pi_l E_kl H_kl`` with ``E_kk = alpha``,
``E_kl = beta`` (``k != l``) and class sampling weights ``pi`` (balanced: ``pi_l = 1/K``).

* I-model: ``H_kl = I_p``.
* L-model (``p = K``): ``H_kl = d_l d_l^T / |d_l|^2`` with ``d_l = e_l - 1_K / K``.

In both models ``H_kl`` depends on ``l`` only, so the drift of class ``k`` is
``sum_l pi_l E_kl (H_l Xbar^l)``: transform each class mean once, then mix with a
``K x K`` matrix. That is what :func:`drift` does, for any leading batch axes.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InvalidArgument

__all__ = [
    "Model",
    "simplex_directions",
    "class_transforms",
    "effect_matrix",
    "normalise_weights",
    "mixing_matrix",
    "drift",
    "drift_matrix",
]

Model = Literal["I", "L"]


def simplex_directions(K: int) -> np.ndarray:
    """Rows ``d_l = e_l - 1_K / K``.

    Returns
    -------
    d : ndarray of shape (K, K)
        ``d[l]`` is ``d_l``; ``d_k . d_l = -1/K`` for ``k != l`` and ``|d_k|^2 = (K-1)/K``.

    Examples
    --------
    >>> simplex_directions(2)
    array([[ 0.5, -0.5],
           [-0.5,  0.5]])
    """
    return np.eye(K) - 1.0 / K


def class_transforms(model: Model, K: int, p: int) -> np.ndarray:
    """The per-source-class transforms ``H_l``.

    Returns
    -------
    H : ndarray of shape (K, p, p)
        ``H[l]`` is the block applied to the mean of class ``l``.

    Examples
    --------
    The L-model's ``H_l`` projects onto ``d_l``; for ``K = 2`` both directions span the same line:

    >>> class_transforms("L", 2, 2)
    array([[[ 0.5, -0.5],
            [-0.5,  0.5]],
    <BLANKLINE>
           [[ 0.5, -0.5],
            [-0.5,  0.5]]])
    >>> class_transforms("I", 2, 1)[:, 0, 0]
    array([1., 1.])
    """
    if model == "I":
        return np.broadcast_to(np.eye(p), (K, p, p)).copy()
    if model == "L":
        if p != K:
            raise InvalidArgument("dim", f"the L-model needs dim == classes (p = K = {K}); got p = {p}")
        d = simplex_directions(K)
        return np.einsum("li,lj->lij", d, d) / ((K - 1) / K)
    raise InvalidArgument("model", f"must be 'I' or 'L'; got {model!r}")


def normalise_weights(weights: ArrayLike | None, K: int) -> np.ndarray:
    """Class sampling probabilities ``pi`` of shape (K,), summing to one (``None``: ``1/K``).

    Examples
    --------
    >>> normalise_weights([1, 3], 2)
    array([0.25, 0.75])
    >>> normalise_weights(None, 4)
    array([0.25, 0.25, 0.25, 0.25])
    """
    if weights is None:
        return np.full(K, 1.0 / K)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (K,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise InvalidArgument("weights", f"must be {K} positive finite numbers; got {weights!r}")
    return w / w.sum()


def effect_matrix(alpha: ArrayLike, beta: ArrayLike, K: int) -> np.ndarray:
    """``E`` with ``alpha`` on the diagonal and ``beta`` off it.

    Parameters
    ----------
    alpha, beta : float or ndarray of shape (T,)

    Returns
    -------
    E : ndarray of shape (K, K) or (T, K, K)

    Examples
    --------
    >>> effect_matrix(1.0, 0.5, 2)
    array([[1. , 0.5],
           [0.5, 1. ]])
    >>> effect_matrix([1.0, 2.0], [0.0, 0.5], 3).shape
    (2, 3, 3)
    """
    a = np.asarray(alpha, dtype=np.float64)[..., None, None]
    b = np.asarray(beta, dtype=np.float64)[..., None, None]
    eye = np.eye(K)
    return a * eye + b * (1.0 - eye)


def mixing_matrix(alpha: ArrayLike, beta: ArrayLike, weights: np.ndarray) -> np.ndarray:
    """``W_kl = pi_l E_kl``, of shape (K, K) or (T, K, K) for ``alpha`` of shape (T,).

    Examples
    --------
    >>> mixing_matrix(1.0, 0.5, np.array([0.25, 0.75]))
    array([[0.25 , 0.375],
           [0.125, 0.75 ]])
    """
    return effect_matrix(alpha, beta, weights.size) * weights


def drift(xbar: np.ndarray, W: np.ndarray, H: np.ndarray, *, identity_h: bool = False) -> np.ndarray:
    """The LE-ODE right-hand side ``M Xbar``.

    Parameters
    ----------
    xbar : ndarray of shape (..., K, p)
        Class means (any leading batch axes, e.g. runs).
    W : ndarray of shape (K, K)
        Mixing matrix ``pi_l E_kl`` from :func:`mixing_matrix`.
    H : ndarray of shape (K, p, p)
        Transforms from :func:`class_transforms`.
    identity_h : bool
        Skip the transform (the I-model), a shortcut.

    Returns
    -------
    ndarray of shape (..., K, p)

    Examples
    --------
    Balanced I-model, ``alpha = 1``, ``beta = 0.5``: means at ``+-1`` move at ``+-(alpha - beta)/2``.

    >>> W = mixing_matrix(1.0, 0.5, normalise_weights(None, 2))
    >>> drift(np.array([[1.0], [-1.0]]), W, class_transforms("I", 2, 1))
    array([[ 0.25],
           [-0.25]])
    """
    z = xbar if identity_h else np.einsum("lpq,...lq->...lp", H, xbar)
    return np.einsum("kl,...lp->...kp", W, z)


def drift_matrix(alpha: float, beta: float, *, model: Model, K: int, p: int, weights: ArrayLike | None = None) -> np.ndarray:
    """The full ``(K p) x (K p)`` drift matrix ``M`` (class-major: index ``k * p + i``).

    Returns
    -------
    M : ndarray of shape (K*p, K*p)

    Examples
    --------
    Its eigenvalues are the rates of the closed forms, ``(alpha - beta)/K`` and ``(alpha + (K-1) beta)/K``:

    >>> M = drift_matrix(1.0, 0.5, model="I", K=2, p=1)
    >>> M
    array([[0.5 , 0.25],
           [0.25, 0.5 ]])
    >>> np.linalg.eigvalsh(M)
    array([0.25, 0.75])
    """
    H = class_transforms(model, K, p)
    W = mixing_matrix(alpha, beta, normalise_weights(weights, K))
    blocks = W[:, :, None, None] * H[None, :, :, :]  # (K, K, p, p)
    return blocks.transpose(0, 2, 1, 3).reshape(K * p, K * p)

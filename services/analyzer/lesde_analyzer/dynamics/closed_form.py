"""Closed-form solutions of the (balanced) LE-ODE in terms of A(t) and B(t).

``A(t) = int alpha``, ``B(t) = int beta``; the initial class means are the state at the
first grid point (``A`` and ``B`` are taken relative to their first entry).

* I-model (eq. 7; exact for any alpha(t), beta(t)): with ``c_0 = mean_k Xbar^k(0)`` and
  ``c_k = Xbar^k(0) - c_0``, ``Xbar^k = c_k e^{(A-B)/K} + c_0 e^{(A+(K-1)B)/K}``.
* Binary solution of section 2.2 (``K = 2, p = 1``), the special case of the above.
* L-model (``p = K``): ``y_k = d_k . Xbar^k / |d_k|^2`` obeys a closed K-dim ODE;
  ``S = sum_k y_k`` grows as ``e^{(A-B)/K}`` and ``q_k = y_k - S/K`` as
  ``e^{u}``, ``u = (A + B/(K-1))/K`` (exact for any alpha(t), beta(t)). The full means are
  rebuilt from y:

  ``Xbar^k(t) = Xbar^k(0) + d_k (S - S_0)/K + d_k (q_k - q_k0)
  + (w_0 - K/(K-1) d_k q_k0) J(t)``,  ``w_0 = sum_l d_l q_l0``,
  ``J(t) = (1/K) int_0^t e^{u} dB``.

  ``J`` is the one quadrature left. It is computed on the given grid with the rule
  ``int e^u dB ~ dB (e^{u_1} - e^{u_0}) / (u_1 - u_0)`` per interval, which is exact when
  ``u`` is affine in ``B`` on each interval (constant alpha, beta, or beta proportional to
  alpha) and second order otherwise. The component of each ``Xbar^k`` along ``1_K`` never
  moves.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array
from ..errors import InvalidArgument
from .interaction import simplex_directions

__all__ = [
    "i_model_solution",
    "binary_solution",
    "l_model_coordinates",
    "l_model_y_solution",
    "l_model_solution",
]


def _inputs(A: ArrayLike, B: ArrayLike, start: ArrayLike, name: str, *, min_ndim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What every solution takes: ``A``, ``B`` (T,) made relative to their first entry, and the
    initial state ``start`` (at least ``min_ndim`` axes), validated in that order."""
    A = as_float_array(A, "A", ndim=1)
    B = as_float_array(B, "B", ndim=1)
    if A.shape != B.shape or A.size == 0:
        raise InvalidArgument("B", f"must have the shape of A (T,) with T >= 1; got {A.shape} and {B.shape}")
    return A - A[0], B - B[0], as_float_array(start, name, min_ndim=min_ndim)


def _batch(T_axes: int) -> tuple[slice | None, ...]:
    """Index that puts a (T,) array in front of ``T_axes`` broadcast axes."""
    return (slice(None),) + (None,) * T_axes


def i_model_solution(A: ArrayLike, B: ArrayLike, xbar0: ArrayLike) -> np.ndarray:
    """Eq. (7): the I-model class means for any K and p.

    Parameters
    ----------
    A, B : array_like of shape (T,)
        Integrals of alpha and beta on a time grid (relative to the first entry).
    xbar0 : array_like of shape (..., K, p)
        Initial class means (any leading batch axes).

    Returns
    -------
    xbar : ndarray of shape (T, ..., K, p)

    Examples
    --------
    Two classes at ``+-1`` (``c_0 = 0``) separate as ``e^{(A-B)/K}``; with ``A(1) = 1`` and
    ``B(1) = 0.5`` that is ``e^{0.25}``:

    >>> xbar = i_model_solution([0.0, 1.0], [0.0, 0.5], [[1.0], [-1.0]])
    >>> xbar.shape
    (2, 2, 1)
    >>> np.round(xbar[-1, :, 0], 4)
    array([ 1.284, -1.284])
    >>> round(float(np.exp(0.25)), 4)
    1.284
    """
    A, B, x0 = _inputs(A, B, xbar0, "xbar0", min_ndim=2)
    K = x0.shape[-2]
    if K < 2:
        raise InvalidArgument("xbar0", f"needs K >= 2 classes on axis -2; got shape {x0.shape}")
    c0 = x0.mean(axis=-2, keepdims=True)
    c = x0 - c0
    idx = _batch(x0.ndim)
    g_diff = np.exp((A - B) / K)[idx]
    g_mean = np.exp((A + (K - 1) * B) / K)[idx]
    return c[None] * g_diff + c0[None] * g_mean


def binary_solution(A: ArrayLike, B: ArrayLike, c1: ArrayLike, c2: ArrayLike) -> np.ndarray:
    """Section 2.2 (``K = 2, p = 1``): ``Xbar^{1,2} = +-(c1-c2)/2 e^{(A-B)/2} + (c1+c2)/2 e^{(A+B)/2}``.

    Parameters
    ----------
    A, B : array_like of shape (T,)
    c1, c2 : float or array_like of shape (...)
        Initial means of class 1 and 2.

    Returns
    -------
    xbar : ndarray of shape (T, ..., 2)
        ``[..., 0]`` is class 1, ``[..., 1]`` class 2.

    Examples
    --------
    ``c1 = 2, c2 = 0`` at ``A = 1, B = 0.5``: ``e^{0.25} + e^{0.75}`` and ``-e^{0.25} + e^{0.75}``.

    >>> xbar = binary_solution([0.0, 1.0], [0.0, 0.5], 2.0, 0.0)
    >>> np.round(xbar[-1], 4)
    array([3.401, 0.833])
    >>> round(float(np.exp(0.25) + np.exp(0.75)), 4), round(float(np.exp(0.75) - np.exp(0.25)), 4)
    (3.401, 0.833)
    """
    c1 = as_float_array(c1, "c1")
    c2 = as_float_array(c2, "c2")
    x0 = np.stack(np.broadcast_arrays(c1, c2), axis=-1)[..., None]
    return i_model_solution(A, B, x0)[..., 0]


def l_model_coordinates(xbar: ArrayLike) -> np.ndarray:
    """The L-model coordinates ``y_k = d_k . Xbar^k / |d_k|^2`` of class means ``xbar`` (..., K, K): shape (..., K).

    Examples
    --------
    Means at the simplex directions themselves (``Xbar^k = d_k``) have ``y_k = 1``:

    >>> from lesde_analyzer.dynamics import simplex_directions
    >>> l_model_coordinates(simplex_directions(3))
    array([1., 1., 1.])
    """
    x = as_float_array(xbar, "xbar", min_ndim=2, finite=False)
    K = x.shape[-1]
    if x.shape[-2] != K:
        raise InvalidArgument("xbar", f"the L-model needs shape (..., K, K); got {x.shape}")
    d = simplex_directions(K)
    return np.einsum("kj,...kj->...k", d, x) / ((K - 1) / K)


def l_model_y_solution(A: ArrayLike, B: ArrayLike, y0: ArrayLike) -> np.ndarray:
    """The closed y system: ``S ~ e^{(A-B)/K}``, ``q_k ~ e^{(A + B/(K-1))/K}``.

    Parameters
    ----------
    A, B : array_like of shape (T,)
    y0 : array_like of shape (..., K)

    Returns
    -------
    y : ndarray of shape (T, ..., K)

    Examples
    --------
    With ``B = 0`` both rates are ``A/K``, so every ``y_k`` grows as ``e^{A/K}``:

    >>> y = l_model_y_solution([0.0, 1.0], [0.0, 0.0], [1.0, 0.0, 0.0])
    >>> np.round(y[-1], 4)
    array([1.3956, 0.    , 0.    ])
    >>> round(float(np.exp(1 / 3)), 4)
    1.3956
    """
    A, B, y0 = _inputs(A, B, y0, "y0", min_ndim=1)
    K = y0.shape[-1]
    if K < 2:
        raise InvalidArgument("y0", f"needs K >= 2 on its last axis; got shape {y0.shape}")
    S0 = y0.sum(axis=-1, keepdims=True)
    q0 = y0 - S0 / K
    idx = _batch(y0.ndim)
    return (S0 / K)[None] * np.exp((A - B) / K)[idx] + q0[None] * np.exp((A + B / (K - 1)) / K)[idx]


def _j_integral(B: np.ndarray, u: np.ndarray, K: int) -> np.ndarray:
    dB, du = np.diff(B), np.diff(u)
    small = np.abs(du) < 1e-12
    phi = np.where(small, 1.0 + du / 2, np.expm1(du) / np.where(small, 1.0, du))
    return np.concatenate(([0.0], np.cumsum(dB * np.exp(u[:-1]) * phi))) / K


def l_model_solution(A: ArrayLike, B: ArrayLike, xbar0: ArrayLike) -> np.ndarray:
    """The L-model class means rebuilt from the y system (see module docstring).

    Parameters
    ----------
    A, B : array_like of shape (T,)
        Integrals of alpha and beta on a grid; the quadrature ``J`` uses this grid, so a
        time-varying ratio beta/alpha needs a fine grid (second order).
    xbar0 : array_like of shape (..., K, K)
        Initial class means (logits, ``p = K``).

    Returns
    -------
    xbar : ndarray of shape (T, ..., K, K)

    Examples
    --------
    Starting at the simplex directions with ``B = 0``, the coordinates grow as ``e^{A/K}``
    (compare :func:`l_model_y_solution`):

    >>> from lesde_analyzer.dynamics import simplex_directions
    >>> xbar = l_model_solution([0.0, 1.0], [0.0, 0.0], simplex_directions(3))
    >>> xbar.shape
    (2, 3, 3)
    >>> np.round(l_model_coordinates(xbar[-1]), 4)
    array([1.3956, 1.3956, 1.3956])
    """
    A, B, x0 = _inputs(A, B, xbar0, "xbar0", min_ndim=2)
    K = x0.shape[-1]
    if K < 2 or x0.shape[-2] != K:
        raise InvalidArgument("xbar0", f"the L-model needs shape (..., K, K) with K >= 2; got {x0.shape}")
    d = simplex_directions(K)
    y0 = l_model_coordinates(x0)
    S0 = y0.sum(axis=-1, keepdims=True)
    q0 = y0 - S0 / K
    u = (A + B / (K - 1)) / K
    idx = _batch(y0.ndim)
    gS = np.expm1((A - B) / K)[idx]  # (T, 1...)
    gq = np.expm1(u)[idx]
    J = _j_integral(B, u, K)[idx]
    w0 = np.einsum("...l,lj->...j", q0, d)  # (..., K): sum_l q_l0 d_l
    # per class k: coefficient of d_k and a shared vector w0
    dS = (S0 / K)[None] * gS  # (T, ..., 1)
    coef_dk = dS + q0[None] * gq - (K / (K - 1)) * q0[None] * J  # (T, ..., K)
    out = x0[None] + coef_dk[..., None] * d + (J * w0[None])[..., None, :]
    return out

"""Fast, exact LE-ODE ensembles for the imitation (Figure 5).

The forward-Euler step of the (balanced) L-model is ``x_{t+1} = x_t + h M_t x_t`` with
``M_t x = (alpha_t N_a + beta_t N_b) y``, where ``y = Y x`` are the K coordinates
``y_k = d_k . x^k / |d_k|^2``, ``(N_a y)^k = d_k y_k / K`` and
``(N_b y)^k = sum_{l != k} d_l y_l / K``. The y part obeys ``y_{t+1} = (I + h G_t) y_t`` with
``G_t = alpha_t I / K - beta_t (1 1^T - I) / (K (K-1))``; every ``G_t`` has the eigenvector
``1_K`` (eigenvalue ``a_t = (alpha_t - beta_t)/K``) and its complement (``b_t = (alpha_t +
beta_t/(K-1))/K``), so the Euler product is exactly

    y_t = (g_t Pi_1 + f_t Pi_2) y_0,  g_t = prod_{s<t} (1 + h a_s),  f_t = prod_{s<t} (1 + h b_s),

with ``Pi_1 = 1 1^T / K``, ``Pi_2 = I - Pi_1``. Summing the increments,

    x_t = F_t x_0,  F_t = I + c1_t N_a Pi_1 Y + c2_t N_a Pi_2 Y + c3_t N_b Pi_1 Y + c4_t N_b Pi_2 Y

with the scalar cumulative sums ``c1 = sum_{s<t} h alpha_s g_s``, ``c2 = sum h alpha_s f_s``,
``c3 = sum h beta_s g_s``, ``c4 = sum h beta_s f_s``. Every run is a linear image of its
initial state, so the sample mean and the (population, ddof 0) sample covariance over runs
are ``F_t m_0`` and ``F_t C_0 F_t^T``, with ``m_0``, ``C_0`` those of the drawn initial states:
a handful of length-T cumulative sums and a (T, 5, 5) quadratic form, whatever the number of
runs. This is forward Euler exactly (no other approximation); it equals a per-run, per-step
loop on the same draws up to floating-point rounding (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_int, check_real
from ..errors import InvalidArgument

__all__ = ["EnsembleStats", "initial_states", "le_ode_ensemble"]


@dataclass(frozen=True)
class EnsembleStats:
    """Mean and standard deviation over runs.

    Attributes
    ----------
    mean, std : ndarray of shape (T, K, K)
        Per (time, class, logit); ``std`` is the population std over runs (ddof 0).
    runs : int or None
        Runs sampled; None for the exact distribution (:func:`.exact.exact_moments`).
    """

    mean: np.ndarray
    std: np.ndarray
    runs: int | None


def initial_states(scales: ArrayLike, *, runs: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Draw ``x0[r, k] ~ N(0, scales[k]^2 I_K)``.

    Parameters
    ----------
    scales : array_like of shape (K,)
        Per-class standard deviations (the imitation uses ``|Xbar^k(0)| / sqrt(K)``).
    runs : int
    seed : int, numpy Generator or None

    Returns
    -------
    x0 : ndarray of shape (runs, K, K)

    Examples
    --------
    >>> x0 = initial_states([1.0, 2.0, 0.5], runs=1000, seed=0)
    >>> x0.shape
    (1000, 3, 3)
    >>> np.round(x0.std(axis=(0, 2)), 1)
    array([1. , 2. , 0.5])
    """
    s = as_float_array(scales, "scales", ndim=1)
    if s.size < 2 or np.any(s < 0):
        raise InvalidArgument("scales", f"must be K >= 2 non-negative numbers; got {s}")
    runs = check_int(runs, "runs", low=1)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    K = s.size
    return rng.standard_normal((runs, K, K)) * s[None, :, None]


def _rates(alpha: ArrayLike, beta: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = as_float_array(alpha, "alpha", ndim=1)
    b = as_float_array(beta, "beta", ndim=1)
    if a.size < 1 or b.shape != a.shape:
        raise InvalidArgument("beta", f"must have the shape of alpha (T,) with T >= 1; got {a.shape} and {b.shape}")
    return a, b


def _basis(K: int) -> np.ndarray:
    """The fixed matrices ``E_0 = I`` and ``E_1..E_4`` of the module docstring, shape (5, K^2, K^2)."""
    d = np.eye(K) - 1.0 / K
    Y = np.zeros((K, K * K))
    Na = np.zeros((K * K, K))
    Nb = np.zeros((K * K, K))
    for k in range(K):
        Y[k, k * K : (k + 1) * K] = d[k] / ((K - 1) / K)
        Na[k * K : (k + 1) * K, k] = d[k] / K
        for j in range(K):
            if j != k:
                Nb[k * K : (k + 1) * K, j] = d[j] / K
    P1 = np.full((K, K), 1.0 / K)
    P2 = np.eye(K) - P1
    return np.stack([np.eye(K * K), Na @ P1 @ Y, Na @ P2 @ Y, Nb @ P1 @ Y, Nb @ P2 @ Y])


def _coefficients(a: np.ndarray, b: np.ndarray, K: int, h: float) -> np.ndarray:
    """``(1, c1, c2, c3, c4)`` per record, shape (T, 5)."""
    T = a.size
    lam1 = (a[:-1] - b[:-1]) / K
    lam2 = (a[:-1] + b[:-1] / (K - 1)) / K
    g = np.concatenate(([1.0], np.cumprod(1.0 + h * lam1)))[:-1]  # g_s, s = 0..T-2
    f = np.concatenate(([1.0], np.cumprod(1.0 + h * lam2)))[:-1]
    terms = h * np.stack([a[:-1] * g, a[:-1] * f, b[:-1] * g, b[:-1] * f], axis=1)  # (T-1, 4)
    c = np.zeros((T, 5))
    c[:, 0] = 1.0
    c[1:, 1:] = np.cumsum(terms, axis=0)
    return c


def le_ode_ensemble(alpha: ArrayLike, beta: ArrayLike, x0: ArrayLike, *, step: float = 1.0) -> EnsembleStats:
    """Mean and std over runs of forward-Euler L-model trajectories (exact, see module doc).

    Parameters
    ----------
    alpha, beta : array_like of shape (T,)
        Rates per record; the step from record ``t`` to ``t+1`` uses ``alpha[t]``, ``beta[t]``
        (the last entries are not used).
    x0 : array_like of shape (runs, K, K)
        Initial logits per run.
    step : float
        Euler step ``h`` (1 per iteration in the imitation).

    Returns
    -------
    EnsembleStats
        ``mean``, ``std`` of shape (T, K, K).

    Examples
    --------
    The same numbers as stepping every run one by one (:func:`naive_le_ode_loop`):

    >>> alpha, beta = np.full(5, 0.3), np.full(5, 0.1)
    >>> x0 = initial_states([1.0, 1.0, 1.0], runs=4, seed=0)
    >>> stats = le_ode_ensemble(alpha, beta, x0)
    >>> stats.mean.shape, stats.runs
    ((5, 3, 3), 4)
    >>> loop = naive_le_ode_loop(alpha, beta, x0)  # (T, runs, K, K)
    >>> bool(np.allclose(stats.mean, loop.mean(axis=1))), bool(np.allclose(stats.std, loop.std(axis=1)))
    (True, True)
    """
    a, b = _rates(alpha, beta)
    x0 = as_float_array(x0, "x0", ndim=3)
    runs, K, p = x0.shape
    if K < 2 or p != K:
        raise InvalidArgument("x0", f"must have shape (runs, K, K) with K >= 2; got {x0.shape}")
    h = check_real(step, "step", low=0.0, low_open=True)
    T = a.size
    E = _basis(K)  # (5, d, d)
    c = _coefficients(a, b, K, h)  # (T, 5)
    flat = x0.reshape(runs, K * K)
    m0 = flat.mean(axis=0)
    dev = flat - m0
    C0 = dev.T @ dev / runs
    mean = c @ (E @ m0)  # (T, d)
    # diag(F C0 F^T) = sum_ij c_i c_j diag(E_i C0 E_j^T)
    Q = np.einsum("iab,bc,jac->ija", E, C0, E).reshape(25, K * K)
    var = (c[:, :, None] * c[:, None, :]).reshape(T, 25) @ Q
    std = np.sqrt(np.maximum(var, 0.0))
    return EnsembleStats(mean=mean.reshape(T, K, K), std=std.reshape(T, K, K), runs=runs)


def naive_le_ode_loop(alpha: ArrayLike, beta: ArrayLike, x0: ArrayLike, *, step: float = 1.0) -> np.ndarray:
    """Reference: a Python loop over runs and steps, numpy per step (the authors' way).

    Not part of the API: the tests and ``bench/leode.py`` check :func:`le_ode_ensemble` against it.

    Parameters
    ----------
    alpha, beta : array_like of shape (T,)
    x0 : array_like of shape (runs, K, K)
    step : float

    Returns
    -------
    traj : ndarray of shape (T, runs, K, K)
    """
    a, b = _rates(alpha, beta)
    x0 = np.asarray(x0, dtype=np.float64)
    runs, K, _ = x0.shape
    d = np.eye(K) - 1.0 / K
    H = [np.outer(d[j], d[j]) / (d[j] @ d[j]) for j in range(K)]
    T = a.size
    out = np.empty((T, runs, K, K))
    for r in range(runs):
        x = x0[r].copy()
        out[0, r] = x
        for t in range(T - 1):
            new = x.copy()
            for k in range(K):
                for j in range(K):
                    e = a[t] if k == j else b[t]
                    new[k] += step * (e / K) * (H[j] @ x[j])
            x = new
            out[t + 1, r] = x
    return out

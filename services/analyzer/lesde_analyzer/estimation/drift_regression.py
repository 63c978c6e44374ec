"""Drift-regression estimator of alpha(t), beta(t) (ours, not in the paper).

The LE-ODE increment of the class means is, to first order in the record spacing ``h``,
``(Xbar(t+h) - Xbar(t)) / h = alpha(t) X1(t) + beta(t) X2(t)`` with the regressors

* ``X1^k = pi_k H_k Xbar^k`` (the diagonal blocks),
* ``X2^k = sum_{l != k} pi_l H_l Xbar^l`` (the off-diagonal blocks),

(``pi = 1/K`` balanced; ``H`` of the I- or L-model). Stacking the ``K p`` entries of every
increment in a centred window of ``window`` increments gives an ordinary least-squares
problem with two coefficients, solved in closed form for every window at once from
windowed sums (cost O(T K p), independent of the window). For data made by forward Euler
with step ``h`` the fit is exact.

Each record's equations are divided by the RMS of ``Xbar(t)`` (a weighted least-squares
with weights ``1/rms(Xbar(t))^2``): exponentially growing or decaying means then give
windowed sums of order one, which keeps them accurate. Within a short window the weights
are nearly equal. Standard errors are the usual OLS ones of the weighted problem,
``sqrt(s^2 [(X^T X)^-1]_jj)`` with ``s^2 = RSS / (window K p - 2)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_real
from ..dynamics.interaction import class_transforms, normalise_weights
from ..errors import InvalidArgument
from ._common import check_means

__all__ = ["DriftFit", "drift_regression"]


@dataclass(frozen=True)
class DriftFit:
    """Sliding-window drift-regression estimates.

    Attributes
    ----------
    alpha, beta : ndarray of shape (T,)
        Estimates at each record (centre of its window); NaN where the window does not fit
        (the first and last ``window // 2`` records and the last record).
    alpha_se, beta_se : ndarray of shape (T,)
        Standard errors.
    window : int
        Number of increments per window.
    """

    alpha: np.ndarray
    beta: np.ndarray
    alpha_se: np.ndarray
    beta_se: np.ndarray
    window: int


def _windowed(v: np.ndarray, w: int) -> np.ndarray:
    c = np.concatenate(([0.0], np.cumsum(v)))
    return c[w:] - c[:-w]


def drift_regression(
    xbar,
    *,
    model: str = "I",
    window: int = 51,
    step: float = 1.0,
    weights=None,
) -> DriftFit:
    """Estimate alpha(t), beta(t) by regressing increments of ``Xbar`` on the drift columns.

    Parameters
    ----------
    xbar : array_like of shape (T, K, p)
        Class means at equally spaced records (finite).
    model : {'I', 'L'}
        The transform ``H`` (the L-model needs ``p == K``).
    window : int
        Odd number of increments per centred window, in ``[1, T - 1]``.
    step : float
        Time between records (1 for one record per iteration).
    weights : array_like of shape (K,), optional
        Class sampling weights ``pi`` (default balanced).

    Returns
    -------
    DriftFit
        Arrays of shape (T,).
    """
    x = check_means(xbar, model=model, finite=True)
    T, K, p = x.shape
    window = check_int(window, "window", low=1, high=T - 1)
    if window % 2 == 0:
        raise InvalidArgument("window", f"must be odd; got {window}")
    h = check_real(step, "step", low=0.0, low_open=True)
    pi = normalise_weights(weights, K)

    scale = np.sqrt(np.mean(x[:-1] ** 2, axis=(1, 2)))
    scale = np.where(scale > 0, scale, 1.0)[:, None, None]
    xs = x[:-1] / scale
    y = (x[1:] - x[:-1]) / (h * scale)
    z = xs if model == "I" else np.einsum("lpq,tlq->tlp", class_transforms(model, K, p), xs)
    x1 = pi[:, None] * z
    x2 = np.einsum("l,tlp->tp", pi, z)[:, None, :] - x1

    def s(a, b):
        return _windowed(np.einsum("tkp,tkp->t", a, b), window)

    s11, s12, s22, s1y, s2y, syy = s(x1, x1), s(x1, x2), s(x2, x2), s(x1, y), s(x2, y), s(y, y)
    det = s11 * s22 - s12**2
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (s22 * s1y - s12 * s2y) / det
        b = (s11 * s2y - s12 * s1y) / det
        rss = np.maximum(syy - a * s1y - b * s2y, 0.0)
        dof = window * K * p - 2
        s2 = rss / dof if dof > 0 else np.full_like(rss, np.nan)
        se_a = np.sqrt(s2 * s22 / det)
        se_b = np.sqrt(s2 * s11 / det)
    out = [np.full(T, np.nan) for _ in range(4)]
    half = window // 2
    for o, v in zip(out, (a, b, se_a, se_b)):
        o[half : half + v.size] = v
    return DriftFit(alpha=out[0], beta=out[1], alpha_se=out[2], beta_se=out[3], window=window)

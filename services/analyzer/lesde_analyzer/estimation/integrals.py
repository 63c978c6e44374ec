"""Estimators of A(t), B(t) from the class means (DESIGN section 2), any K.

All logs are of absolute values, entrywise, averaged over classes and coordinates with
non-finite entries dropped. The reference is the first record, or with
``reference_window=w`` the mean of the first ``w`` records of the quantity (less noisy;
the estimates are then relative to that window rather than to ``t_0``).

* I-model: ``m = mean_k Xbar^k``, ``D^k = Xbar^k - m``;
  ``U = K log|m/m_0| = A + (K-1) B``, ``V = K log|D/D_0| = A - B``;
  ``B = (U - V)/K``, ``A = (U + (K-1) V)/K``.
* L-model: ``y_k = d_k . Xbar^k / |d_k|^2``, ``S = sum_k y_k``, ``q_k = y_k - S/K``;
  ``V1 = K log|S/S_0| = A - B``, ``V2 = K log|q/q_0| = A + B/(K-1)``;
  ``B = (K-1)(V2 - V1)/K``, ``A = V1 + B``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_choice, check_int
from ..dynamics.closed_form import l_model_coordinates
from ._common import check_means

__all__ = ["IntegralEstimate", "estimate_integrals", "i_model_integrals", "l_model_integrals", "log_ratio_inputs"]


@dataclass(frozen=True)
class IntegralEstimate:
    """Estimated integrals.

    Attributes
    ----------
    A, B : ndarray of shape (T,)
        ``Ahat(t)``, ``Bhat(t)`` (NaN where every log was non-finite).
    model : str
        ``'I'`` or ``'L'``.
    """

    A: np.ndarray
    B: np.ndarray
    model: str

    @property
    def Gamma(self) -> np.ndarray:  # noqa: N802 - the paper's Gamma = A - B, beside the fields A and B
        """``Ahat - Bhat``, shape (T,)."""
        return self.A - self.B


def _mean_log_ratio(z: np.ndarray, w: int) -> np.ndarray:
    """``mean over non-time axes of log|z(t) / ref|`` with non-finite entries dropped; (T,)."""
    ref = z[:w].mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(np.abs(z)) - np.log(np.abs(ref))
    r = np.where(np.isfinite(r), r, np.nan).reshape(z.shape[0], -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(r, axis=1)


def _window(reference_window: int, T: int) -> int:
    return check_int(reference_window, "reference_window", low=1, high=T)


def i_model_integrals(xbar: ArrayLike, *, reference_window: int = 1) -> IntegralEstimate:
    """I-model ``Ahat``, ``Bhat``.

    Parameters
    ----------
    xbar : array_like of shape (T, K, p)
        Class means over time.
    reference_window : int
        Number of leading records averaged into the reference (1: the first record).

    Returns
    -------
    IntegralEstimate
        ``A``, ``B`` of shape (T,).

    Examples
    --------
    Means made by the closed form (:func:`~lesde_analyzer.dynamics.i_model_solution`) give
    back its ``A`` and ``B`` exactly:

    >>> from lesde_analyzer.dynamics import i_model_solution
    >>> t = np.linspace(0.0, 1.0, 5)
    >>> xbar = i_model_solution(2 * t, 0.5 * t, [[2.0], [1.0]])
    >>> est = i_model_integrals(xbar)
    >>> np.round(est.A, 6), np.round(est.B, 6)
    (array([0. , 0.5, 1. , 1.5, 2. ]), array([0.   , 0.125, 0.25 , 0.375, 0.5  ]))
    >>> np.round(est.Gamma, 6)
    array([0.   , 0.375, 0.75 , 1.125, 1.5  ])
    """
    x = check_means(xbar)
    return _i_model(x, _window(reference_window, x.shape[0]))


def log_ratio_inputs(x: np.ndarray, model: str) -> tuple[np.ndarray, np.ndarray]:
    """The two series whose log-ratios the ``model``'s estimator averages.

    I-model: ``m = mean_k Xbar^k`` (T, p) and ``D = Xbar - m`` (T, K, p); L-model: ``S``
    (T,) and ``q`` (T, K) of the module docstring. ``x`` is (T, K, p), already checked.

    Examples
    --------
    >>> x = np.array([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]] * 2)
    >>> m, D = log_ratio_inputs(x, "I")
    >>> m.shape, D.shape
    ((2, 3), (2, 3, 3))
    >>> S, q = log_ratio_inputs(x, "L")
    >>> S, np.round(q[0], 4)
    (array([4., 4.]), array([ 0.6667, -0.3333, -0.3333]))
    """
    if model == "L":
        y = l_model_coordinates(x)
        S = y.sum(axis=1)
        return S, y - S[:, None] / x.shape[1]
    m = x.mean(axis=1)
    return m, x - m[:, None, :]


def _i_model(x: np.ndarray, w: int) -> IntegralEstimate:
    K = x.shape[1]
    m, D = log_ratio_inputs(x, "I")
    U = K * _mean_log_ratio(m, w)
    V = K * _mean_log_ratio(D, w)
    return IntegralEstimate(A=(U + (K - 1) * V) / K, B=(U - V) / K, model="I")


def l_model_integrals(xbar: ArrayLike, *, reference_window: int = 1) -> IntegralEstimate:
    """L-model ``Ahat``, ``Bhat`` for any ``K >= 2``.

    Parameters
    ----------
    xbar : array_like of shape (T, K, K)
        Class means of the logits.
    reference_window : int

    Returns
    -------
    IntegralEstimate
        ``A``, ``B`` of shape (T,).

    Examples
    --------
    Means made by the closed form (:func:`~lesde_analyzer.dynamics.l_model_solution`) give
    back its ``A`` and ``B``:

    >>> from lesde_analyzer.dynamics import l_model_solution
    >>> t = np.linspace(0.0, 1.0, 5)
    >>> xbar = l_model_solution(2 * t, 0.5 * t, np.diag([2.0, 1.0, 1.0]))
    >>> est = l_model_integrals(xbar)
    >>> np.round(est.A, 6), np.round(est.B, 6)
    (array([0. , 0.5, 1. , 1.5, 2. ]), array([0.   , 0.125, 0.25 , 0.375, 0.5  ]))
    """
    x = check_means(xbar, model="L")
    return _l_model(x, _window(reference_window, x.shape[0]))


def _l_model(x: np.ndarray, w: int) -> IntegralEstimate:
    K = x.shape[1]
    S, q = log_ratio_inputs(x, "L")
    V1 = K * _mean_log_ratio(S, w)
    V2 = K * _mean_log_ratio(q, w)
    B = (K - 1) * (V2 - V1) / K
    return IntegralEstimate(A=V1 + B, B=B, model="L")


def estimate_integrals(xbar: ArrayLike, *, model: str = "I", reference_window: int = 1) -> IntegralEstimate:
    """Dispatch to :func:`i_model_integrals` or :func:`l_model_integrals`.

    Parameters
    ----------
    xbar : array_like of shape (T, K, p)
    model : {'I', 'L'}
    reference_window : int

    Returns
    -------
    IntegralEstimate

    Examples
    --------
    >>> from lesde_analyzer.dynamics import i_model_solution
    >>> xbar = i_model_solution([0.0, 1.0, 2.0], [0.0, 0.0, 0.0], [[2.0], [1.0]])
    >>> est = estimate_integrals(xbar, model="I")
    >>> est.model, np.round(est.A, 6), np.round(est.B, 6)
    ('I', array([0., 1., 2.]), array([0., 0., 0.]))
    """
    model = check_choice(model, "model", ("I", "L"))
    x = check_means(xbar, model=model)
    w = _window(reference_window, x.shape[0])
    return _i_model(x, w) if model == "I" else _l_model(x, w)

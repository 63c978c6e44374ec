"""Savitzky-Golay rates: alpha-hat = d Ahat / dt, beta-hat = d Bhat / dt."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.signal import savgol_filter

from .._validation import check_int, check_real
from ..errors import InvalidArgument
from ._common import check_series

__all__ = ["RateEstimate", "savgol_rates", "savgol_derivative"]


@dataclass(frozen=True)
class RateEstimate:
    """Savitzky-Golay derivative estimates.

    Attributes
    ----------
    alpha, beta : ndarray of shape (T,)
    window : int
        The window actually used (after clamping, see :func:`savgol_rates`).
    polyorder : int
    """

    alpha: np.ndarray
    beta: np.ndarray
    window: int
    polyorder: int


def _resolve_window(window: int, polyorder: int, T: int, clamp: bool) -> int:
    window = check_int(window, "window", low=1)
    if window % 2 == 0:
        raise InvalidArgument("window", f"must be odd; got {window}")
    if window > T:
        if not clamp:
            raise InvalidArgument("window", f"must be at most the series length T = {T}; got {window}")
        window = T if T % 2 == 1 else T - 1
    if window <= polyorder:
        raise InvalidArgument(
            "window",
            f"must exceed polyorder = {polyorder} (after clamping to the series length T = {T}); got {window}",
        )
    return window


def savgol_derivative(values: ArrayLike, *, window: int, polyorder: int = 2, step: float = 1.0, clamp: bool = True) -> np.ndarray:
    """First derivative of a series by a Savitzky-Golay filter.

    Parameters
    ----------
    values : array_like of shape (T,)
    window : int
        Odd window length. When it exceeds ``T`` it is clamped to the largest odd
        length ``<= T`` (``clamp=True``) or an :class:`InvalidArgument` is raised.
    polyorder : int
        Polynomial order (``< window``).
    step : float
        Spacing of the samples in time.
    clamp : bool

    Returns
    -------
    ndarray of shape (T,)
        NaN entries of ``values`` spread NaN over their window.

    Examples
    --------
    A quadratic filter differentiates ``t^2`` exactly, ends included:

    >>> t = np.arange(11.0)
    >>> bool(np.allclose(savgol_derivative(t**2, window=5), 2 * t))
    True
    """
    v = check_series(values, "values")
    polyorder = check_int(polyorder, "polyorder", low=1, high=10)
    h = check_real(step, "step", low=0.0, low_open=True)
    w = _resolve_window(window, polyorder, v.size, clamp)
    return savgol_filter(v, w, polyorder, deriv=1, delta=h, mode="interp")


def savgol_rates(
    A_hat: ArrayLike, B_hat: ArrayLike, *, window: int, polyorder: int = 2, step: float = 1.0, clamp: bool = True
) -> RateEstimate:
    """``alpha-hat``, ``beta-hat`` as Savitzky-Golay first derivatives of ``Ahat``, ``Bhat``.

    Parameters
    ----------
    A_hat, B_hat : array_like of shape (T,)
    window : int
        Odd window length (the authors used 151/551 for plots, 21 for the LE-ODE imitation).
        A window longer than ``T`` is clamped to the largest odd length ``<= T`` when
        ``clamp`` is true (the result reports the window used), else it is an error.
    polyorder : int
    step : float
        Time between records.
    clamp : bool

    Returns
    -------
    RateEstimate
        ``alpha``, ``beta`` of shape (T,).

    Examples
    --------
    ``A = 2 t``, ``B = t / 2``; a window of 21 on 11 records is clamped to 11:

    >>> t = np.arange(11.0)
    >>> rates = savgol_rates(2 * t, 0.5 * t, window=21)
    >>> np.round(rates.alpha[:3], 6), np.round(rates.beta[:3], 6), rates.window
    (array([2., 2., 2.]), array([0.5, 0.5, 0.5]), 11)
    """
    A = check_series(A_hat, "A_hat")
    B = check_series(B_hat, "B_hat", A.size)
    polyorder = check_int(polyorder, "polyorder", low=1, high=10)
    h = check_real(step, "step", low=0.0, low_open=True)
    w = _resolve_window(window, polyorder, A.size, clamp)
    return RateEstimate(
        alpha=savgol_filter(A, w, polyorder, deriv=1, delta=h, mode="interp"),
        beta=savgol_filter(B, w, polyorder, deriv=1, delta=h, mode="interp"),
        window=w,
        polyorder=polyorder,
    )

"""Tail indices of A, B and Gamma = A - B, and the separability verdict of Theorem 3.1.

For ``alpha(t) ~ t^-r`` the integral behaves as ``A(t) ~ t^(1-r)``, so on a window
``[T1, T2]``

    r_hat = 1 - mean_{T1 <= t <= T2} log|A(t)| / log(1 + t)

(the series' sign is flipped first if most of the window is negative; non-finite logs
are dropped). We also report the least-squares slope of ``log|A|`` against ``log(1+t)``
on the same window and ``r_slope = 1 - slope``, which is free of the constant factor that
biases ``r_hat`` by ``log c / log t``.

Caveat (documented in every result): when ``r > 1``, ``A(t)`` tends to a constant and both
``r_hat`` and ``r_slope`` tend to 1 from either side as the window moves out, so values
near 1 do not decide the verdict; read them with the window and the slope.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_float_array, check_real
from ..errors import InvalidArgument
from ._common import check_series

__all__ = ["TailIndex", "TailIndices", "Verdict", "tail_index", "tail_indices", "separability_verdict", "CAVEAT"]

CAVEAT = (
    "Theorem 3.1: separable when r_gamma < 1 (gamma = omega(1/t)), not separable when r_gamma > 1. "
    "When r > 1 the integral tends to a constant and the estimated index tends to 1 from either side, "
    "so an estimate near 1 is inconclusive; check the window and the fitted slope of log|A| vs log t "
    "(slope ~ 0 means a bounded integral, i.e. r >= 1)."
)


@dataclass(frozen=True)
class TailIndex:
    """Tail index of one integrated series on a window.

    Attributes
    ----------
    r : float
        ``1 - mean log|A| / log(1+t)`` (NaN if no finite point).
    slope : float
        Least-squares slope of ``log|A|`` against ``log(1+t)`` on the window.
    r_slope : float
        ``1 - slope``.
    flipped : bool
        Whether the sign of the series was flipped (most of the window negative).
    window : tuple of float
        ``(T1, T2)`` actually used (first and last time in the window).
    n_points : int
        Finite points used.
    """

    r: float
    slope: float
    r_slope: float
    flipped: bool
    window: tuple[float, float]
    n_points: int


@dataclass(frozen=True)
class Verdict:
    """Separability verdict of Theorem 3.1.

    Attributes
    ----------
    separable : bool or None
        True for ``r_gamma < 1 - tolerance``, False for ``r_gamma > 1 + tolerance``, None in
        between or when ``r_gamma`` is NaN.
    label : str
        ``'separable'``, ``'not separable'`` or ``'inconclusive'``.
    r_gamma : float
    tolerance : float
    caveat : str
    """

    separable: bool | None
    label: str
    r_gamma: float
    tolerance: float
    caveat: str = CAVEAT


@dataclass(frozen=True)
class TailIndices:
    """Tail indices of ``A``, ``B`` and ``Gamma = A - B`` with the verdict.

    Attributes
    ----------
    A, B, Gamma : TailIndex
    verdict : Verdict
        From ``Gamma.r``.
    caveat : str
    """

    A: TailIndex
    B: TailIndex
    Gamma: TailIndex
    verdict: Verdict
    caveat: str = field(default=CAVEAT)


def _window_mask(times: np.ndarray, t1, t2, last: int) -> np.ndarray:
    if t1 is None and t2 is None:
        mask = np.zeros(times.size, bool)
        mask[max(0, times.size - last) :] = True
        return mask
    lo = times[0] if t1 is None else check_real(t1, "t1")
    hi = times[-1] if t2 is None else check_real(t2, "t2")
    if hi <= lo:
        raise InvalidArgument("t2", f"must be greater than t1 = {lo}; got {hi}")
    mask = (times >= lo) & (times <= hi)
    if mask.sum() < 2:
        raise InvalidArgument("t1", f"window [{lo}, {hi}] holds fewer than 2 records of times in [{times[0]}, {times[-1]}]")
    return mask


def _tail(v: np.ndarray, t: np.ndarray) -> TailIndex:
    finite = np.isfinite(v)
    flipped = bool(np.sum(v[finite] < 0) > 0.5 * finite.sum())
    s = -v if flipped else v
    with np.errstate(divide="ignore", invalid="ignore"):
        la = np.log(np.abs(s))
        lt = np.log1p(t)
    ok = np.isfinite(la) & (lt > 0) & (s > 0)
    n = int(ok.sum())
    window = (float(t[0]), float(t[-1])) if t.size else (np.nan, np.nan)
    if n == 0:
        return TailIndex(np.nan, np.nan, np.nan, flipped, window, 0)
    r = 1.0 - float(np.mean(la[ok] / lt[ok]))
    if n >= 2 and np.ptp(lt[ok]) > 0:
        slope = float(np.polyfit(lt[ok], la[ok], 1)[0])
    else:
        slope = np.nan
    return TailIndex(r, slope, 1.0 - slope, flipped, window, n)


def tail_index(values, *, times, t1: float | None = None, t2: float | None = None, last: int = 1000) -> TailIndex:
    """Tail index of one integrated series (``A``, ``B`` or ``Gamma``).

    Parameters
    ----------
    values : array_like of shape (T,)
        The integral, e.g. ``Ahat(t)``.
    times : array_like of shape (T,)
        Times of the records (non-negative, increasing).
    t1, t2 : float, optional
        Window ``[T1, T2]`` (inclusive). Default: the last ``last`` records.
    last : int
        Default window length in records (the authors used 1000 iterations).

    Returns
    -------
    TailIndex
    """
    v = check_series(values, "values")
    t = as_float_array(times, "times", ndim=1)
    if t.size != v.size:
        raise InvalidArgument("times", f"must have shape ({v.size},); got {t.shape}")
    mask = _window_mask(t, t1, t2, last)
    return _tail(v[mask], t[mask])


def separability_verdict(r_gamma: float, *, tolerance: float = 0.05) -> Verdict:
    """Theorem 3.1 verdict from the tail index of ``Gamma``.

    Parameters
    ----------
    r_gamma : float
    tolerance : float
        Half-width of the inconclusive band around 1 (see :data:`CAVEAT`).

    Returns
    -------
    Verdict
    """
    tol = check_real(tolerance, "tolerance", low=0.0)
    r = float(r_gamma)
    if not np.isfinite(r):
        return Verdict(None, "inconclusive", r, tol)
    if r < 1.0 - tol:
        return Verdict(True, "separable", r, tol)
    if r > 1.0 + tol:
        return Verdict(False, "not separable", r, tol)
    return Verdict(None, "inconclusive", r, tol)


def tail_indices(
    A_hat,
    B_hat,
    *,
    times,
    t1: float | None = None,
    t2: float | None = None,
    last: int = 1000,
    tolerance: float = 0.05,
) -> TailIndices:
    """Tail indices of ``A``, ``B``, ``Gamma = A - B`` on one window, and the verdict.

    Parameters
    ----------
    A_hat, B_hat : array_like of shape (T,)
    times : array_like of shape (T,)
    t1, t2 : float, optional
        Window; default the last ``last`` records.
    last : int
    tolerance : float
        Inconclusive band for the verdict.

    Returns
    -------
    TailIndices
    """
    A = check_series(A_hat, "A_hat")
    B = check_series(B_hat, "B_hat", A.size)
    t = as_float_array(times, "times", ndim=1)
    if t.size != A.size:
        raise InvalidArgument("times", f"must have shape ({A.size},); got {t.shape}")
    mask = _window_mask(t, t1, t2, last)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ra, rb, rg = (_tail(v[mask], t[mask]) for v in (A, B, A - B))
    return TailIndices(A=ra, B=rb, Gamma=rg, verdict=separability_verdict(rg.r, tolerance=tolerance))

"""Tail indices of A, B and Gamma, and the separability verdict of Theorem 3.1.

**Which Gamma.** The paper (section 3) defines
``Gamma(t) = min{A(t) - B(t), A(t) + (K-1) B(t)}`` for the I-model: the class-difference
mode and the common mode of eq. (7). For the L-model the modes of eq. (9) are
``A - B`` (the ``S`` mode) and ``A + B/(K-1)`` (the ``q`` mode), and Gamma is the smaller
of those. The minimum is taken pointwise in time. Theorem 3.1 assumes local elasticity,
``gamma(t) > 0``; under it, ``gamma(t) = c t^-r`` gives separation for ``r < 1`` and
none for ``r > 1``.

**The tail index, free of constants.** For ``gamma(t) = c (1+t)^-r`` the integral is
exactly

    Gamma(t) = G0 + c f_r(t),   f_r(t) = ((1+t)^(1-r) - 1) / (1-r),

with ``f_1(t) = log(1+t)`` the continuous limit. One family covers all three regimes:
``r < 1`` (Gamma grows like ``t^(1-r)``), ``r = 1`` (like ``log t``) and ``r > 1``
(Gamma tends to ``G_inf = G0 + c/(r-1)``). A constant offset (the estimator's reference
point, the integral before the window) enters only ``G0`` and a constant factor only
``c``, so the fitted ``r`` (``r_slope``) is free of both.

Two other numbers do not decide, and are kept only as secondary: the plain slope
``1 - d log|Gamma| / d log t`` (for ``r > 1`` it tends to 1 from below, so it can never
say "not separable"), and the authors' ``r_hat = 1 - mean log|F(t)| / log(1+t)`` over
the last 1000 iterations (sign flipped first if most of that window is negative): a
constant factor biases it by ``-log|c/(1-r)| / log t``; for a saturated ``F ~ C`` it
returns about ``1 - log C / log t``, a measure of the size of ``F``, not of its tail. The
paper's Figure 4c plots ``min(r_hat(A), r_hat(B))`` of the I-model: ``r_min_alpha_beta``.

**The fit: binned levels.** The window ``[t1, t2]`` (default ``[T/10, T]``, one decade of
log time) is cut into ``bins`` intervals evenly spaced in ``log(1+t)`` (each record its
own bin when there are fewer). The median of the series in each bin is fitted by
weighted least squares to ``G0 + c f_r`` at the bin's middle record (the basis increases
with ``t``, so that is its bin median and the model stays exact); ``G0`` and ``c`` are
closed form for each ``r`` (profile least squares) and ``r`` minimises the profile
residual over ``r_bounds`` (default ``[-1, 10]``: a Gamma that saturates within the window can need r well above 4), on a grid and then by a bounded Brent
search. The basis is evaluated at ``x = log(1+t) - mid`` through ``expm1`` so it stays
well conditioned for every ``r``.

Why levels, medians and these weights: the error of ``Gamma_hat(t)`` is the error of a
log of ``Xbar(t)`` less that of the reference. The reference's part is a constant
(absorbed by ``G0``); the rest is white sampling noise (which point each trial drew),
which binning averages away, plus each network's persistent deviation from the mean
network, which is correlated over the whole run. Neither is a random walk. (An earlier
version weighted the increments as if the error were one: on white-noise data with
``r = 0.5`` it left 70% of seeds inconclusive where a level fit decides all of them.) A
record where a coordinate of a mode is near zero gives a log spike; a bin mean carries
it, a bin median does not (with means the jackknife below overstated the spread of ``r``
by a fifth, because a spike moves the same whatever share of the trials is left out).
Each bin is weighted by the inverse of its jackknife variance, smoothed as a power of
``t`` (the variance has only ``G - 1`` degrees of freedom per bin); without replicates,
equally.

**Standard errors from the trials.** Trials are independent replicates of one training
procedure, so the error of every number is measured by redoing it on other trials: a
delete-one-group jackknife over ``G`` groups of trials (the caller passes each group's
leave-out integrals, recomputed from its own ``Xbar``), ``SE^2 = (G-1)/G sum_g (r_g -
rbar)^2``. It sees the white noise, the persistent per-network deviations and the
non-linearity of the logs alike. Where the source has no trial ids (an imported file
without them) the SE falls back to a time-series one, Newey-West (Bartlett, bias
corrected) on the bin-level residuals, which cannot see a deviation that lasts the whole
run: ``se_method`` says which was used. Coverage and power of the jackknife are measured
in the tests on runs whose noise is not the model's (each trial its own persistent rate
factor and slow drift, plus white sampling noise).

**Windows and the verdict.** The verdict is read off the deciding window (default
``[T/10, T]``) and checked on the others (``[T/20, T]``, ``[T/10, T]``, ``[T/5, T]`` by
default): with ``band = max(2 SE, tolerance)``, a window says "separable" when ``r <
1 - band``, "not separable" when ``r > 1 + band``, nothing otherwise. The verdict is
"separable" or "not separable" only where every window says the same; otherwise
"inconclusive" with the windows in ``why``. A fit that stopped at an end of ``r_bounds``
is no estimate (``r_slope`` is reported as ``None`` in JSON, ``at_bound`` true). If the
mean of ``gamma`` over the deciding window is negative by more than twice its SE, the
label is "not separable": the theorem needs ``gamma > 0``. Theorem 3.1 decides only
``gamma = omega(1/t)`` and ``gamma = o(1/t)``; ``why`` says so in words near ``r = 1``,
and when ``r`` matches ``1 + 1/ln t``, the local exponent of ``Gamma ~ log log t``
(logits growing like ``log t``, as cross-entropy drives them). All times, windows and
rates are in iterations, whatever the spacing of the records.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar

from .._validation import as_float_array, check_choice, check_int, check_real
from ..errors import InvalidArgument
from ._common import check_series

__all__ = [
    "CAVEAT",
    "DEFAULT_WINDOW_FRACTIONS",
    "GAMMA_NEGATIVE",
    "GammaIntegral",
    "TailIndex",
    "TailIndices",
    "Verdict",
    "WindowIndex",
    "default_windows",
    "gamma_integral",
    "separability_verdict",
    "tail_index",
    "tail_indices",
]

CAVEAT = (
    "Theorem 3.1 (gamma > 0 assumed): separable when r < 1 (gamma = omega(1/t)), not separable when r > 1 "
    "(gamma = o(1/t)); it does not decide gamma ~ 1/t. r_slope fits Gamma(t) = G0 + c((1+t)^(1-r) - 1)/(1-r) to the "
    "levels of Gamma on windows wide in log t, free of the constant offset and factor, with standard errors from a "
    "jackknife over groups of trials; a label only where every window agrees. r_hat (the authors' mean log-ratio) "
    "and the plain slope of log|Gamma| are reported but do not decide."
)

GAMMA_NEGATIVE = "gamma < 0: no local elasticity (Theorem 3.1 needs gamma > 0)"
AT_BOUND = "at the fit's bound: no estimate"
JACKKNIFE = "jackknife over {groups} groups of trials (each group left out in turn, Xbar and the fit recomputed)"
TIME_SERIES = (
    "time series: Newey-West on the residuals of the binned levels (no jackknife: it needs at least 3 groups of "
    "trials, so at least 3 trials and jackknife_groups >= 3; it cannot see a network's deviation that lasts the "
    "whole run, so it is likely too small)"
)

MIN_RECORDS = 5  # a three-parameter fit needs a few degrees of freedom
IMPRECISE_BAND = 0.5  # a band wider than this around 1 is want of precision, not evidence of r near 1
MIN_GROUPS = 3  # fewer leave-out replicates give no usable jackknife
GRID = 101  # r values of the coarse search before Brent
#: the verdict's windows as fractions of the last time: [T/20, T], [T/10, T], [T/5, T]
DEFAULT_WINDOW_FRACTIONS = (0.05, 0.1, 0.2)


@dataclass(frozen=True)
class TailIndex:
    """Tail index of one integrated series (``A``, ``B`` or ``Gamma``) on a window.

    Attributes
    ----------
    r_slope : float
        ``r`` of the fit ``F(t) = F0 + c((1+t)^(1-r) - 1)/(1-r)`` to the binned levels (NaN
        without enough finite records, and for a flat series, where ``r`` is not identified).
    r_slope_se : float
        Its standard error (``se_method`` says how; ``inf`` when ``r`` is not identified).
    r_plain_slope : float
        ``1 - d log|F| / d log t``, least squares on the window with each log-time bin
        weighted equally (secondary: it tends to 1 from below for every ``r > 1``).
    r_hat : float
        The authors' ``1 - mean log|F(t)| / log(1+t)`` over the last ``last`` iterations.
    r_hat_se : float
        Its jackknife standard error (NaN without replicates).
    amplitude : float
        Fitted ``c`` of the rate ``dF/dt = c (1+t)^-r`` (units of ``F`` per iteration).
    limit : float
        Fitted ``F_inf = lim F(t)`` when ``r_slope > 1``; NaN when the fit is unbounded.
    rate_mean : float
        Mean rate over the window, ``(F(t2) - F(t1)) / (t2 - t1)`` from the first and last
        bin means, per iteration; model-free.
    rate_mean_se : float
        Its standard error (same method as ``r_slope_se``).
    at_bound : bool
        Whether ``r_slope`` sits at an end of ``r_bounds``: then it is no estimate.
    flipped : bool
        Whether ``r_hat`` flipped the sign (most of its window negative).
    window : tuple of float
        First and last record times (iterations) of the fit window.
    r_hat_window : tuple of float
        First and last record times used by ``r_hat`` (NaN if none).
    n_records : int
        Finite records in the fit window.
    n_bins : int
        Non-empty log-time bins fitted.
    se_method : str
        How the standard errors were made (the trial jackknife, or the time-series fallback).
    groups : int
        Jackknife groups of trials (0 for the time-series fallback).
    """

    r_slope: float
    r_slope_se: float
    r_plain_slope: float
    r_hat: float
    r_hat_se: float
    amplitude: float
    limit: float
    rate_mean: float
    rate_mean_se: float
    at_bound: bool
    flipped: bool
    window: tuple[float, float]
    r_hat_window: tuple[float, float]
    n_records: int
    n_bins: int
    se_method: str
    groups: int


@dataclass(frozen=True)
class WindowIndex:
    """``r_slope`` of Gamma on one of the verdict's windows, and what that window alone says.

    Attributes
    ----------
    window : tuple of float
        ``[t1, t2]`` in iterations (the first and last records inside).
    r, se : float
        ``r_slope`` of Gamma there and its standard error.
    at_bound : bool
        The fit stopped at an end of ``r_bounds`` (no estimate).
    label : str
        ``'separable'``, ``'not separable'`` or ``'inconclusive'`` by the band rule alone.
    deciding : bool
        Whether this is the window the verdict is read off.
    """

    window: tuple[float, float]
    r: float
    se: float
    at_bound: bool
    label: str
    deciding: bool


@dataclass(frozen=True)
class Verdict:
    """Separability verdict of Theorem 3.1.

    Attributes
    ----------
    label : str
        ``'separable'``, ``'not separable'`` or ``'inconclusive'``.
    separable : bool or None
        True, False, or None for ``'inconclusive'``.
    r_gamma : float
        ``r_slope`` of Gamma on the deciding window (NaN when the fit is at its bound).
    se : float
        Its standard error.
    band : float
        Half-width of the inconclusive band around 1, ``max(2 se, tolerance)`` (NaN when
        ``r_gamma`` or ``se`` is not finite).
    tolerance : float
    why : str
        Why this label, in words, with the numbers (the windows, the boundary r = 1).
    windows : tuple of WindowIndex
        ``r`` on every window checked, with what each says alone.
    caveat : str
    """

    label: str
    separable: bool | None
    r_gamma: float
    se: float
    band: float
    tolerance: float
    why: str
    windows: tuple[WindowIndex, ...] = ()
    caveat: str = CAVEAT


@dataclass(frozen=True)
class GammaIntegral:
    """Theorem 3.1's ``Gamma(t)``: the pointwise minimum of the model's two modes.

    Attributes
    ----------
    values : ndarray of shape (T,)
        ``Gamma(t) = min(modes[0], modes[1])`` (NaN where either mode is NaN).
    modes : ndarray of shape (2, T)
        I-model: ``A - B`` and ``A + (K-1) B``; L-model: ``A - B`` and ``A + B/(K-1)``.
    mode_names : tuple of str
        The two modes in words, e.g. ``('A - B', 'A + 2 B')``.
    definition : str
        Which Gamma this is, for notes.
    """

    values: np.ndarray
    modes: np.ndarray
    mode_names: tuple[str, str]
    definition: str


@dataclass(frozen=True)
class TailIndices:
    """Tail indices of ``A``, ``B`` and Theorem 3.1's ``Gamma`` with the verdict.

    Attributes
    ----------
    A, B, Gamma : TailIndex
        The same fit on each series, on the deciding window.
    r_min_alpha_beta : float
        ``min(A.r_hat, B.r_hat)``: the paper's Figure 4c number when the model is ``'I'``
        (secondary; NaN if both are NaN).
    model : str
        ``'I'`` or ``'L'``.
    K : int
    gamma_definition : str
        Which Gamma was used and, on the fit window, on which share of the records the
        first mode (``A - B``) was the smaller.
    gamma_mode_share : float
        That share, in [0, 1] (NaN without finite records).
    verdict : Verdict
        From Gamma on every window.
    caveat : str
    """

    A: TailIndex
    B: TailIndex
    Gamma: TailIndex
    r_min_alpha_beta: float
    model: str
    K: int
    gamma_definition: str
    gamma_mode_share: float
    verdict: Verdict
    caveat: str = CAVEAT


# ----------------------------------------------------------------------------- validation


def _check_times(times: ArrayLike, T: int) -> np.ndarray:
    t = as_float_array(times, "times", ndim=1)
    if t.size != T:
        raise InvalidArgument("times", f"must have shape ({T},) like the series; got {t.shape}")
    if t.size and t[0] < 0:
        raise InvalidArgument("times", f"must be iterations >= 0; got times[0] = {t[0]:g}")
    steps = np.diff(t)
    if np.any(steps <= 0):
        i = int(np.argmax(steps <= 0))
        raise InvalidArgument("times", f"must be strictly increasing; got times[{i + 1}] = {t[i + 1]:g} after times[{i}] = {t[i]:g}")
    return t


def _check_window(window: tuple[float, float] | None, t: np.ndarray, name: str = "window") -> tuple[float, float]:
    if window is None:
        lo, hi = t[-1] / 10.0, t[-1]
    else:
        try:
            lo_raw, hi_raw = window
        except (TypeError, ValueError):
            raise InvalidArgument(name, f"must be a pair (t1, t2) of iterations with 0 <= t1 < t2; got {window!r}") from None
        lo = check_real(lo_raw, name, low=0.0)
        hi = check_real(hi_raw, name, low=0.0)
        if hi <= lo:
            raise InvalidArgument(name, f"must have t1 < t2 (iterations); got ({lo:g}, {hi:g})")
    n = int(np.count_nonzero((t >= lo) & (t <= hi)))
    if n < MIN_RECORDS:
        raise InvalidArgument(
            name, f"[{lo:g}, {hi:g}] holds {n} records of times in [{t[0]:g}, {t[-1]:g}]; it needs at least {MIN_RECORDS}"
        )
    return lo, hi


def _check_options(bins: int, r_bounds: tuple[float, float], last: float) -> tuple[int, float, float, float]:
    nb = check_int(bins, "bins", low=MIN_RECORDS, high=1000)
    try:
        r_lo_raw, r_hi_raw = r_bounds
    except (TypeError, ValueError):
        raise InvalidArgument("r_bounds", f"must be a pair (r_min, r_max) with -10 <= r_min < 1 < r_max <= 10; got {r_bounds!r}") from None
    r_lo, r_hi = check_real(r_lo_raw, "r_bounds"), check_real(r_hi_raw, "r_bounds")
    if not -10.0 <= r_lo < 1.0 < r_hi <= 10.0:  # wider would overflow the basis on long windows
        raise InvalidArgument("r_bounds", f"must be a pair (r_min, r_max) with -10 <= r_min < 1 < r_max <= 10; got ({r_lo:g}, {r_hi:g})")
    span = check_real(last, "last", low=0.0, low_open=True)
    return nb, r_lo, r_hi, span


def _check_replicates(replicates: ArrayLike | None, T: int, name: str) -> np.ndarray | None:
    return None if replicates is None else _replicates(replicates, T, name)


def _replicates(replicates: ArrayLike, T: int, name: str) -> np.ndarray:
    reps = as_float_array(replicates, name, ndim=2, finite=False)
    if reps.shape[1] != T:
        raise InvalidArgument(name, f"must have shape (groups, {T}) like the series; got {reps.shape}")
    if reps.shape[0] < MIN_GROUPS:
        raise InvalidArgument(name, f"needs at least {MIN_GROUPS} leave-out groups for a jackknife; got {reps.shape[0]}")
    return reps


# ----------------------------------------------------------------------------- the level fit


def _basis(z: float, x: np.ndarray) -> np.ndarray:
    """``b_z(x) = expm1(z x) / z`` (``x`` at ``z = 0``); ``z = 1 - r``. Shape of ``x``."""
    if abs(z) < 1e-12:
        return x + 0.5 * z * x * x
    return np.expm1(z * x) / z


def _basis_dz(z: float, x: np.ndarray) -> np.ndarray:
    """``d b_z(x) / dz``, with the series where the closed form would cancel. Shape of ``x``."""
    if abs(z) * np.max(np.abs(x)) < 1e-4:
        return x**2 / 2 + z * x**3 / 3 + z * z * x**4 / 8
    return (x * np.exp(z * x) - _basis(z, x)) / z


def _bin_labels(L: np.ndarray, bins: int) -> np.ndarray:
    """Log-time bin of each record, renumbered 0..n_bins-1 over the non-empty bins; shape (n,)."""
    if L.size <= bins:
        return np.arange(L.size)
    edges = np.linspace(L[0], L[-1], bins + 1)
    raw = np.clip(np.searchsorted(edges, L, side="right") - 1, 0, bins - 1)
    return np.unique(raw, return_inverse=True)[1]


@dataclass(frozen=True)
class _Point:
    """One fit's estimates on a window: what the jackknife resamples."""

    r: float
    C: float
    F0: float
    z: float
    rate: float
    at_bound: bool
    residuals: np.ndarray  # (n_bins,)


class _Window:
    """The binned design of one window, shared by every series and replicate fitted on it.

    ``t`` (shape (n,)) are the finite records' times inside ``[lo, hi]``; the bin means of
    the basis on the coarse ``r`` grid are tabulated once (shape (GRID, n_bins)). Bins are
    weighted equally unless :meth:`weighted` gives each its own weight.
    """

    def __init__(self, t: np.ndarray, *, bins: int, r_lo: float, r_hi: float) -> None:
        L = np.log1p(t)
        self.mid = 0.5 * (L[0] + L[-1])
        self.x = L - self.mid
        self.labels = _bin_labels(L, bins)
        self.counts = np.bincount(self.labels)
        self.n_bins = self.counts.size
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        self.middle = (self.starts + (self.counts - 1) // 2, self.starts + self.counts // 2)
        self.L = L
        self.z_lo, self.z_hi = 1.0 - r_hi, 1.0 - r_lo
        self.grid = np.linspace(self.z_lo, self.z_hi, GRID)
        safe = np.where(np.abs(self.grid) < 1e-12, 1.0, self.grid)
        basis = np.where(np.abs(self.grid) < 1e-12, self.x[:, None], np.expm1(self.x[:, None] * self.grid) / safe)
        self.raw_table = self.at_middle(basis).T  # (GRID, n_bins)
        self.tb = self.at_middle(t)
        self._set_weights(np.full(self.n_bins, 1.0 / self.n_bins))

    def _set_weights(self, w: np.ndarray) -> None:
        self.w = w / w.sum()
        self.table = self.raw_table - (self.raw_table @ self.w)[:, None]
        self.table_ss = np.einsum("gb,gb,b->g", self.table, self.table, self.w)

    def weighted(self, w: np.ndarray) -> _Window:
        """A copy whose bins carry weights ``w`` (shape (n_bins,), positive)."""
        out = object.__new__(_Window)
        out.__dict__.update(self.__dict__)
        out._set_weights(w)
        return out

    def bin_median(self, y: np.ndarray) -> np.ndarray:
        """Median of ``y`` (shape (n,), records in time order) over each bin; shape (n_bins,)."""
        return np.array([np.median(y[a : a + n]) for a, n in zip(self.starts, self.counts)])

    def at_middle(self, y: np.ndarray) -> np.ndarray:
        """``y`` at each bin's middle record (mean of the two middle ones for an even count).

        For a function increasing in ``t`` (the basis, the times) this is its bin median,
        without a sort. Shape (n_bins,) for ``y`` of shape (n,), (n_bins, m) for (n, m).
        """
        return 0.5 * (y[self.middle[0]] + y[self.middle[1]])

    def centred_basis(self, z: float) -> np.ndarray:
        b = self.at_middle(_basis(z, self.x))
        return b - b @ self.w

    def fit(self, v: np.ndarray) -> _Point | None:
        """Weighted profile least squares of the bin means of ``v`` (shape (n,)); None for a flat series."""
        M = self.bin_median(v)
        w = self.w
        Mc = M - M @ w
        total = float(w @ Mc**2)
        if not total > 1e-28 * max(1.0, float(w @ M**2)):
            return None  # flat: no amplitude, no r
        with np.errstate(divide="ignore", invalid="ignore"):
            rss_grid = total - (self.table @ (w * Mc)) ** 2 / self.table_ss
        rss_grid = np.where(np.isfinite(rss_grid), rss_grid, np.inf)
        i = int(np.argmin(rss_grid))

        def rss(z: float) -> float:
            b = self.centred_basis(z)
            return total - float((w * b) @ Mc) ** 2 / float(w @ b**2)

        a, b = self.grid[max(i - 1, 0)], self.grid[min(i + 1, GRID - 1)]
        res = minimize_scalar(rss, bounds=(a, b), method="bounded", options={"xatol": 1e-10})
        z = float(res.x) if res.fun <= rss_grid[i] else float(self.grid[i])
        basis = self.centred_basis(z)
        C = float((w * basis) @ Mc / (w @ basis**2))
        raw = self.at_middle(_basis(z, self.x))
        F0 = float(M @ w - C * (raw @ w))
        at_bound = bool(min(abs(z - self.z_lo), abs(z - self.z_hi)) < 1e-6)
        rate = float((M[-1] - M[0]) / (self.tb[-1] - self.tb[0]))
        return _Point(r=1.0 - z, C=C, F0=F0, z=z, rate=rate, at_bound=at_bound, residuals=Mc - C * basis)

    def noise_weights(self, v: np.ndarray, replicates: np.ndarray) -> np.ndarray | None:
        """Inverse jackknife variance of each bin mean, smoothed as a power of t; (n_bins,) or None.

        ``v`` (n,) and ``replicates`` (G, n) on this design's records. The per-bin variance
        has only ``G - 1`` degrees of freedom, so it is smoothed by a straight line in
        ``(log t, log var)`` before it weights anything.
        """
        G = replicates.shape[0]
        bins = np.stack([self.bin_median(rep) for rep in replicates])  # (G, n_bins)
        var = (G - 1) / G * np.sum((bins - bins.mean(axis=0)) ** 2, axis=0)
        ok = np.isfinite(var) & (var > 0)
        if np.count_nonzero(ok) < MIN_RECORDS:
            return None
        X = np.column_stack([np.ones(np.count_nonzero(ok)), np.log1p(self.tb[ok])])
        coef = np.linalg.lstsq(X, np.log(var[ok]), rcond=None)[0]
        w = np.exp(-(coef[0] + coef[1] * np.log1p(self.tb)) + coef[0])
        return w if np.all(np.isfinite(w)) and np.all(w > 0) else None

    def time_series_se(self, point: _Point) -> tuple[float, float]:
        """SEs of ``r`` and of the mean rate from the bin residuals alone (Newey-West, bias corrected)."""
        nb = self.n_bins
        z = point.z
        J = np.column_stack([np.ones(nb), self.at_middle(_basis(z, self.x)), point.C * self.at_middle(_basis_dz(z, self.x))])
        lag = int(math.ceil(nb ** (1.0 / 3.0)))
        se_z = _hac_se(J, point.residuals, lag, param=2)
        contrast = np.zeros(nb)
        contrast[0], contrast[-1] = -1.0, 1.0
        rate_se = _hac_se(J, point.residuals, lag, contrast=contrast) / float(self.tb[-1] - self.tb[0])
        return se_z, rate_se


def _hac_se(J: np.ndarray, e: np.ndarray, lag: int, *, param: int = 0, contrast: np.ndarray | None = None) -> float:
    """Bias-corrected Newey-West standard error after a least-squares fit.

    ``J`` (shape (m, q)) is the Jacobian of the fit, ``e`` (shape (m,)) its residuals.
    Without ``contrast``: the SE of parameter ``param`` (the sandwich ``inv(J'J) S
    inv(J'J)``). With ``contrast`` (shape (m,)): the SE of ``contrast . u``, ``u`` the
    errors. Residuals of a fitted model are anti-correlated at short lags, so plain
    Newey-West is biased low by O(lag/m); dividing by the same estimator's expectation under
    independent errors (``J' (W o (I - H)) J`` instead of ``J'J``) removes that bias there.
    """
    m = e.size
    gap = np.abs(np.subtract.outer(np.arange(m), np.arange(m)))
    kernel = np.clip(1.0 - gap / (lag + 1.0), 0.0, None)
    resid = np.eye(m) - J @ np.linalg.pinv(J)
    observed, null = kernel * np.outer(e, e), kernel * resid
    if contrast is not None:
        expected = float(contrast @ null @ contrast)
        if expected <= 0:
            return float("inf")
        return float(np.sqrt(max(contrast @ observed @ contrast, 0.0) * (contrast @ contrast) / expected))
    bread = J.T @ J
    scale = np.sqrt(np.diag(bread))
    if not np.all(scale > 0) or np.linalg.cond(bread / np.outer(scale, scale)) >= 1e12:
        return float("inf")  # C = 0 (a flat series): r is not identified
    inv = np.linalg.inv(bread / np.outer(scale, scale)) / np.outer(scale, scale)
    estimate = (inv @ (J.T @ observed @ J) @ inv)[param, param]
    expected = (inv @ (J.T @ null @ J) @ inv)[param, param]
    if expected <= 0:
        return float("inf")
    return float(np.sqrt(max(estimate, 0.0) * inv[param, param] / expected))


def _jackknife_se(values: Sequence[float]) -> float:
    """Delete-one-group jackknife SE from the leave-out estimates (inf when fewer than 3 are finite)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < MIN_GROUPS:
        return float("inf")
    G = v.size
    return float(np.sqrt((G - 1) / G * np.sum((v - v.mean()) ** 2)))


def _authors_r_hat(v: np.ndarray, t: np.ndarray, span: float) -> tuple[float, bool, tuple[float, float]]:
    """The authors' mean log-ratio over times ``t > t[-1] - span`` (``log(1+t) > 0``)."""
    keep = (t > t[-1] - span) & (t > 0) & np.isfinite(v)
    vv, tt = v[keep], t[keep]
    flipped = bool(np.count_nonzero(vv < 0) > 0.5 * vv.size)
    s = -vv if flipped else vv
    pos = s > 0  # the minority sign has no log after the flip, as in the authors' code
    if not pos.any():
        return float("nan"), flipped, (float("nan"), float("nan"))
    r = 1.0 - float(np.mean(np.log(s[pos]) / np.log1p(tt[pos])))
    return r, flipped, (float(tt[pos][0]), float(tt[pos][-1]))


def _plain_slope(v: np.ndarray, L: np.ndarray, labels: np.ndarray) -> float:
    """``1 - slope`` of ``log|v|`` on ``log(1+t)``, each log-time bin weighted equally."""
    flipped = np.count_nonzero(v < 0) > 0.5 * v.size
    s = -v if flipped else v
    pos = s > 0
    if np.unique(labels[pos]).size < 2:
        return float("nan")
    w = 1.0 / np.bincount(labels[pos])[labels[pos]]
    x, y = L[pos], np.log(s[pos])
    xm, ym = np.average(x, weights=w), np.average(y, weights=w)
    return 1.0 - float(np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2))


class _FitOptions(TypedDict):
    """The options of every :class:`_Fitter` of one call, as keywords."""

    bins: int
    r_lo: float
    r_hi: float
    span: float


class _Fitter:
    """Fits series on one window ``[lo, hi]`` of times ``t`` (shape (T,)), reusing the binned design."""

    def __init__(self, t: np.ndarray, lo: float, hi: float, *, bins: int, r_lo: float, r_hi: float, span: float) -> None:
        self.t, self.lo, self.hi, self.span = t, lo, hi, span
        self.bins, self.r_lo, self.r_hi = bins, r_lo, r_hi
        self.inside = (t >= lo) & (t <= hi)
        tw = t[self.inside]
        self.window = (float(tw[0]), float(tw[-1]))
        self._full = _Window(tw, bins=bins, r_lo=r_lo, r_hi=r_hi)

    def _design(self, ok: np.ndarray) -> _Window | None:
        """The design on the finite records (the cached one when all are finite)."""
        if ok.all():
            return self._full
        if np.count_nonzero(ok) < MIN_RECORDS:
            return None
        design = _Window(self.t[self.inside][ok], bins=self.bins, r_lo=self.r_lo, r_hi=self.r_hi)
        return design if design.n_bins >= MIN_RECORDS - 1 else None

    def index(self, v: np.ndarray, replicates: np.ndarray | None) -> TailIndex:
        """The full :class:`TailIndex` of ``v`` (shape (T,)); ``replicates`` (G, T) give the jackknife SEs."""
        r_hat, flipped, r_hat_window = _authors_r_hat(v, self.t, self.span)
        vw = v[self.inside]
        ok = np.isfinite(vw)
        design = self._design(ok)
        if design is not None and replicates is not None:
            weights = design.noise_weights(vw[ok], replicates[:, self.inside][:, ok])
            design = design if weights is None else design.weighted(weights)
        point = None if design is None else design.fit(vw[ok])
        nan = float("nan")
        groups = 0 if replicates is None else int(replicates.shape[0])
        method = JACKKNIFE.format(groups=groups) if groups else TIME_SERIES
        n_records = int(np.count_nonzero(ok))
        if design is None or point is None:
            return TailIndex(
                r_slope=nan, r_slope_se=float("inf"), r_plain_slope=nan, r_hat=r_hat, r_hat_se=nan, amplitude=nan,
                limit=nan, rate_mean=nan, rate_mean_se=nan, at_bound=False, flipped=flipped, window=self.window,
                r_hat_window=r_hat_window, n_records=n_records, n_bins=0 if design is None else design.n_bins,
                se_method=method, groups=groups,
            )  # fmt: skip
        if replicates is None:
            r_se, rate_se = design.time_series_se(point)
            r_hat_se = nan
        else:
            fits = [design.fit(rep[self.inside][ok]) if np.isfinite(rep[self.inside][ok]).all() else None for rep in replicates]
            r_se = _jackknife_se([f.r if f is not None else nan for f in fits])
            rate_se = _jackknife_se([f.rate if f is not None else nan for f in fits])
            r_hat_se = _jackknife_se([_authors_r_hat(rep, self.t, self.span)[0] for rep in replicates])
        z = point.z
        # back to the original parametrisation: dF/dt = C e^{z x}/(1+t) = c (1+t)^(z-1)
        amplitude = point.C * math.exp(-z * design.mid) if abs(z * design.mid) < 700 else nan
        limit = point.F0 - point.C / z if z < -1e-6 else nan  # r = 1 within rounding: no finite limit
        return TailIndex(
            r_slope=point.r, r_slope_se=r_se, r_plain_slope=_plain_slope(vw[ok], design.L, design.labels), r_hat=r_hat,
            r_hat_se=r_hat_se, amplitude=amplitude, limit=limit, rate_mean=point.rate, rate_mean_se=rate_se,
            at_bound=point.at_bound, flipped=flipped, window=self.window, r_hat_window=r_hat_window,
            n_records=n_records, n_bins=design.n_bins, se_method=method, groups=groups,
        )  # fmt: skip


# ----------------------------------------------------------------------------- the verdict


def _side(r: float, se: float, tol: float, at_bound: bool = False) -> tuple[str, float]:
    """What one window says by the band rule, and the band."""
    if at_bound or not (np.isfinite(r) and np.isfinite(se)):
        return "inconclusive", float("nan")
    band = max(2.0 * se, tol)
    if r < 1.0 - band:
        return "separable", band
    if r > 1.0 + band:
        return "not separable", band
    return "inconclusive", band


def _window_text(w: WindowIndex) -> str:
    span = f"[{w.window[0]:g}, {w.window[1]:g}]"
    if w.at_bound:
        return f"{span}: {AT_BOUND}"
    if not np.isfinite(w.r):
        return f"{span}: not identified"
    return f"{span}: r = {w.r:.3f} +- {w.se:.3f} ({w.label})"


def _loglog_words(r: float, band: float, t_mid: float) -> str:
    """A sentence when ``r`` matches the local exponent of ``Gamma ~ log log t``, else ''."""
    if not (np.isfinite(t_mid) and t_mid > math.e):
        return ""
    local = 1.0 + 1.0 / math.log(t_mid)
    if abs(r - local) > band or band >= local - 1.0:  # too wide a band tells log t and log log t apart from nothing
        return ""
    return (
        f" r is also consistent with 1 + 1/ln t = {local:.3f} at the window's log-centre t = {t_mid:.0f}, the local "
        "exponent of Gamma ~ log log t: logits growing like log t, as cross-entropy drives them once the training points "
        "are fitted, give gamma ~ 1/(t ln t), which is o(1/t), so the theorem says 'not separable', but only just."
    )


def separability_verdict(
    r: float,
    *,
    se: float,
    tolerance: float = 0.05,
    rate: float = float("nan"),
    rate_se: float = float("nan"),
    at_bound: bool = False,
    windows: Sequence[WindowIndex] = (),
    t_mid: float = float("nan"),
) -> Verdict:
    """Theorem 3.1 verdict from the tail index of Gamma, the sign of gamma and the windows.

    Parameters
    ----------
    r : float
        ``r_slope`` of Gamma on the deciding window.
    se : float
        Its standard error (``>= 0``; ``inf`` or NaN make the label inconclusive).
    tolerance : float
        Smallest half-width of the inconclusive band around 1, in [0, 0.5].
    rate, rate_se : float, optional
        Mean of gamma over the deciding window (per iteration) and its standard error; when
        ``rate + 2 rate_se < 0`` the label is "not separable" (no local elasticity).
    at_bound : bool
        The deciding fit stopped at an end of its search interval: no estimate.
    windows : sequence of WindowIndex
        Every window checked (the deciding one among them); a label needs all to agree.
    t_mid : float
        Log-centre of the deciding window in iterations, for the ``log log t`` sentence.

    Returns
    -------
    Verdict

    Examples
    --------
    The band is ``max(2 SE, tolerance)`` around 1:

    >>> separability_verdict(0.4, se=0.1).label
    'separable'
    >>> v = separability_verdict(1.02, se=0.1)
    >>> v.label, v.separable, v.band
    ('inconclusive', None, 0.2)
    >>> separability_verdict(1.5, se=0.1).separable
    False
    """
    tol = check_real(tolerance, "tolerance", low=0.0, high=0.5)
    r, se, rate, rate_se = float(r), float(se), float(rate), float(rate_se)
    if se < 0:
        raise InvalidArgument("se", f"must be >= 0; got {se:g}")
    windows = tuple(windows)
    label, band = _side(r, se, tol, at_bound)
    shown = float("nan") if at_bound else r
    listing = "; ".join(_window_text(w) for w in windows)
    where = f" Windows: {listing}." if windows else ""

    def verdict(name: str, why: str) -> Verdict:
        separable = {"separable": True, "not separable": False}.get(name)
        return Verdict(
            label=name,
            separable=separable,
            r_gamma=shown,
            se=se,
            band=band,
            tolerance=tol,
            why=why + where,
            windows=windows,
        )

    if np.isfinite(rate) and np.isfinite(rate_se) and rate + 2.0 * rate_se < 0:
        return verdict("not separable", f"{GAMMA_NEGATIVE}; mean gamma over the window {rate:.3g} +- {rate_se:.2g} per iteration.")
    if at_bound:
        return verdict(
            "inconclusive", f"r of Gamma stopped at the fit's bound ({r:g}): {AT_BOUND} (Gamma flat, or not a power law on this window)."
        )
    if label == "inconclusive" and not np.isfinite(band):
        return verdict("inconclusive", f"r of Gamma = {r:.4g} with SE {se:.3g}: not identified on this window (Gamma flat or too noisy).")
    text = f"r of Gamma = {r:.3f} +- {se:.3f} (1 SE), band max(2 SE, tolerance) = {band:.3f}"
    if label == "inconclusive" and band > IMPRECISE_BAND:
        return verdict("inconclusive", (
            f"{text}: the data do not pin r down (the band reaches past {IMPRECISE_BAND:g} either side of 1), so this says "
            "nothing about gamma near 1/t; Gamma barely moves against its noise on this window."
        ))  # fmt: skip
    if label == "inconclusive":
        return verdict("inconclusive", (
            f"{text}: within the band of 1. gamma ~ 1/t (Gamma grows like log t, or approaches a constant only "
            "slowly) is the boundary between the theorem's two cases, which Theorem 3.1 does not decide."
            + _loglog_words(r, band, t_mid)
        ))  # fmt: skip
    others = [w for w in windows if w.label != label]
    if others:
        return verdict("inconclusive", (
            f"{text}: '{label}' on the deciding window, but not on every window ({len(others)} of {len(windows)} "
            "say otherwise): the answer depends on the window, so no label."
        ))  # fmt: skip
    if label == "separable":
        return verdict("separable", f"{text}: below 1 beyond the band on every window, gamma = omega(1/t).")
    return verdict("not separable", f"{text}: above 1 beyond the band on every window, gamma = o(1/t)." + _loglog_words(r, band, t_mid))


# ----------------------------------------------------------------------------- public


def tail_index(
    values: ArrayLike,
    *,
    times: ArrayLike,
    window: tuple[float, float] | None = None,
    last: float = 1000.0,
    bins: int = 40,
    r_bounds: tuple[float, float] = (-1.0, 10.0),
    replicates: ArrayLike | None = None,
) -> TailIndex:
    """Tail index of one integrated series (``A``, ``B`` or ``Gamma``); see the module notes.

    Parameters
    ----------
    values : array_like of shape (T,)
        The integral, e.g. ``Ahat(t)``; non-finite records are skipped.
    times : array_like of shape (T,)
        Iterations of the records, ``>= 0`` and strictly increasing (any spacing).
    window : (float, float), optional
        Fit window ``[t1, t2]`` in iterations, inclusive; it must hold at least 5 records.
        Default ``[T/10, T]`` with ``T = times[-1]``.
    last : float
        Span in iterations of the authors' ``r_hat`` window, ``t > T - last``.
    bins : int
        Log-time bins of the fit window (records are used one by one when fewer).
    r_bounds : (float, float)
        Search interval of ``r``, containing 1.
    replicates : array_like of shape (G, T), optional
        The same series recomputed with each of ``G >= 3`` groups of trials left out: the
        standard errors are their jackknife. Without them, a time-series SE (``se_method``).

    Returns
    -------
    TailIndex

    Examples
    --------
    ``F = 2 f_r(t)`` with ``r = 1/2`` (no noise) gives back ``r`` and the amplitude ``c = 2``:

    >>> t = np.arange(0.0, 10001.0, 10.0)
    >>> F = 2 * (np.sqrt(1 + t) - 1) / 0.5
    >>> index = tail_index(F, times=t)
    >>> round(index.r_slope, 4), round(index.amplitude, 4), index.window
    (0.5, 2.0, (1000.0, 10000.0))
    >>> bool(index.r_slope_se < 1e-6), index.n_bins, index.groups
    (True, 40, 0)

    ``r = 2``: ``F`` saturates, and the fit finds its limit:

    >>> index = tail_index(5 - 2 / (1 + t), times=t)
    >>> round(index.r_slope, 4), round(index.limit, 4)
    (2.0, 5.0)
    """
    v = check_series(values, "values")
    t = _check_times(times, v.size)
    lo, hi = _check_window(window, t)
    nb, r_lo, r_hi, span = _check_options(bins, r_bounds, last)
    reps = _check_replicates(replicates, v.size, "replicates")
    return _Fitter(t, lo, hi, bins=nb, r_lo=r_lo, r_hi=r_hi, span=span).index(v, reps)


def default_windows(times: ArrayLike, *, fractions: Sequence[float] = DEFAULT_WINDOW_FRACTIONS) -> list[tuple[float, float]]:
    """The verdict's windows ``[f T, T]`` for each fraction ``f`` (``T`` the last time), in iterations.

    Examples
    --------
    >>> default_windows([0.0, 500.0, 1000.0])
    [(50.0, 1000.0), (100.0, 1000.0), (200.0, 1000.0)]
    """
    t = as_float_array(times, "times", ndim=1)
    return [(float(f * t[-1]), float(t[-1])) for f in fractions]


def gamma_integral(A_hat: ArrayLike, B_hat: ArrayLike, *, model: str, K: int) -> GammaIntegral:
    """Theorem 3.1's ``Gamma(t)``, the pointwise minimum of the model's two modes.

    Parameters
    ----------
    A_hat, B_hat : array_like of shape (T,)
        Estimated integrals ``A(t)``, ``B(t)``.
    model : {'I', 'L'}
        I-model modes ``A - B`` and ``A + (K-1) B``; L-model modes ``A - B`` (the ``S``
        mode) and ``A + B/(K-1)`` (the ``q`` mode).
    K : int
        Number of classes, ``>= 2``.

    Returns
    -------
    GammaIntegral

    Examples
    --------
    >>> g = gamma_integral([0.0, 1.0, 2.0], [0.0, 0.5, -1.0], model="I", K=3)
    >>> g.mode_names
    ('A - B', 'A + 2 B')
    >>> g.modes
    array([[0. , 0.5, 3. ],
           [0. , 2. , 0. ]])
    >>> g.values
    array([0. , 0.5, 0. ])
    """
    A = check_series(A_hat, "A_hat")
    B = check_series(B_hat, "B_hat", A.size)
    check_choice(model, "model", ("I", "L"))
    K = check_int(K, "K", low=2)
    return _gamma(A, B, model, K)


def _gamma(A: np.ndarray, B: np.ndarray, model: str, K: int) -> GammaIntegral:
    """Modes along the last axis of ``A``, ``B`` (shape (..., T)); values of the same shape."""
    if model == "I":
        second, name = A + (K - 1) * B, f"A + {K - 1} B" if K > 2 else "A + B"
        text = f"Gamma = min(A - B, A + (K-1) B) pointwise (I-model, Theorem 3.1; K = {K})"
    else:
        second, name = A + B / (K - 1), f"A + B/{K - 1}" if K > 2 else "A + B"
        text = f"Gamma = min(A - B, A + B/(K-1)) pointwise (L-model modes S and q; K = {K})"
    modes = np.stack([A - B, second])
    return GammaIntegral(values=np.minimum(modes[0], modes[1]), modes=modes, mode_names=("A - B", name), definition=text)


def tail_indices(
    A_hat: ArrayLike,
    B_hat: ArrayLike,
    *,
    times: ArrayLike,
    model: str,
    K: int,
    window: tuple[float, float] | None = None,
    windows: Sequence[tuple[float, float]] | None = None,
    last: float = 1000.0,
    bins: int = 40,
    r_bounds: tuple[float, float] = (-1.0, 10.0),
    tolerance: float = 0.05,
    replicates: tuple[ArrayLike, ArrayLike] | None = None,
) -> TailIndices:
    """Tail indices of ``A``, ``B`` and Theorem 3.1's ``Gamma``, and the verdict over windows.

    Parameters
    ----------
    A_hat, B_hat : array_like of shape (T,)
        Estimated integrals; non-finite records are skipped.
    times : array_like of shape (T,)
        Iterations of the records, ``>= 0`` and strictly increasing (any spacing).
    model : {'I', 'L'}
        Which model's modes make Gamma (see :func:`gamma_integral`).
    K : int
        Number of classes, ``>= 2``.
    window : (float, float), optional
        The deciding window in iterations; default ``[T/10, T]``.
    windows : sequence of (float, float), optional
        The other windows the verdict is checked on; default :func:`default_windows`
        (``[T/20, T]``, ``[T/10, T]``, ``[T/5, T]``); those with fewer than 5 records are
        skipped. The deciding window is always among them.
    last : float
        Span in iterations of the authors' ``r_hat`` window.
    bins : int
        Log-time bins of each window.
    r_bounds : (float, float)
        Search interval of ``r``.
    tolerance : float
        Smallest half-width of the verdict's inconclusive band around 1.
    replicates : (array_like, array_like) of shape (G, T) each, optional
        Leave-one-group-out ``A_hat`` and ``B_hat`` (each group of trials left out in turn,
        ``G >= 3``): jackknife standard errors. Without them, time-series SEs.

    Returns
    -------
    TailIndices

    Examples
    --------
    ``A = 3 f_r``, ``B = f_r`` with ``r = 1/2``: Gamma is ``A - B = 2 f_r``, separable on every window:

    >>> t = np.arange(0.0, 10001.0, 10.0)
    >>> f = (np.sqrt(1 + t) - 1) / 0.5
    >>> res = tail_indices(3 * f, f, times=t, model="I", K=3)
    >>> round(res.Gamma.r_slope, 4), res.verdict.label, res.gamma_mode_share
    (0.5, 'separable', 1.0)
    >>> [w.window for w in res.verdict.windows]
    [(500.0, 10000.0), (1000.0, 10000.0), (2000.0, 10000.0)]
    """
    A = check_series(A_hat, "A_hat")
    B = check_series(B_hat, "B_hat", A.size)
    t = _check_times(times, A.size)
    check_choice(model, "model", ("I", "L"))
    K = check_int(K, "K", low=2)
    lo, hi = _check_window(window, t)
    nb, r_lo, r_hi, span = _check_options(bins, r_bounds, last)
    tol = check_real(tolerance, "tolerance", low=0.0, high=0.5)
    reps_A: np.ndarray | None = None
    reps_B: np.ndarray | None = None
    reps_G: np.ndarray | None = None
    gamma = _gamma(A, B, model, K)
    if replicates is not None:
        try:
            raw_A, raw_B = replicates
        except (TypeError, ValueError):
            raise InvalidArgument("replicates", "must be a pair (A replicates, B replicates) of shape (G, T) each") from None
        reps_A = _replicates(raw_A, A.size, "replicates")
        reps_B = _replicates(raw_B, A.size, "replicates")
        if reps_A.shape != reps_B.shape:
            raise InvalidArgument("replicates", f"A and B replicates differ in shape: {reps_A.shape} and {reps_B.shape}")
        # Each replicate takes the mode the full data found smaller at each record: a pointwise
        # minimum re-taken per replicate is not smooth where the modes run close (it made the
        # jackknife overstate the spread by a third on equal modes)
        rep_modes = _gamma(reps_A, reps_B, model, K).modes  # (2, G, T)
        reps_G = np.where(gamma.modes[0] <= gamma.modes[1], rep_modes[0], rep_modes[1])
    options = _FitOptions(bins=nb, r_lo=r_lo, r_hi=r_hi, span=span)
    deciding = _Fitter(t, lo, hi, **options)
    fits = [deciding.index(v, reps) for v, reps in ((A, reps_A), (B, reps_B), (gamma.values, reps_G))]
    g = fits[2]
    checked = _window_indices(t, deciding, g, gamma.values, reps_G, windows, tol, options)
    inside = deciding.inside & np.isfinite(gamma.values)
    share = float(np.mean(gamma.modes[0, inside] <= gamma.modes[1, inside])) if inside.any() else float("nan")
    if np.isfinite(share):
        definition = f"{gamma.definition}; {gamma.mode_names[0]} is the smaller mode on {100 * share:.0f}% of the window's records"
    else:
        definition = f"{gamma.definition}; no finite record in the window"
    r_hats = np.array([fits[0].r_hat, fits[1].r_hat])
    r_min = float(np.nanmin(r_hats)) if np.isfinite(r_hats).any() else float("nan")
    t_mid = math.expm1(0.5 * (math.log1p(g.window[0]) + math.log1p(g.window[1])))
    verdict = separability_verdict(
        g.r_slope, se=g.r_slope_se, tolerance=tol, rate=g.rate_mean, rate_se=g.rate_mean_se, at_bound=g.at_bound,
        windows=checked, t_mid=t_mid,
    )  # fmt: skip
    return TailIndices(
        A=fits[0], B=fits[1], Gamma=g, r_min_alpha_beta=r_min, model=model, K=K,
        gamma_definition=definition, gamma_mode_share=share, verdict=verdict,
    )  # fmt: skip


def _window_indices(
    t: np.ndarray, deciding: _Fitter, g: TailIndex, values: np.ndarray, reps: np.ndarray | None,
    windows: Sequence[tuple[float, float]] | None, tol: float, options: _FitOptions,
) -> tuple[WindowIndex, ...]:  # fmt: skip
    """Gamma's ``r`` on every checked window (the deciding one reused), sorted by start."""
    wanted = default_windows(t) if windows is None else list(windows)
    out = [_as_window(g, tol, deciding=True)]
    seen = {deciding.window}
    for i, raw in enumerate(wanted):
        try:
            lo, hi = _check_window(raw, t, f"windows[{i}]")
        except InvalidArgument:
            if windows is not None:
                raise
            continue  # a default window too short for this run: skipped
        fitter = _Fitter(t, lo, hi, **options)
        if fitter.window in seen:
            continue
        seen.add(fitter.window)
        out.append(_as_window(fitter.index(values, reps), tol, deciding=False))
    return tuple(sorted(out, key=lambda w: w.window[0]))


def _as_window(index: TailIndex, tol: float, *, deciding: bool) -> WindowIndex:
    label, _ = _side(index.r_slope, index.r_slope_se, tol, index.at_bound)
    return WindowIndex(window=index.window, r=index.r_slope, se=index.r_slope_se, at_bound=index.at_bound, label=label, deciding=deciding)

"""Drift-regression estimator of alpha, beta over a window of iterations (ours, not in the paper).

The model. Per iteration the class means obey the discrete LE dynamics
``Xbar(s+1) - Xbar(s) = alpha X1(s) + beta X2(s)`` (eq. 4 in expectation, times in
iterations) with the regressors

* ``X1^k = pi_k H_k Xbar^k`` (the diagonal blocks of the drift),
* ``X2^k = sum_{l != k} pi_l H_l Xbar^l`` (the off-diagonal blocks),

(``pi = 1/K`` balanced; I-model ``H_l = I``, L-model ``H_l = d_l d_l^T / |d_l|^2``). Summing
over ``H`` iterations, with ``alpha``, ``beta`` constant over the window,

    Xbar(t+H) - Xbar(t) = alpha sum_{s=t}^{t+H-1} X1(s) + beta sum_{s=t}^{t+H-1} X2(s).

Why not one-step increments. The per-iteration ``Xbar`` of a sampled stream is the mean
over trials of the logits of the points each trial happened to draw, so it carries an
independent error ``eps_t`` of the order of the within-class spread over sqrt(trials). In a
regression of ``Xbar(t+1) - Xbar(t)`` on ``Xbar(t)`` the response holds ``-eps_t`` and the
regressor ``+eps_t``: an errors-in-variables bias of about ``-K Var(eps) / E|H Xbar|^2`` in
each coefficient, which on realistic data exceeds the rates themselves and flips their
signs. Here the series is first smoothed by a centred moving average over ``w`` iterations
(which the LE dynamics commute with: for constant rates the smoothed means obey the same
linear recursion), then increments over ``H >= 2 (w - 1)`` iterations are regressed on the
integrated regressors. The noise then enters the response as ``eps_s(t+H) - eps_s(t)``
(variance ``2 Var(eps) / w``) against a regressor of size ``H |H Xbar| / K``, and the
shared part cancels between the two ends of the sum; the remaining bias is about
``-K Var(eps) / (w H^2 E|H Xbar|^2)``, negligible. The model's own fluctuations ``nu`` (which
class each trial draws) sit in the response and, through the later records, in the
regressor too: a bias of about ``K Var(nu) / (2 E|H Xbar|^2)``, small as long as one step
moves the means little compared with their size.

Records. The means may be recorded every ``h`` iterations (``times`` equally spaced). ``w``
becomes the odd number of records within ``+- w / 2`` iterations, ``H`` must be a multiple
of ``h``, and the per-iteration sum is computed from the records by the trapezoid rule with
its Euler-Maclaurin end term, ``sum_{s=t}^{t+H-1} f(s) ~ h sum_r' f(r) - (f(t+H) - f(t)) / 2``
(``sum_r'``: trapezoid weights over the records in ``[t, t+H]``); for ``h = 1`` that is the
sum itself, for larger ``h`` its error is ``(h^2 - 1) / 12`` times the change of ``f'``
(relative error ``(h^2 - 1) lambda^2 / 12`` for a mode growing at ``lambda`` per iteration).
With ``continuous=True`` the times are those of the LE-ODE (eq. 6; e.g. a simulated LE-SDE
with step 0.01) and the increment is the integral ``int_t^{t+H} (alpha X1 + beta X2)``,
taken by the plain trapezoid rule; rates are then per unit of time.

Weights. Each increment's ``K p`` equations are divided by ``rms(Xbar_s(t))``, a weighted
least squares that keeps exponentially growing means from letting the last increments of
the window decide alone (the model's own fluctuations grow with the means).

Standard errors. Increments are taken at every record of the window, so they overlap and
their errors are correlated up to a lag of ``H + w`` iterations. The coefficient covariance
is the sandwich ``Q^-1 S Q^-1`` (``Q = sum_t X_t^T X_t``) with ``S``, the variance of the
summed scores ``g_t = X_t^T e_t`` (``N`` of them, summing to zero), estimated by overlapping
batch means: with ``G_j`` the sum of ``b`` consecutive scores (``b`` records spanning
``H + w`` iterations, beyond which the scores are independent),
``S = N^2 / (b (N - b + 1) (N - b)) sum_j G_j G_j^T``. The number of independent blocks
``B = N // b`` is reported; overlapping batches give the SE about 1.5 B degrees of freedom
instead of B - 1 for disjoint ones, which matters with the few blocks a window holds. The
observation noise enters the increments at ``t`` and ``t + H`` with opposite signs, a
negative correlation at lag ``H`` that a batch of length ``H + w`` only partly sees, so the
SE errs on the large side for that part of the error.

Reliability. An estimate is marked reliable when it has at least ``min_blocks`` blocks and
``alpha_se <= max_rel_se |alpha|``; a caller should not show an unreliable ``alpha`` as a
number. The rates are per iteration whatever the record spacing (per unit time with
``continuous=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np
from numpy.typing import ArrayLike
from scipy.ndimage import uniform_filter1d

from .._validation import as_float_array, check_choice, check_int, check_real
from ..dynamics.interaction import Model, class_transforms, normalise_weights
from ..errors import InvalidArgument
from ._common import check_means

__all__ = ["DriftFit", "DriftSeries", "drift_regression", "drift_regression_series"]

UNIT = "per iteration"
UNIT_CONTINUOUS = "per unit time"


@dataclass(frozen=True)
class _DriftSettings:
    """How a fit was made, the same for one window and for a series of them (see :class:`DriftFit`)."""

    model: str
    smooth: float
    smooth_records: int
    horizon: float
    spacing: float
    unit: str


class _SettingsFields(TypedDict):
    """The fields of :class:`_DriftSettings`, as keywords."""

    model: str
    smooth: float
    smooth_records: int
    horizon: float
    spacing: float
    unit: str


@dataclass(frozen=True)
class DriftFit(_DriftSettings):
    """One drift-regression fit over a window of iterations.

    Attributes
    ----------
    alpha, beta : float
        Intra- and inter-class elasticity, per iteration (NaN if the regressors are
        collinear in the window).
    alpha_se, beta_se : float
        Standard errors (overlapping batch means, see the module notes).
    model : str
        ``'I'`` or ``'L'``.
    start, end : float
        Times (iterations) of the first and last record the fit uses.
    smooth : float
        Width of the moving average actually used, ``smooth_records * h`` iterations.
    smooth_records : int
        Records averaged (odd; 1 is no smoothing).
    horizon : float
        Increment length ``H`` in iterations.
    spacing : float
        Iterations between records ``h``.
    increments : int
        Overlapping increments regressed.
    blocks : int
        Independent blocks behind the standard errors.
    reliable : bool
        ``blocks >= min_blocks`` and ``alpha_se <= max_rel_se |alpha|``.
    reason : str
        Why the fit is not reliable (empty when it is).
    unit : str
        ``'per iteration'`` (``'per unit time'`` with ``continuous=True``).
    """

    alpha: float
    beta: float
    alpha_se: float
    beta_se: float
    start: float
    end: float
    increments: int
    blocks: int
    reliable: bool
    reason: str


@dataclass(frozen=True)
class DriftSeries(_DriftSettings):
    """Drift-regression fits on consecutive non-overlapping windows.

    Attributes
    ----------
    times : ndarray of shape (W,)
        Window centres (iterations), increasing.
    start, end : ndarray of shape (W,)
        First and last record time of each window.
    alpha, beta, alpha_se, beta_se : ndarray of shape (W,)
        Per-iteration estimates and standard errors, as in :class:`DriftFit`.
    blocks : ndarray of shape (W,)
        Independent blocks per window.
    reliable : ndarray of shape (W,)
        Boolean, as in :class:`DriftFit`.
    span : float
        Window length in iterations (last record minus first record plus ``h``).
    model, smooth, smooth_records, horizon, spacing, unit
        As in :class:`DriftFit`.
    """

    times: np.ndarray
    start: np.ndarray
    end: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    alpha_se: np.ndarray
    beta_se: np.ndarray
    blocks: np.ndarray
    reliable: np.ndarray
    span: float


@dataclass(frozen=True)
class _Setup:
    t: np.ndarray  # (T,) times
    x: np.ndarray  # (T, K, p) class means
    Hl: np.ndarray | None  # (K, p, p) transforms, None for the I-model
    pi: np.ndarray  # (K,)
    h: float
    half: int  # records on each side of the moving average
    H: int  # horizon in records
    model: str
    continuous: bool

    @property
    def unit(self) -> str:
        return UNIT_CONTINUOUS if self.continuous else UNIT

    @property
    def batch(self) -> int:
        """Records per independent batch: an increment's noise reaches ``H + 2 half`` records."""
        return self.H + 2 * self.half

    @property
    def usable(self) -> tuple[int, int]:
        """Records whose moving average lies inside the data."""
        return self.half, self.t.size - 1 - self.half

    def records_for(self, blocks: int) -> int:
        """Records a window needs for ``blocks`` batches of increments."""
        return blocks * self.batch + self.H

    def settings(self) -> _SettingsFields:
        """The :class:`_DriftSettings` fields of every result fitted on this setup."""
        return _SettingsFields(model=self.model, smooth=(2 * self.half + 1) * self.h, smooth_records=2 * self.half + 1,
                               horizon=self.H * self.h, spacing=self.h, unit=self.unit)  # fmt: skip

    def smoothed(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Moving averages of records ``lo..hi`` (usable) and their transforms, each (n, K, p)."""
        n, half = hi - lo + 1, self.half
        seg = self.x[lo - half : hi + half + 1]
        xs = uniform_filter1d(seg, size=2 * half + 1, axis=0)[half : half + n] if half else seg
        z = xs if self.Hl is None else np.einsum("lpq,tlq->tlp", self.Hl, xs)
        return xs, z


def _setup(
    xbar: ArrayLike, times: ArrayLike, model: Model, smooth: float, horizon: float, weights: ArrayLike | None, continuous: bool,
) -> _Setup:  # fmt: skip
    x = check_means(xbar, model=model, finite=True)
    T, K, p = x.shape
    t = as_float_array(times, "times", ndim=1, finite=True)
    if t.size != T:
        raise InvalidArgument("times", f"must have shape ({T},) like axis 0 of xbar; got {t.shape}")
    h = (t[-1] - t[0]) / (T - 1)
    if not h > 0 or np.max(np.abs(np.diff(t) - h)) > 1e-6 * h:
        raise InvalidArgument("times", "must be increasing and equally spaced (iterations)")
    if not continuous and h < 1 - 1e-9:
        raise InvalidArgument("times", f"must count iterations, spaced by at least 1; got spacing {h:g} (continuous=True for ODE time)")
    w = check_real(smooth, "smooth", low=0.0)
    H_it = check_real(horizon, "horizon", low=0.0, low_open=True)
    H = int(round(H_it / h))
    if H < 1 or abs(H * h - H_it) > 1e-6 * h:
        raise InvalidArgument("horizon", f"must be a positive multiple of the record spacing {h:g} iterations; got {H_it:g}")
    half = int(np.floor(w / (2 * h) + 1e-9))
    if H < 4 * half:
        raise InvalidArgument(
            "horizon",
            f"must be at least twice the smoothing width, >= {4 * half * h:g} iterations for smooth = {w:g}; got {H_it:g}",
        )
    pi = normalise_weights(weights, K)
    Hl = None if model == "I" else class_transforms(model, K, p)
    return _Setup(t=t, x=x, Hl=Hl, pi=pi, h=h, half=half, H=H, model=model, continuous=bool(continuous))


def _fit(s: _Setup, lo: int, hi: int, normalise: bool) -> tuple[float, float, float, float, int, int]:
    """Fit on records ``lo..hi`` (inclusive, usable). Returns alpha, beta, SEs, increments, blocks."""
    H, h = s.H, s.h
    xs, z = s.smoothed(lo, hi)
    N = xs.shape[0] - H
    c = np.concatenate((np.zeros((1,) + z.shape[1:]), np.cumsum(z, axis=0)))
    total = c[H + 1 :] - c[:N]  # sum of z over records t..t+H, shape (N, K, p)
    if s.continuous:  # the integral over [t, t + H]: trapezoid rule
        R = h * total - 0.5 * h * (z[:N] + z[H:])
    else:  # trapezoid plus the Euler-Maclaurin end term: the sum over iterations t..t+H-1
        R = h * total - 0.5 * (h - 1.0) * z[:N] - 0.5 * (h + 1.0) * z[H:]
    X1 = s.pi[:, None] * R
    X2 = np.einsum("l,tlp->tp", s.pi, R)[:, None, :] - X1
    y = xs[H:] - xs[:N]
    if normalise:
        rms = np.sqrt(np.mean(xs[:N] ** 2, axis=(1, 2)))
        inv = np.where(rms > 0, 1.0 / np.where(rms > 0, rms, 1.0), 1.0)[:, None, None]
        X1, X2, y = X1 * inv, X2 * inv, y * inv
    X = np.stack([X1.reshape(N, -1), X2.reshape(N, -1)], axis=-1)  # (N, K p, 2)
    yv = y.reshape(N, -1)
    Q = np.einsum("tia,tib->ab", X, X)
    blocks = N // s.batch
    try:
        Qi = np.linalg.inv(Q)
    except np.linalg.LinAlgError:
        return np.nan, np.nan, np.nan, np.nan, N, blocks
    coef = Qi @ np.einsum("tia,ti->a", X, yv)
    if not np.all(np.isfinite(coef)):
        return np.nan, np.nan, np.nan, np.nan, N, blocks
    e = yv - X @ coef
    g = np.einsum("tia,ti->ta", X, e)  # scores, shape (N, 2); they sum to zero
    b = s.batch
    c = np.concatenate((np.zeros((1, 2)), np.cumsum(g, axis=0)))
    G = c[b:] - c[:-b]  # sums over every batch of b consecutive scores, shape (N - b + 1, 2)
    S = N**2 / (b * (N - b + 1) * (N - b)) * (G.T @ G)
    se = np.sqrt(np.maximum(np.diag(Qi @ S @ Qi), 0.0))
    return float(coef[0]), float(coef[1]), float(se[0]), float(se[1]), N, blocks


def _verdict(alpha: float, alpha_se: float, blocks: int, min_blocks: int, max_rel_se: float) -> tuple[bool, str]:
    if not (np.isfinite(alpha) and np.isfinite(alpha_se)):
        return False, "regressors collinear in the window (alpha, beta not identified)"
    if blocks < min_blocks:
        return False, f"only {blocks} independent blocks (< {min_blocks}): the standard error is itself unreliable"
    if alpha_se > max_rel_se * abs(alpha):
        return False, f"alpha_se = {alpha_se:.3g} exceeds {max_rel_se:g} |alpha| = {max_rel_se * abs(alpha):.3g}"
    return True, ""


def _checks(model: str, normalise: bool, continuous: bool, min_blocks: int, max_rel_se: float) -> tuple[Model, int, float]:
    checked: Model = check_choice(model, "model", ("I", "L"))
    for name, flag in (("normalise", normalise), ("continuous", continuous)):
        if not isinstance(flag, (bool, np.bool_)):
            raise InvalidArgument(name, f"must be True or False; got {flag!r}")
    min_blocks = check_int(min_blocks, "min_blocks", low=2)
    max_rel_se = check_real(max_rel_se, "max_rel_se", low=0.0, low_open=True)
    return checked, min_blocks, max_rel_se


def _default_records(s: _Setup, min_blocks: int) -> int:
    """The last 10 % of the run, extended to hold ``min_blocks`` blocks."""
    return max(int(np.ceil(0.1 * (s.t.size - 1))) + 1, s.records_for(min_blocks))


def _too_short(s: _Setup, name: str, have: int, what: str) -> InvalidArgument:
    need = s.records_for(2)
    return InvalidArgument(
        name,
        f"{what} holds {have} usable records (the {s.half * s.h:g} iterations at each end of the data are "
        f"dropped for the moving average); needs at least {need} records ({need * s.h:g} iterations): two "
        f"blocks of H + w - h = {s.batch * s.h:g} plus H = {s.H * s.h:g} (smooth {(2 * s.half + 1) * s.h:g}, "
        f"spacing h = {s.h:g})",
    )


def drift_regression(
    xbar: ArrayLike, times: ArrayLike, *, model: str = "I", smooth: float = 51, horizon: float = 100,
    window: tuple[float, float] | None = None, weights: ArrayLike | None = None, normalise: bool = True, continuous: bool = False, min_blocks: int = 4, max_rel_se: float = 0.25,
) -> DriftFit:  # fmt: skip
    """Estimate constant alpha, beta (per iteration) over a window from smoothed long increments.

    Parameters
    ----------
    xbar : array_like of shape (T, K, p)
        Class means at equally spaced records (finite).
    times : array_like of shape (T,)
        Iteration of each record, increasing and equally spaced by ``h``.
    model : {'I', 'L'}
        The transform ``H`` (the L-model needs ``p == K``).
    smooth : float
        Width ``w >= 0`` of the centred moving average in iterations: the records within
        ``+- w / 2`` iterations are averaged (``w < 2 h``: no smoothing).
    horizon : float
        Increment length ``H`` in iterations, a multiple of ``h``, at least ``2 (w - h)``
        (twice the distance between the first and last record averaged).
    window : (float, float), optional
        ``(t1, t2)``, the iterations fitted (records ``t1 <= t <= t2``; those within
        ``w / 2`` of either end of the data are dropped). Default: the last 10 % of the
        run, extended back to hold ``min_blocks`` blocks.
    weights : array_like of shape (K,), optional
        Class sampling weights ``pi`` (default balanced).
    normalise : bool
        Divide each increment's equations by ``rms(Xbar_s(t))``.
    continuous : bool
        ``times`` are LE-ODE times, not iterations (see the module notes); every length
        above is then in those units.
    min_blocks : int
        Fewest independent blocks for a reliable fit (``>= 2``).
    max_rel_se : float
        Largest ``alpha_se / |alpha|`` for a reliable fit.

    Returns
    -------
    DriftFit

    Examples
    --------
    Noise-free discrete dynamics (forward Euler with one iteration per step) give back the
    rates exactly:

    >>> from lesde_analyzer.dynamics import simulate_ode
    >>> run = simulate_ode([[[1.0], [0.5]]], alpha=0.01, beta=0.002, step=1.0, steps=400)
    >>> fit = drift_regression(run.means[:, 0], run.times, smooth=0, horizon=10)
    >>> round(fit.alpha, 6), round(fit.beta, 6), fit.reliable, fit.blocks
    (0.01, 0.002, True, 4)
    >>> fit.start, fit.end, fit.unit
    (351.0, 400.0, 'per iteration')
    """
    checked, min_blocks, max_rel_se = _checks(model, normalise, continuous, min_blocks, max_rel_se)
    s = _setup(xbar, times, checked, smooth, horizon, weights, continuous)
    first, last = s.usable
    if window is None:
        lo = max(first, last - _default_records(s, min_blocks) + 1)
        hi = last
        what = "the run"
    else:
        w = as_float_array(window, "window", ndim=1, finite=True)
        if w.size != 2 or not w[0] < w[1]:
            raise InvalidArgument("window", f"must be (t1, t2) with t1 < t2 in iterations; got {window!r}")
        eps = 1e-9 * s.h
        lo = max(first, int(np.searchsorted(s.t, w[0] - eps, side="left")))
        hi = min(last, int(np.searchsorted(s.t, w[1] + eps, side="right")) - 1)
        what = f"window ({w[0]:g}, {w[1]:g})"
    have = max(hi - lo + 1, 0)
    if have < s.records_for(2):
        raise _too_short(s, "window" if window is not None else "xbar", have, what)
    a, b, sa, sb, n, blocks = _fit(s, lo, hi, bool(normalise))
    ok, reason = _verdict(a, sa, blocks, min_blocks, max_rel_se)
    return DriftFit(
        **s.settings(), alpha=a, beta=b, alpha_se=sa, beta_se=sb, start=float(s.t[lo]), end=float(s.t[hi]),
        increments=n, blocks=blocks, reliable=ok, reason=reason,
    )  # fmt: skip


def drift_regression_series(
    xbar: ArrayLike, times: ArrayLike, *, model: str = "I", smooth: float = 51, horizon: float = 100,
    span: float | None = None, weights: ArrayLike | None = None, normalise: bool = True, continuous: bool = False, min_blocks: int = 4, max_rel_se: float = 0.25,
) -> DriftSeries:  # fmt: skip
    """The fit of :func:`drift_regression` on consecutive non-overlapping windows.

    Windows of ``span`` iterations tile the usable records backwards from the end of the
    run (the last window is the default window of :func:`drift_regression` when ``span``
    is left at its default); an incomplete first window is dropped. Each estimate is
    placed at its window's centre.

    Parameters
    ----------
    xbar : array_like of shape (T, K, p)
    times : array_like of shape (T,)
    model, smooth, horizon, weights, normalise, continuous, min_blocks, max_rel_se
        As in :func:`drift_regression`.
    span : float, optional
        Window length in iterations (rounded down to whole records). Default: 10 % of
        the run, at least ``min_blocks`` blocks.

    Returns
    -------
    DriftSeries
        Arrays of shape (W,), ``W >= 1``.

    Examples
    --------
    >>> from lesde_analyzer.dynamics import simulate_ode
    >>> run = simulate_ode([[[1.0], [0.5]]], alpha=0.01, beta=0.002, step=1.0, steps=400)
    >>> series = drift_regression_series(run.means[:, 0], run.times, smooth=0, horizon=10, span=100)
    >>> series.times
    array([ 50.5, 150.5, 250.5, 350.5])
    >>> np.round(series.alpha, 6), np.round(series.beta, 6)
    (array([0.01, 0.01, 0.01, 0.01]), array([0.002, 0.002, 0.002, 0.002]))
    """
    checked, min_blocks, max_rel_se = _checks(model, normalise, continuous, min_blocks, max_rel_se)
    s = _setup(xbar, times, checked, smooth, horizon, weights, continuous)
    first, last = s.usable
    if span is None:
        n = _default_records(s, min_blocks)
    else:
        n = int(np.floor(check_real(span, "span", low=0.0, low_open=True) / s.h + 1e-9))
    n = min(n, last - first + 1)
    if n < s.records_for(2):
        raise _too_short(s, "span", n, "a window of span" if span is not None else "the run")
    his = np.arange(last, first + n - 2, -n)[::-1]
    fits = [_fit(s, hi - n + 1, hi, bool(normalise)) for hi in his]
    a, b, sa, sb, _, blocks = (np.array(v) for v in zip(*fits))
    ok = np.array([_verdict(*args, min_blocks, max_rel_se)[0] for args in zip(a, sa, blocks)], dtype=bool)
    start, end = s.t[his - n + 1], s.t[his]
    return DriftSeries(
        **s.settings(), times=0.5 * (start + end), start=start, end=end, alpha=a, beta=b, alpha_se=sa, beta_se=sb,
        blocks=blocks.astype(int), reliable=ok, span=n * s.h,
    )  # fmt: skip

"""LE-ODE imitation of genuine class-mean dynamics (Figure 5), any K.

Given genuine class means ``Xbar`` (T, K, p) recorded at times ``t_i`` spaced by ``h``
iterations, and rates ``alpha-hat``, ``beta-hat`` per iteration at the records:

1. **Start from the genuine state.** Each of the first ``w`` records (``w`` odd) is carried
   to the window's centre ``t_c``, record ``(w-1)/2``, by the exact LE-ODE flow with the
   given rates (:func:`.exact.transport_to`), and the carried records are averaged: for
   records of an LE-ODE with these rates every carried record is the state at ``t_c``, so
   the average only removes noise. A plain window mean would be biased wherever the
   window spans growth: a mode growing by ``g`` e-folds across it averages to
   ``sinh(g/2)/(g/2)`` times its centre value (``1 + g^2/24`` for small ``g``; 1.9 at
   ``g = 4``, which 1% of a run reaches when the rates start high and fall fast), and
   every later record inherits that factor. Assigning the average to the window's first
   time instead would shift the whole run by half a window. The simulation starts at
   ``t_c`` and is compared with the data from there on.
2. **Ensemble.** Runs start from ``N(Xbar^k(t_c), SE_k^2 I)``, ``SE_k`` the standard error of
   that class mean (given, or estimated from the spread of the carried records). The LE-ODE is linear, so the mean
   over runs is the solution from the mean start and the covariance is the linear image of
   the initial one: both are computed exactly (:mod:`.exact`), the mean without Monte-Carlo
   noise. A sampled-run path is kept for checks (``runs=N``).
3. **Exact step.** On ``[t_i, t_i + h]`` the rates are held constant and the LE-ODE is
   solved exactly (every mode multiplied by ``exp(lambda h)``), for the L-model
   (``H_l = d_l d_l^T / |d_l|^2``, logits) or the I-model (``H = I``). The constant is the
   mean of the rates at records ``i`` and ``i+1`` (the trapezoid rule for the rate's
   integral over the interval), or on request the rate at record ``i``; the latter is
   first order and overshoots a falling rate by ``h (lambda_start - lambda_end) / 2`` in
   each mode's exponent.
4. **No rescaling.** Reported: ``nrmse`` over ``(t >= t_c, k, j)`` and per class, logit-order
   agreement per class at the end, and the share of each class's centred end-logit energy
   orthogonal to ``d_k`` (:mod:`.metrics`), both on a mean over the last ``w`` records.

The authors' procedure (:func:`imitate_authors`) is kept, labelled, for their Figure 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_choice, check_int, check_real
from ..errors import InvalidArgument
from ..estimation.integrals import estimate_integrals
from ..estimation.rates import savgol_rates
from .ensemble import initial_states, le_ode_ensemble
from .exact import exact_moments, exact_runs, transport_to
from .fit_quality import _orthogonal_share, nrmse, same_order

__all__ = ["Imitation", "imitate", "imitate_authors", "imitate_from_means", "default_window"]

EXACT = "exact LE-ODE from the genuine start (window mean at its centre), no rescaling"
AUTHORS = (
    "authors' procedure (Figure 5): runs from N(0, (|Xbar^k(0)|/sqrt K)^2), forward Euler, "
    "mean rescaled by a signed factor fitted to the data; ill-posed, kept for comparison"
)


@dataclass(frozen=True)
class Imitation:
    """Result of an LE-ODE imitation.

    Attributes
    ----------
    procedure : str
        What was run (:data:`EXACT` or :data:`AUTHORS`); ``step_kind`` and ``scale`` say it too.
    model : str
        The simulated LE-ODE, ``'L'`` or ``'I'``.
    times : ndarray of shape (T,)
        Record times (iterations).
    mean, std : ndarray of shape (T, K, p)
        Simulated mean and std over runs per (record, class, logit); NaN before ``start``.
        For the exact procedure with ``runs=None`` the mean is the deterministic solution
        from the start state and the std the exactly propagated spread.
    alpha, beta : ndarray of shape (T,)
        The rates given, per iteration at the records.
    interval_rate : str
        How a record interval's constant rate was formed from them: ``'trapezoid'`` (the
        mean of its two end records), ``'left'`` (its first record) or, for the authors'
        procedure, ``'euler'`` (the first record, forward Euler).
    start : int
        Index of the record where the simulation starts (the start window's centre).
    t0 : float
        Its time (iterations).
    start_window, end_window : int
        Records averaged into the start state and into the end state of the end metrics.
    initial_se : ndarray of shape (K,)
        Per-class std of the initial runs around the start state (the authors' procedure:
        of their draws around 0).
    step : float
        ``h``, iterations between records.
    step_kind : str
        ``'exact'`` (matrix exponential per interval) or ``'euler'`` (the authors').
    runs : int or None
        Sampled runs; None: the exact ensemble distribution (no sampling).
    scale : float
        Factor applied to the simulation: 1 for the exact procedure, the authors' signed
        fitted factor otherwise.
    nrmse : float
        ``sqrt(mean (mean - Xbar)^2) / sqrt(mean Xbar^2)`` over records ``>= start``, all
        classes and logits with finite ``Xbar``.
    nrmse_per_class : ndarray of shape (K,)
    order_agrees : ndarray of shape (K,), bool
        Per class: the order of the logits in the end window agrees (genuine ties excepted).
    all_orders_agree : bool
    orthogonal_share : ndarray of shape (K,)
        Per class, the share of the centred genuine end-window logit energy orthogonal to
        ``d_k`` (NaN unless ``p = K``).
    nrmse_hold : float
        ``nrmse`` of the trivial forecast "hold the start state": the start state (the
        simulation's value at ``t0``) kept constant over the same scored records. A later
        start shortens the horizon and flatters ``nrmse``; it flatters this baseline alike.
    skill : float
        ``1 - nrmse / nrmse_hold``: 1 perfect, 0 no better than holding the start, negative worse.
    scored_share : float
        Share of the records scored, ``(T - start) / T``.
    """

    procedure: str
    model: str
    times: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    interval_rate: str
    start: int
    t0: float
    start_window: int
    end_window: int
    initial_se: np.ndarray
    step: float
    step_kind: str
    runs: int | None
    scale: float
    nrmse: float
    nrmse_per_class: np.ndarray
    order_agrees: np.ndarray
    all_orders_agree: bool
    orthogonal_share: np.ndarray
    nrmse_hold: float
    skill: float
    scored_share: float


def default_window(T: int) -> int:
    """The default start/end window: the odd number nearest 1% of ``T`` records, at least 1.

    Examples
    --------
    >>> default_window(100), default_window(1000), default_window(5000)
    (1, 11, 51)
    """
    return 2 * (T // 200) + 1


# ----------------------------------------------------------------------------- checks


def _check_xbar(xbar: ArrayLike, model: str) -> np.ndarray:
    x = as_float_array(xbar, "xbar", ndim=3, finite=False)
    T, K, p = x.shape
    if T < 2 or K < 2 or p < 1:
        raise InvalidArgument("xbar", f"must have shape (T >= 2, K >= 2, p >= 1); got {x.shape}")
    if model == "L" and p != K:
        raise InvalidArgument("xbar", f"the L-model needs logits, shape (T, K, K); got {x.shape}")
    return x


def _check_times(times: ArrayLike, T: int) -> tuple[np.ndarray, float]:
    t = as_float_array(times, "times", ndim=1)
    if t.size != T:
        raise InvalidArgument("times", f"must have shape ({T},) (one time per record); got {t.shape}")
    h = (t[-1] - t[0]) / (T - 1)
    if not h > 0 or np.max(np.abs(np.diff(t) - h)) > 1e-6 * h:
        raise InvalidArgument("times", "must be increasing and equally spaced (h > 0 iterations between records)")
    return t, float(h)


def _check_rates(alpha_hat: ArrayLike, beta_hat: ArrayLike, T: int) -> tuple[np.ndarray, np.ndarray]:
    a = as_float_array(alpha_hat, "alpha_hat", ndim=1)
    b = as_float_array(beta_hat, "beta_hat", ndim=1)
    if a.size != T or b.size != T:
        raise InvalidArgument("alpha_hat", f"alpha_hat and beta_hat must have shape ({T},); got {a.shape}, {b.shape}")
    return a, b


def _check_window(window: int | None, T: int, name: str) -> int:
    if window is None:
        return default_window(T)
    w = check_int(window, name, low=1, high=T)
    if w % 2 == 0:
        raise InvalidArgument(name, f"must be odd (its mean is assigned to its centre record); got {w}")
    return w


# ----------------------------------------------------------------------------- pieces


def _start_state(x: np.ndarray, w: int, a: np.ndarray, b: np.ndarray, *, step: float, model: str) -> tuple[np.ndarray, np.ndarray]:
    """State at the centre of the first ``w`` records (K, p) and its per-class standard error (K,).

    ``a``, ``b`` (T,) are the interval rates; the records whose every entry is finite are
    carried to the centre by the exact flow and averaged (module docstring, item 1).
    """
    centre = (w - 1) // 2
    whole = np.flatnonzero(np.all(np.isfinite(x[:w]), axis=(1, 2)))
    if whole.size == 0:
        raise InvalidArgument("xbar", f"needs a record whose every class and coordinate is finite among the first {w}")
    carried = transport_to(a[:w], b[:w], x[:w], target=centre, step=step, model=model)[whole]  # (n, K, p)
    n, p = whole.size, x.shape[2]
    mean = carried.mean(axis=0)
    if n < 3:
        return mean, np.zeros(x.shape[1])
    # residuals around a straight line in time, not around the mean: a trend left after the
    # transport (rates slightly off) is not the noise whose size SE must measure
    s = (whole - centre)[:, None, None].astype(np.float64)
    s = s - s.mean()
    dev = carried - mean
    slope = (dev * s).sum(axis=0) / (s**2).sum()
    res = dev - slope * s
    var = (res**2).sum(axis=(0, 2)) / max(n * p - 2 * p, 1)  # per class, pooled over coordinates
    return mean, np.sqrt(var / n)


def _interval_rates(a: np.ndarray, b: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-interval constant rates (T,), entry ``i`` for ``[t_i, t_i + h]`` (the last unused)."""
    if kind == "left":
        return a, b
    return np.append((a[:-1] + a[1:]) / 2, a[-1]), np.append((b[:-1] + b[1:]) / 2, b[-1])


def _end_records(x: np.ndarray, start: int, w: int) -> np.ndarray:
    """Indices of the last ``w`` records at or after ``start`` whose values are all finite."""
    whole = np.flatnonzero(np.all(np.isfinite(x), axis=(1, 2)))
    whole = whole[whole >= start]
    if whole.size == 0:
        raise InvalidArgument("xbar", f"needs at least one fully finite record at or after the start record {start}")
    return whole[-w:]


def _result(
    *,
    procedure: str,
    model: str,
    t: np.ndarray,
    x: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    interval_rate: str,
    start: int,
    w_start: int,
    w_end: int,
    se: np.ndarray,
    h: float,
    kind: str,
    runs: int | None,
    scale: float,
    tol: float,
) -> Imitation:
    """The :class:`Imitation` of a simulated ``mean``, ``std`` (T, K, p) against the genuine ``x``:
    the scores (from record ``start`` on, tie tolerance ``tol``) beside what was run."""
    T, K, p = x.shape
    genuine = x.copy()
    genuine[:start] = np.nan  # records before the start are not simulated, not scored
    overall, per_class = nrmse(np.nan_to_num(mean), genuine)
    hold = np.where(np.arange(T)[:, None, None] >= start, np.nan_to_num(mean[start])[None], 0.0)  # the start state, held
    baseline, _ = nrmse(hold, genuine)
    skill = 1.0 - overall / baseline if baseline > 0 else float("nan")
    end = _end_records(x, start, w_end)
    g_end, s_end = x[end].mean(axis=0), mean[end].mean(axis=0)
    agrees = np.array([same_order(s_end[k], g_end[k], tolerance=tol) for k in range(K)])
    share = _orthogonal_share(g_end) if p == K else np.full(K, np.nan)
    return Imitation(
        procedure=procedure, model=model, times=t, mean=mean, std=std, alpha=a, beta=b, interval_rate=interval_rate,
        start=start, t0=float(t[start]), start_window=w_start, end_window=int(end.size), initial_se=se,
        step=h, step_kind=kind, runs=runs, scale=scale,
        nrmse=overall, nrmse_per_class=per_class, order_agrees=agrees, all_orders_agree=bool(agrees.all()),
        orthogonal_share=share, nrmse_hold=baseline, skill=skill, scored_share=(T - start) / T,
    )  # fmt: skip


# ----------------------------------------------------------------------------- public


def imitate(
    xbar: ArrayLike,
    *,
    times: ArrayLike,
    alpha_hat: ArrayLike,
    beta_hat: ArrayLike,
    model: str = "L",
    start_window: int | None = None,
    first_record: int = 0,
    initial_se: ArrayLike | None = None,
    interval_rate: str = "trapezoid",
    runs: int | None = None,
    seed: int | np.random.Generator | None = 0,
    order_tolerance: float = 1e-3,
) -> Imitation:
    """Imitate genuine class-mean dynamics with the exact LE-ODE (see module docstring).

    Parameters
    ----------
    xbar : array_like of shape (T, K, p)
        Genuine class means (``p = K`` logits for the L-model). NaN entries are left out
        of the metrics; the start window needs a record whose every entry is finite (only
        such records enter the start state).
    times : array_like of shape (T,)
        Record times in iterations, equally spaced by ``h > 0``.
    alpha_hat, beta_hat : array_like of shape (T,)
        Rates per iteration at the records (finite). Those of the start window carry its
        records to its centre; the last entry is not used with ``interval_rate='left'``.
    model : {'L', 'I'}
        The simulated LE-ODE.
    start_window : int, optional
        Odd number of leading records carried by the flow to the window's centre and
        averaged into the start state there (default :func:`default_window`, about 1% of
        the records). The same
        length is used for the end window of the order and orthogonal-share metrics.
    interval_rate : {'trapezoid', 'left'}
        The constant rate on ``[t_i, t_i + h]``: the mean of the rates at records ``i`` and
        ``i+1`` (default; second order, it integrates the rate over the interval), or the
        rate at record ``i``. The left value is first order: for a rate falling from
        ``lambda_0`` to ``lambda_T`` it overshoots every mode by about
        ``h (lambda_0 - lambda_T) / 2`` in the exponent, which is visible at ``h = 10``.
    first_record : int
        Record where the start window begins (default 0, the first). Start where the class
        means stand clear of their noise (:func:`.onset.signal_onset`): the rates are
        derivatives of log-ratios, and the log of a noise-dominated value is biased upward
        (``E log|eps| = log sigma - 0.64`` for Gaussian noise), so rates read from a
        noise-dominated start under-grow a simulation started from the denoised state.
    initial_se : array_like of shape (K,), optional
        Standard error of each class mean at the start. Default: estimated from the start
        window (spread of the carried records around a straight line / sqrt(w); 0 for
        ``w = 1``).
    runs : int, optional
        None (default): the exact ensemble distribution. An integer ``>= 2``: draw that many
        runs and report their sample mean and std (Monte Carlo; for checks).
    seed : int, numpy Generator or None
        For ``runs``.
    order_tolerance : float
        Relative tie tolerance of the logit-order check, in [0, 1].

    Returns
    -------
    Imitation

    Examples
    --------
    Genuine means that are an LE-ODE (its closed form), imitated with its own rates: no
    error, and all the skill there is over holding the start state:

    >>> from lesde_analyzer.dynamics import l_model_solution
    >>> t = np.arange(201.0)
    >>> xbar = l_model_solution(0.02 * t, 0.005 * t, np.diag([2.0, 1.0, 1.0]))
    >>> res = imitate(xbar, times=t, alpha_hat=np.full(t.size, 0.02), beta_hat=np.full(t.size, 0.005))
    >>> res.start, res.start_window, res.t0
    (1, 3, 1.0)
    >>> round(res.nrmse, 6), round(res.skill, 4), res.all_orders_agree
    (0.0, 1.0, True)
    """
    model = check_choice(model, "model", ("L", "I"))
    x = _check_xbar(xbar, model)
    T, K, p = x.shape
    t, h = _check_times(times, T)
    a, b = _check_rates(alpha_hat, beta_hat, T)
    w = _check_window(start_window, T, "start_window")
    interval_rate = check_choice(interval_rate, "interval_rate", ("trapezoid", "left"))
    if runs is not None:
        runs = check_int(runs, "runs", low=2, high=1_000_000)
    tol = check_real(order_tolerance, "order_tolerance", low=0.0, high=1.0)
    f = check_int(first_record, "first_record", low=0, high=T - w)
    ai, bi = _interval_rates(a, b, interval_rate)
    m0, se = _start_state(x[f:], w, ai[f:], bi[f:], step=h, model=model)
    if initial_se is not None:
        se = as_float_array(initial_se, "initial_se", ndim=1)
        if se.shape != (K,) or np.any(se < 0):
            raise InvalidArgument("initial_se", f"must be {K} non-negative numbers (one per class); got {se}")
    start = f + (w - 1) // 2
    if runs is None:
        stats = exact_moments(ai[start:], bi[start:], m0, se=se, step=h, model=model)
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        x0 = m0 + se[:, None] * rng.standard_normal((runs, K, p))
        stats = exact_runs(ai[start:], bi[start:], x0, step=h, model=model)
    mean = np.full(x.shape, np.nan)
    std = np.full(x.shape, np.nan)
    mean[start:], std[start:] = stats.mean, stats.std
    return _result(
        procedure=EXACT, model=model, t=t, x=x, mean=mean, std=std, a=a, b=b, interval_rate=interval_rate,
        start=start, w_start=w, w_end=w, se=se, h=h, kind="exact", runs=runs, scale=1.0, tol=tol,
    )  # fmt: skip


def imitate_authors(
    xbar: ArrayLike,
    *,
    alpha_hat: ArrayLike,
    beta_hat: ArrayLike,
    times: ArrayLike | None = None,
    runs: int = 500,
    seed: int | np.random.Generator | None = 0,
    coordinate: tuple[int, int] = (0, 0),
    tail: int | None = None,
    end_window: int | None = None,
    order_tolerance: float = 1e-3,
) -> Imitation:
    """The authors' Figure 5 procedure, labelled as such. Ill-posed: use :func:`imitate`.

    ``runs`` initial states per class are drawn from ``N(0, (|Xbar^k(0)| / sqrt K)^2 I)``,
    each stepped by forward Euler of the L-model (step ``h`` per record), and the mean over
    runs is multiplied by one signed factor so that coordinate ``(k0, j0)`` matches the
    genuine mean over the last ``tail`` records.

    Why it is ill-posed: the LE-ODE is linear, so the mean over runs is the solution from
    the mean initial state, whose expectation is 0. The simulated mean is therefore pure
    Monte-Carlo noise of size ``|Xbar(0)| / sqrt(runs K)`` propagated by the dynamics, and
    the fitted factor divides noise by noise (its sign is a coin flip). Forward Euler with
    noisy rates also multiplies each mode by ``prod (1 + lambda h)``, which loses about
    ``exp(-sum (lambda h)^2 / 2)`` against ``exp(sum lambda h)``.

    Parameters
    ----------
    xbar : array_like of shape (T, K, K)
        Genuine logit means; the first record must be finite.
    alpha_hat, beta_hat : array_like of shape (T,)
        Rates per iteration at the records.
    times : array_like of shape (T,), optional
        Record times in iterations (default: one record per iteration).
    runs : int
        Independent runs (default 500, as the authors).
    seed : int, numpy Generator or None
    coordinate : (int, int)
        ``(k0, j0)``: the class and logit matched in the tail by the rescaling.
    tail : int, optional
        Records in the tail (default ``max(1, T // 10)``).
    end_window : int, optional
        Odd window of the end metrics (default :func:`default_window`).
    order_tolerance : float

    Returns
    -------
    Imitation
        ``procedure`` says it is the authors'; ``step_kind='euler'``; ``scale`` the factor;
        metrics from record 0.

    Examples
    --------
    >>> from lesde_analyzer.dynamics import l_model_solution
    >>> t = np.arange(201.0)
    >>> xbar = l_model_solution(0.02 * t, 0.005 * t, np.diag([2.0, 1.0, 1.0]))
    >>> res = imitate_authors(xbar, alpha_hat=np.full(t.size, 0.02), beta_hat=np.full(t.size, 0.005), runs=100)
    >>> res.procedure == AUTHORS, res.step_kind, res.start, res.runs
    (True, 'euler', 0, 100)
    """
    x = _check_xbar(xbar, "L")
    T, K, _ = x.shape
    if not np.all(np.isfinite(x[0])):
        raise InvalidArgument("xbar", "the first record must be finite (it sets the initial scale)")
    t, h = (np.arange(T, dtype=np.float64), 1.0) if times is None else _check_times(times, T)
    a, b = _check_rates(alpha_hat, beta_hat, T)
    runs = check_int(runs, "runs", low=2, high=1_000_000)
    k0, j0 = coordinate
    check_int(k0, "coordinate", low=0, high=K - 1)
    check_int(j0, "coordinate", low=0, high=K - 1)
    tail = max(1, T // 10) if tail is None else check_int(tail, "tail", low=1, high=T)
    w_end = _check_window(end_window, T, "end_window")
    tol = check_real(order_tolerance, "order_tolerance", low=0.0, high=1.0)

    scales = np.linalg.norm(x[0], axis=1) / np.sqrt(K)
    stats = le_ode_ensemble(a, b, initial_states(scales, runs=runs, seed=seed), step=h)
    target_records = x[-tail:, k0, j0]
    target = np.mean(target_records[np.isfinite(target_records)]) if np.isfinite(target_records).any() else np.nan
    sim = np.mean(stats.mean[-tail:, k0, j0])
    scale = float(target / sim) if np.isfinite(target) and sim != 0 else 1.0
    return _result(
        procedure=AUTHORS, model="L", t=t, x=x, mean=stats.mean * scale, std=stats.std * abs(scale), a=a, b=b,
        interval_rate="euler", start=0, w_start=1, w_end=w_end, se=scales, h=h, kind="euler", runs=runs,
        scale=scale, tol=tol,
    )  # fmt: skip


def imitate_from_means(
    xbar: ArrayLike,
    *,
    times: ArrayLike,
    model: str = "L",
    window: int = 21,
    polyorder: int = 2,
    estimator: str | None = None,
    reference_window: int | None = None,
    start_window: int | None = None,
    initial_se: ArrayLike | None = None,
    runs: int | None = None,
    seed: int | np.random.Generator | None = 0,
    order_tolerance: float = 1e-3,
) -> Imitation:
    """Estimate ``Ahat``, ``Bhat``, differentiate (Savitzky-Golay), then :func:`imitate`.

    Non-finite estimates of ``A``, ``B`` are filled by linear interpolation over time
    before differentiating.

    Parameters
    ----------
    xbar : array_like of shape (T, K, p)
    times : array_like of shape (T,)
        Record times in iterations, equally spaced by ``h``; the derivative is taken with
        spacing ``h`` so that the rates are per iteration.
    model : {'L', 'I'}
        The simulated LE-ODE.
    window, polyorder : int
        Savitzky-Golay settings, in records (the authors used 21 for Figure 5).
    estimator : {'L', 'I'}, optional
        Model of the ``Ahat``, ``Bhat`` estimator (default: ``model``; the paper's Figure 5
        also simulates the L-model with I-model estimates).
    reference_window : int, optional
        Reference records of the estimator (default: the start window). It only shifts
        ``Ahat``, ``Bhat`` by a constant, which the derivative drops.
    start_window, initial_se, runs, seed, order_tolerance
        As in :func:`imitate`.

    Returns
    -------
    Imitation

    Examples
    --------
    The rates read off the means of an LE-ODE are its own, and the imitation is exact:

    >>> from lesde_analyzer.dynamics import l_model_solution
    >>> t = np.arange(201.0)
    >>> xbar = l_model_solution(0.02 * t, 0.005 * t, np.diag([2.0, 1.0, 1.0]))
    >>> res = imitate_from_means(xbar, times=t)
    >>> round(float(np.median(res.alpha)), 4), round(float(np.median(res.beta)), 4)
    (0.02, 0.005)
    >>> round(res.nrmse, 4), res.procedure == EXACT
    (0.0, True)
    """
    model = check_choice(model, "model", ("L", "I"))
    estimator = model if estimator is None else check_choice(estimator, "estimator", ("L", "I"))
    x = _check_xbar(xbar, "L" if "L" in (model, estimator) else "I")
    T = x.shape[0]
    _, h = _check_times(times, T)
    w = _check_window(start_window, T, "start_window")
    ref = w if reference_window is None else reference_window
    est = estimate_integrals(x, model=estimator, reference_window=ref)
    rates = savgol_rates(_fill(est.A), _fill(est.B), window=window, polyorder=polyorder, step=h)
    return imitate(
        x, times=times, alpha_hat=rates.alpha, beta_hat=rates.beta, model=model, start_window=w,
        initial_se=initial_se, runs=runs, seed=seed, order_tolerance=order_tolerance,
    )  # fmt: skip


def _fill(v: np.ndarray) -> np.ndarray:
    ok = np.isfinite(v)
    if ok.all():
        return v
    if not ok.any():
        raise InvalidArgument("xbar", "no finite estimate of A or B: the class means are degenerate")
    t = np.arange(v.size)
    return np.interp(t, t[ok], v[ok])

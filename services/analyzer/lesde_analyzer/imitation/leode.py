"""LE-ODE imitation of genuine class-mean dynamics (Figure 5), any K.

Given genuine logit means ``Xbar`` (T, K, K) and rates ``alpha-hat``, ``beta-hat`` (T,):

1. draw ``runs`` initial states per class from ``N(0, (|Xbar^k(0)| / sqrt K)^2 I_K)``;
2. forward Euler of the L-model, step 1 per record (:func:`le_ode_ensemble`, exact);
3. rescale by one factor so that one coordinate (class ``k0``, logit ``j0``) of the simulated
   mean matches the genuine mean over the tail (the last ``tail`` records);
4. report the fit, ``nrmse = sqrt(mean (sim - genuine)^2) / sqrt(mean genuine^2)`` over all
   (t, class, logit) with finite genuine values, and whether the order of the K logits of
   each class at the last finite record agrees with the genuine order. Genuine logits closer
   than ``order_tolerance * max_j |genuine_j|`` are ties (at collapse the K - 1 non-target
   logits tie by symmetry) and their order is not compared; every other pair must have the
   same sign of difference.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, check_int, check_real
from ..errors import InvalidArgument
from .ensemble import initial_states, le_ode_ensemble

__all__ = ["Imitation", "imitate", "imitate_from_means"]


@dataclass(frozen=True)
class Imitation:
    """Result of an LE-ODE imitation.

    Attributes
    ----------
    mean, std : ndarray of shape (T, K, K)
        Rescaled simulated mean and std over runs per (time, class, logit).
    scale : float
        The rescaling factor applied.
    nrmse : float
        Normalised RMSE of ``mean`` against the genuine means.
    order_agrees : ndarray of shape (K,), bool
        Per class: the ranking of the K logits at the last record matches (ties excepted).
    all_orders_agree : bool
    runs : int
    """

    mean: np.ndarray
    std: np.ndarray
    scale: float
    nrmse: float
    order_agrees: np.ndarray
    all_orders_agree: bool
    runs: int


def imitate(
    xbar,
    *,
    alpha_hat,
    beta_hat,
    runs: int = 500,
    seed: int | np.random.Generator | None = 0,
    coordinate: tuple[int, int] = (0, 0),
    tail: int | None = None,
    step: float = 1.0,
    order_tolerance: float = 1e-3,
) -> Imitation:
    """Imitate genuine logit dynamics with the L-model LE-ODE.

    Parameters
    ----------
    xbar : array_like of shape (T, K, K)
        Genuine class means of the logits (NaN allowed after the first record; ignored
        by the fit metrics).
    alpha_hat, beta_hat : array_like of shape (T,)
        Estimated rates (finite).
    runs : int
        Independent runs (default 500).
    seed : int, numpy Generator or None
    coordinate : (int, int)
        ``(k0, j0)``: the class and logit matched in the tail by the rescaling.
    tail : int, optional
        Records in the tail (default ``max(1, T // 10)``).
    step : float
        Euler step per record.
    order_tolerance : float
        Relative tie tolerance of the logit-order check.

    Returns
    -------
    Imitation
    """
    x = as_float_array(xbar, "xbar", ndim=3, finite=False)
    T, K, p = x.shape
    if K < 2 or p != K or T < 2:
        raise InvalidArgument("xbar", f"must have shape (T >= 2, K >= 2, K); got {x.shape}")
    if not np.all(np.isfinite(x[0])):
        raise InvalidArgument("xbar", "the first record must be finite (it sets the initial scale)")
    a = as_float_array(alpha_hat, "alpha_hat", ndim=1)
    b = as_float_array(beta_hat, "beta_hat", ndim=1)
    if a.size != T or b.size != T:
        raise InvalidArgument("alpha_hat", f"alpha_hat and beta_hat must have shape ({T},); got {a.shape}, {b.shape}")
    runs = check_int(runs, "runs", low=2, high=1_000_000)
    k0, j0 = coordinate
    check_int(k0, "coordinate", low=0, high=K - 1)
    check_int(j0, "coordinate", low=0, high=K - 1)
    tail = max(1, T // 10) if tail is None else check_int(tail, "tail", low=1, high=T)
    h = check_real(step, "step", low=0.0, low_open=True)
    tol = check_real(order_tolerance, "order_tolerance", low=0.0, high=1.0)

    scales = np.linalg.norm(x[0], axis=1) / np.sqrt(K)
    x0 = initial_states(scales, runs=runs, seed=seed)
    stats = le_ode_ensemble(a, b, x0, step=h)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        target = np.nanmean(x[-tail:, k0, j0])
        sim = np.mean(stats.mean[-tail:, k0, j0])
    scale = float(target / sim) if np.isfinite(target) and sim != 0 else 1.0
    mean, std = stats.mean * scale, stats.std * abs(scale)
    ok = np.isfinite(x)
    denom = np.sqrt(np.mean(x[ok] ** 2))
    nrmse = float(np.sqrt(np.mean((mean[ok] - x[ok]) ** 2)) / denom) if denom > 0 else float("nan")
    last = np.flatnonzero(np.all(np.isfinite(x), axis=(1, 2)))
    t_end = last[-1] if last.size else T - 1
    agrees = np.array([_same_order(mean[t_end, k], x[t_end, k], tol) for k in range(K)])
    return Imitation(
        mean=mean, std=std, scale=scale, nrmse=nrmse, order_agrees=agrees, all_orders_agree=bool(agrees.all()), runs=runs
    )


def _same_order(sim: np.ndarray, genuine: np.ndarray, tol: float) -> bool:
    """Every pair of genuine logits that is not a tie has the same sign of difference in ``sim``."""
    dg = genuine[:, None] - genuine[None, :]
    ds = sim[:, None] - sim[None, :]
    strict = np.abs(dg) > tol * np.max(np.abs(genuine))
    return bool(np.all(np.sign(ds[strict]) == np.sign(dg[strict])))


def imitate_from_means(
    xbar,
    *,
    model: str = "L",
    window: int = 21,
    polyorder: int = 2,
    reference_window: int = 1,
    runs: int = 500,
    seed: int | np.random.Generator | None = 0,
    coordinate: tuple[int, int] = (0, 0),
    tail: int | None = None,
) -> Imitation:
    """Estimate ``Ahat``, ``Bhat`` with ``model``, differentiate (Savitzky-Golay, ``window``), imitate.

    Non-finite rate estimates are filled by linear interpolation over time.

    Parameters
    ----------
    xbar : array_like of shape (T, K, K)
    model : {'I', 'L'}
        Estimator of ``Ahat``, ``Bhat`` (the simulation is always the L-model).
    window, polyorder : int
        Savitzky-Golay settings (the authors used 21 for Figure 5).
    reference_window : int
    runs, seed, coordinate, tail
        As in :func:`imitate`.

    Returns
    -------
    Imitation
    """
    from ..estimation import estimate_integrals, savgol_rates

    est = estimate_integrals(xbar, model=model, reference_window=reference_window)
    rates = savgol_rates(_fill(est.A), _fill(est.B), window=window, polyorder=polyorder)
    return imitate(
        xbar, alpha_hat=rates.alpha, beta_hat=rates.beta, runs=runs, seed=seed, coordinate=coordinate, tail=tail
    )


def _fill(v: np.ndarray) -> np.ndarray:
    ok = np.isfinite(v)
    if ok.all():
        return v
    if not ok.any():
        raise InvalidArgument("xbar", "no finite estimate of A or B: the class means are degenerate")
    t = np.arange(v.size)
    return np.interp(t, t[ok], v[ok])

"""Benchmark: estimators on T = 100,000 records, K = 3, against naive per-time loops.

Times I- and L-model Ahat/Bhat, the drift regression (smooth 51, horizon 100, over the last
10 % of the run, and its series of windows over the whole run), Savitzky-Golay rates
(window 551) and tail indices (last 1000 records) of this package, and naive Python
implementations (per-time loops; the Savitzky-Golay one is timed on a subset of records and
extrapolated, as stated in the output; the regression one fits the same window). Prints only.

Run: ``python bench/estimators.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from lesde_analyzer.dynamics import Schedule, class_transforms, l_model_solution
from lesde_analyzer.estimation import drift_regression, estimate_integrals, savgol_rates, tail_indices
from lesde_analyzer.estimation.drift_regression import drift_regression_series

T, K = 100_000, 3
REG_SMOOTH, REG_HORIZON, SG_WINDOW = 51, 100, 551
NAIVE_SUBSET = 2_000
Result = TypeVar("Result")


def _timed(fn: Callable[..., Result], *args: object, repeat: int = 3, **kw: object) -> tuple[float, Result | None]:
    """The best of ``repeat`` timings of ``fn(*args, **kw)`` in seconds, and its result."""
    best: float = np.inf
    out: Result | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args, **kw)
        best = min(best, time.perf_counter() - t0)
    return best, out


def naive_integrals(xb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """I-model, one record at a time."""
    A, B = np.empty(len(xb)), np.empty(len(xb))
    m0 = xb[0].mean(axis=0)
    D0 = xb[0] - m0
    for t in range(len(xb)):
        m = xb[t].mean(axis=0)
        D = xb[t] - m
        U = K * np.mean(np.log(np.abs(m / m0)))
        V = K * np.mean(np.log(np.abs(D / D0)))
        A[t], B[t] = (U + (K - 1) * V) / K, (U - V) / K
    return A, B


def naive_regression(xb: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Drift regression on records lo..hi with loops: moving average record by record, the
    per-iteration sum of the regressors increment by increment, 1/rms weights, one lstsq."""
    H = class_transforms("L", K, K)
    half = REG_SMOOTH // 2
    xs = {i: xb[i - half : i + half + 1].mean(axis=0) for i in range(lo, hi + 1)}
    hx = {i: np.einsum("lpq,lq->lp", H, v) for i, v in xs.items()}
    rows, ys = [], []
    for t0 in range(lo, hi + 1 - REG_HORIZON):
        z = sum(hx[s] for s in range(t0, t0 + REG_HORIZON))
        x1 = z / K
        x2 = z.sum(axis=0) / K - x1
        w = 1.0 / np.sqrt(np.mean(xs[t0] ** 2))
        rows.append(w * np.stack([x1.ravel(), x2.ravel()], axis=1))
        ys.append(w * (xs[t0 + REG_HORIZON] - xs[t0]).ravel())
    return np.linalg.lstsq(np.concatenate(rows), np.concatenate(ys), rcond=None)[0]


def naive_savgol(v: np.ndarray, n: int) -> np.ndarray:
    """One quadratic polyfit per point (first n interior points)."""
    half = SG_WINDOW // 2
    x = np.arange(-half, half + 1, dtype=float)
    return np.array([np.polyfit(x, v[i - half : i + half + 1], 2)[1] for i in range(half, half + n)])


def main() -> None:
    t = np.arange(T, dtype=float)
    alpha, beta = Schedule.power(0.01, 0.4), Schedule.power(-0.004, 0.4)
    x0 = np.array([[0.5, -0.2, 0.1], [-0.1, 0.4, -0.2], [0.2, 0.1, 0.6]])
    xb = l_model_solution(alpha.integral(t), beta.integral(t), x0)

    rows = []
    ti, est_i = _timed(estimate_integrals, xb, model="I")
    rows.append(("I-model Ahat/Bhat", ti))
    tl, est_l = _timed(estimate_integrals, xb, model="L")
    rows.append(("L-model Ahat/Bhat", tl))
    tr, fit = _timed(drift_regression, xb, t, model="L", smooth=REG_SMOOTH, horizon=REG_HORIZON)
    rows.append(("drift regression (last 10 %)", tr))
    tsr, series = _timed(drift_regression_series, xb, t, model="L", smooth=REG_SMOOTH, horizon=REG_HORIZON)
    rows.append((f"drift regression series ({series.times.size} windows)", tsr))
    ts, rates = _timed(savgol_rates, est_l.A, est_l.B, window=SG_WINDOW)
    rows.append((f"Savitzky-Golay rates (window {SG_WINDOW})", ts))
    tt, tails = _timed(tail_indices, est_l.A, est_l.B, times=t, model="L", K=K)
    rows.append(("tail indices and verdict ([T/10, T])", tt))
    total = sum(r[1] for r in rows)

    t0 = time.perf_counter()
    naive_integrals(xb)
    n_int = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_ab = naive_regression(xb, int(fit.start), int(fit.end))
    n_reg = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_savgol(est_l.A, NAIVE_SUBSET)
    n_sg = 2 * (time.perf_counter() - t0) * (T - SG_WINDOW) / NAIVE_SUBSET  # A and B

    print(f"Estimators on T = {T:,} records, K = {K} (L-model logits, best of 3)")
    for name, sec in rows:
        print(f"  {name:<38s} {sec * 1e3:9.1f} ms")
    print(f"  {'total':<38s} {total * 1e3:9.1f} ms")
    print(
        "Naive per-time loops (Savitzky-Golay timed on "
        f"{NAIVE_SUBSET:,} windows and extrapolated to all records; the regression on its window):"
    )
    print(f"  {'I-model Ahat/Bhat (loop over t)':<38s} {n_int * 1e3:9.1f} ms   ({n_int / ti:,.0f}x)")
    print(f"  {'drift regression (loops, one lstsq)':<38s} {n_reg * 1e3:9.1f} ms   ({n_reg / tr:,.0f}x)")
    print(f"  {'Savitzky-Golay (polyfit per point)':<38s} {n_sg * 1e3:9.1f} ms   ({n_sg / ts:,.0f}x)")
    err_a = np.nanmax(np.abs(rates.alpha[SG_WINDOW:-SG_WINDOW] / alpha(t)[SG_WINDOW:-SG_WINDOW] - 1))
    print(
        f"Check: max relative error of alpha-hat (SG, interior) {err_a:.1e}; "
        f"drift-regression alpha over [{fit.start:.0f}, {fit.end:.0f}]: {fit.alpha:.6g} +- {fit.alpha_se:.2g} "
        f"{fit.unit} (true at the centre {float(alpha((fit.start + fit.end) / 2)):.6g}; loops "
        f"{naive_ab[0]:.6g}), series at t = {series.times[0]:.0f}: {series.alpha[0]:.6g} "
        f"(true {float(alpha(series.times[0])):.6g}); "
        f"r_Gamma = {tails.Gamma.r_slope:.3f} +- {tails.Gamma.r_slope_se:.2g} (true 0.4), verdict: {tails.verdict.label}"
    )


if __name__ == "__main__":
    main()

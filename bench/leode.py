"""Benchmark: LE-ODE imitation ensembles (500 runs x 10,000 steps, K = 3) against naive loops.

Two steps, each timed fast against a naive loop on the same draws:

* exact (ours): every record interval solved exactly (matrix exponential per mode); the
  fast path maps the initial mean and covariance through a few length-T series
  (``exact_runs``), the naive one is a Python loop over runs, intervals and classes
  (``naive_exact_loop``);
* forward Euler (the authors'): fast ``le_ode_ensemble`` against a loop written the way the
  authors' simulator works (one numpy drift-matrix product per run and step).

The naive loops are timed on a subset of runs and steps and extrapolated per trial-step
(stated in the output). Everything runs in this process. Prints only.

Run: ``python bench/leode.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from lesde_analyzer.dynamics import drift_matrix
from lesde_analyzer.dynamics.closed_form import l_model_solution
from lesde_analyzer.imitation import (
    exact_runs,
    imitate,
    imitate_authors,
    initial_states,
    le_ode_ensemble,
    naive_exact_loop,
)

RUNS, STEPS, K = 500, 10_000, 3
NAIVE_RUNS, NAIVE_STEPS = 5, 2_000


def naive_authors_style(alpha: np.ndarray, beta: np.ndarray, x0: np.ndarray, steps: int) -> np.ndarray:
    """Per run, per step: build M_t in numpy and take one Euler step. Returns (steps+1, runs, K*K)."""
    M1 = drift_matrix(1.0, 0.0, model="L", K=K, p=K)
    M2 = drift_matrix(0.0, 1.0, model="L", K=K, p=K)
    runs = x0.shape[0]
    out = np.empty((steps + 1, runs, K * K))
    for r in range(runs):
        x = x0[r].reshape(-1).copy()
        out[0, r] = x
        for t in range(steps):
            M = alpha[t] * M1 + beta[t] * M2
            x = x + M @ x
            out[t + 1, r] = x
    return out


def best_of(fn: Callable[[], object], repeats: int = 5) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def row(name: str, fast_s: float, naive_s: float, err: float) -> None:
    fast_rate = RUNS * STEPS / fast_s
    naive_rate = NAIVE_RUNS * NAIVE_STEPS / naive_s
    print(
        f"  {name:<23} fast {fast_s * 1e3:6.1f} ms {fast_rate:13,.0f} trial-steps/s | naive {naive_s * 1e3:7.1f} ms "
        f"for {NAIVE_RUNS} x {NAIVE_STEPS:,} -> {naive_rate:7,.0f} trial-steps/s "
        f"(full size ~{RUNS * STEPS / naive_rate:,.0f} s)"
        f" | speed-up {fast_rate / naive_rate:9,.0f}x | max rel. diff of means {err:.1e}"
    )


def main() -> None:
    t = np.arange(STEPS + 1, dtype=float)
    alpha = 0.02 * (1 + t) ** -0.3
    beta = -0.01 * (1 + t) ** -0.3
    x0 = initial_states(np.array([0.5, 0.4, 0.6]), runs=RUNS, seed=0) + np.diag([2.0, 1.5, 1.8])
    sub_a, sub_b, sub_x0 = alpha[: NAIVE_STEPS + 1], beta[: NAIVE_STEPS + 1], x0[:NAIVE_RUNS]

    print(f"LE-ODE imitation ensembles, K = {K}, {RUNS} runs x {STEPS:,} steps (fast: best of 5; naive: one pass)")

    exact_runs(alpha[:100], beta[:100], x0)  # warm-up
    fast_s, _ = best_of(lambda: exact_runs(alpha, beta, x0, step=1.0, model="L"))
    t0 = time.perf_counter()
    naive = naive_exact_loop(sub_a, sub_b, sub_x0, step=1.0, model="L")
    naive_s = time.perf_counter() - t0
    check = exact_runs(sub_a, sub_b, sub_x0, step=1.0, model="L").mean
    row("exact step (ours)", fast_s, naive_s, np.abs(check - naive.mean(axis=1)).max() / np.abs(naive).max())

    le_ode_ensemble(alpha[:100], beta[:100], x0)  # warm-up
    fast_s, _ = best_of(lambda: le_ode_ensemble(alpha, beta, x0))
    t0 = time.perf_counter()
    naive = naive_authors_style(alpha, beta, sub_x0, NAIVE_STEPS)
    naive_s = time.perf_counter() - t0
    check = le_ode_ensemble(sub_a, sub_b, sub_x0).mean.reshape(NAIVE_STEPS + 1, -1)
    row("forward Euler (authors)", fast_s, naive_s, np.abs(check - naive.mean(axis=1)).max() / np.abs(naive).max())

    times = t
    integral = ((1 + t) ** 0.7 - 1) / 0.7  # int_0^t (1+s)^-0.3 ds
    genuine = l_model_solution(0.02 * integral, -0.01 * integral, x0[0])  # stand-in genuine means (T, K, K)
    ours_s, ours = best_of(lambda: imitate(genuine, times=times, alpha_hat=alpha, beta_hat=beta), repeats=3)
    auth_s, auth = best_of(lambda: imitate_authors(genuine, alpha_hat=alpha, beta_hat=beta, runs=RUNS, seed=1), repeats=3)
    print(
        f"  full imitate() on stand-in means (start window, exact moments, metrics): {ours_s * 1e3:.1f} ms, "
        f"nrmse {ours.nrmse:.1e}; imitate_authors() ({RUNS} runs): {auth_s * 1e3:.1f} ms, nrmse {auth.nrmse:.2f}, "
        f"scale {auth.scale:+.1f}"
    )


if __name__ == "__main__":
    main()

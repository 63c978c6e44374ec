"""Benchmark: LE-ODE imitation ensemble (500 runs x 10,000 steps, K = 3) against a naive loop.

The naive simulator is written the way the authors' one works: a Python loop over runs and
steps, one numpy drift-matrix product per step. It is timed on a subset of runs and steps and
extrapolated per trial-step (stated in the output). Both run in this process. Prints only.

Run: ``python bench/leode.py``
"""

from __future__ import annotations

import time

import numpy as np

from lesde_analyzer.dynamics import drift_matrix
from lesde_analyzer.imitation import imitate, initial_states, le_ode_ensemble

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


def main() -> None:
    t = np.arange(STEPS + 1, dtype=float)
    alpha = 0.02 * (1 + t) ** -0.3
    beta = -0.01 * (1 + t) ** -0.3
    x0 = initial_states(np.array([0.5, 0.4, 0.6]), runs=RUNS, seed=0)

    le_ode_ensemble(alpha[:100], beta[:100], x0)  # warm-up
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        stats = le_ode_ensemble(alpha, beta, x0)
        best = min(best, time.perf_counter() - t0)
    fast_rate = RUNS * STEPS / best

    t0 = time.perf_counter()
    naive = naive_authors_style(alpha, beta, x0[:NAIVE_RUNS], NAIVE_STEPS)
    naive_time = time.perf_counter() - t0
    naive_rate = NAIVE_RUNS * NAIVE_STEPS / naive_time
    naive_full = RUNS * STEPS / naive_rate

    check = le_ode_ensemble(alpha[: NAIVE_STEPS + 1], beta[: NAIVE_STEPS + 1], x0[:NAIVE_RUNS])
    err = np.abs(check.mean.reshape(NAIVE_STEPS + 1, -1) - naive.mean(axis=1)).max() / np.abs(naive).max()

    print(f"LE-ODE imitation ensemble, K = {K}, {RUNS} runs x {STEPS:,} steps (forward Euler, exact mean/std)")
    print(f"  fast (exact Euler products):   {best * 1e3:9.1f} ms  {fast_rate:14,.0f} trial-steps/s  (best of 5)")
    print(
        f"  naive (loop over runs, steps): {naive_time * 1e3:9.1f} ms for {NAIVE_RUNS} runs x {NAIVE_STEPS:,} steps "
        f"-> {naive_rate:,.0f} trial-steps/s; extrapolated full size {naive_full:,.1f} s"
    )
    print(f"  speed-up: {fast_rate / naive_rate:,.0f}x   (max relative difference of the means on the subset: {err:.1e})")
    genuine = stats.mean * 3.0  # stand-in for genuine logit means, shape (T, K, K)
    t0 = time.perf_counter()
    im = imitate(genuine, alpha_hat=alpha, beta_hat=beta, runs=RUNS, seed=1)
    t_imitate = time.perf_counter() - t0
    print(f"  full imitate() on stand-in means (draws, ensemble, rescaling, fit metrics): {t_imitate * 1e3:.1f} ms "
          f"({im.runs} runs x {STEPS:,} steps)")


if __name__ == "__main__":
    main()

"""The authors' forward-Euler ensemble: the fast exact-product form against a per-run loop."""

import numpy as np
import pytest
from lesde_analyzer.imitation import initial_states, le_ode_ensemble, naive_le_ode_loop


@pytest.mark.parametrize("K", [2, 3, 4])
def test_fast_ensemble_equals_naive_per_run_loop(K):
    T = 60
    t = np.arange(T)
    a = 0.05 * (1 + t) ** -0.3
    b = -0.02 + 0.01 * np.sin(t)
    x0 = initial_states(np.linspace(0.5, 2.0, K), runs=9, seed=3)
    naive = naive_le_ode_loop(a, b, x0)
    fast = le_ode_ensemble(a, b, x0)
    np.testing.assert_allclose(fast.mean, naive.mean(axis=1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.std, naive.std(axis=1), rtol=1e-8, atol=1e-12)

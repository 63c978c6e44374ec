"""The exact per-interval step: against solve_ivp, a naive loop and sampled runs."""

import numpy as np
import pytest
from lesde_analyzer.dynamics import drift_matrix
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.imitation import exact_moments, exact_runs, naive_exact_loop, phi1, transport_to
from scipy.integrate import solve_ivp


def _rates(T, h, seed):
    """Piecewise-constant rates of both signs, with |lambda h| up to about 1."""
    rng = np.random.default_rng(seed)
    scale = 0.5 if h > 1 else 1.0
    return scale * rng.uniform(-0.02, 0.03, T), scale * rng.uniform(-0.03, 0.02, T)


def _solve_ivp_path(a, b, x0, h, model):
    """Integrate Xbar' = M Xbar with the rates of record i on [t_i, t_i + h] (the raw drift matrix)."""
    K, p = x0.shape
    x, out = x0.reshape(-1), [x0.reshape(-1)]
    for i in range(a.size - 1):
        M = drift_matrix(a[i], b[i], model=model, K=K, p=p)
        x = solve_ivp(lambda t, z, M=M: M @ z, (0.0, h), x, method="DOP853", rtol=1e-13, atol=1e-15).y[:, -1]
        out.append(x)
    return np.array(out).reshape(a.size, K, p)


@pytest.mark.parametrize("model", ["L", "I"])
@pytest.mark.parametrize("h", [1.0, 100.0])
@pytest.mark.parametrize("K", [2, 3, 5])
def test_exact_step_equals_solve_ivp(model, h, K):
    a, b = _rates(8, h, seed=K)
    lam = np.abs(np.concatenate([(a - b) / K, (a + b / (K - 1)) / K, (a + (K - 1) * b) / K])) * h
    assert lam.max() > (0.5 if h > 1 else 0.01)  # the large step is a real test of exactness
    p = K if model == "L" else 2
    x0 = np.random.default_rng(10 + K).standard_normal((K, p))
    ref = _solve_ivp_path(a, b, x0, h, model)
    fast = exact_moments(a, b, x0, step=h, model=model).mean
    np.testing.assert_allclose(fast, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())


def test_forward_euler_with_exact_mode_rates_is_not_exact_for_the_l_model():
    """The d_k-only recipe (rates replaced by expm1(lambda h)/h, one Euler step) misses r_k."""
    K, h = 3, 100.0
    a, b = np.array([0.02, 0.0]), np.array([-0.015, 0.0])
    x0 = np.random.default_rng(0).standard_normal((K, K))
    ref = _solve_ivp_path(a, b, x0, h, "L")[1]
    lam1, lam2 = (a[0] - b[0]) / K, (a[0] + b[0] / (K - 1)) / K
    # alpha~, beta~ with (alpha~ - beta~)/K = expm1(lam1 h)/h and (alpha~ + beta~/(K-1))/K = expm1(lam2 h)/h
    m1, m2 = np.expm1(lam1 * h) / h, np.expm1(lam2 * h) / h
    bt = (m2 - m1) * K * (K - 1) / K
    at = K * m1 + bt
    euler = x0.reshape(-1) + h * drift_matrix(at, bt, model="L", K=K, p=K) @ x0.reshape(-1)
    assert np.abs(euler.reshape(K, K) - ref).max() > 1e-3 * np.abs(ref).max()
    np.testing.assert_allclose(exact_moments(a, b, x0, step=h, model="L").mean[1], ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("model", "K", "p"), [("L", 2, 2), ("L", 4, 4), ("I", 3, 3), ("I", 3, 5)])
def test_fast_runs_equal_the_naive_loop(model, K, p):
    a, b = _rates(40, 10.0, seed=1)
    x0 = np.random.default_rng(2).standard_normal((7, K, p)) + np.arange(K)[:, None]
    naive = naive_exact_loop(a, b, x0, step=10.0, model=model)
    fast = exact_runs(a, b, x0, step=10.0, model=model)
    assert fast.runs == 7
    np.testing.assert_allclose(fast.mean, naive.mean(axis=1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.std, naive.std(axis=1), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("model", ["L", "I"])
def test_sampled_runs_agree_with_exact_moments_within_monte_carlo_error(model):
    K, runs = 3, 4000
    a, b = _rates(60, 1.0, seed=3)
    m0 = np.array([[1.0, -0.3, 0.2], [-0.4, 0.8, -0.1], [0.1, -0.2, 0.9]])
    se = np.array([0.05, 0.1, 0.02])
    exact = exact_moments(a, b, m0, se=se, step=1.0, model=model)
    assert exact.runs is None
    x0 = m0 + se[:, None] * np.random.default_rng(4).standard_normal((runs, K, K))
    mc = exact_runs(a, b, x0, step=1.0, model=model)
    z = np.abs(mc.mean - exact.mean) / (exact.std / np.sqrt(runs))
    assert z.max() < 4.5  # 540 entries, each ~N(0, 1)
    np.testing.assert_allclose(mc.std, exact.std, rtol=0.06)
    np.testing.assert_allclose(exact.std[0], np.broadcast_to(se[:, None], (K, K)), rtol=1e-12)


def test_no_spread_without_initial_se_and_the_identity_at_the_start():
    a, b = _rates(5, 1.0, seed=5)
    m0 = np.arange(9.0).reshape(3, 3)
    st = exact_moments(a, b, m0, step=1.0, model="L")
    np.testing.assert_array_equal(st.std, 0.0)
    np.testing.assert_allclose(st.mean[0], m0, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize(("model", "K", "p"), [("L", 2, 2), ("L", 3, 3), ("L", 4, 4), ("I", 3, 5)])
@pytest.mark.parametrize("target", [0, 6, 11])
def test_transport_carries_every_record_of_an_exact_path_to_the_target(model, K, p, target):
    """Forward and backward in time: on an exact path every record maps to the target's state."""
    a, b = _rates(12, 100.0, seed=K)  # |lambda h| up to about 1: the path spans e-folds
    x0 = np.random.default_rng(7).standard_normal((1, K, p))
    path = naive_exact_loop(a, b, x0, step=100.0, model=model)[:, 0]  # (12, K, p)
    assert np.abs(path - path[target]).max() > 0.2 * np.abs(path[target]).max()  # not the identity
    carried = transport_to(a, b, path, target=target, step=100.0, model=model)
    np.testing.assert_allclose(carried, np.broadcast_to(path[target], path.shape), rtol=1e-9, atol=1e-9 * np.abs(path[target]).max())
    holes = path.copy()
    holes[3, 0, 0] = np.nan
    gone = transport_to(a, b, holes, target=target, step=100.0, model=model)
    assert np.isnan(gone[3]).any() and np.isfinite(np.delete(gone, 3, axis=0)).all()


def test_phi1_is_stable_near_zero():
    z = np.array([0.0, 1e-300, -1e-14, 1e-9, 1e-3, -2.0, 5.0])
    expected = [1.0, 1.0, 1.0 - 5e-15, 1.0 + 5e-10, np.expm1(1e-3) / 1e-3, np.expm1(-2.0) / -2.0, np.expm1(5.0) / 5.0]
    np.testing.assert_allclose(phi1(z), expected, rtol=1e-14)


def test_validation():
    a = np.zeros(4)
    with pytest.raises(InvalidArgument, match="beta"):
        exact_moments(a, np.zeros(3), np.ones((3, 3)))
    with pytest.raises(InvalidArgument, match="step"):
        exact_moments(a, a, np.ones((3, 3)), step=0.0)
    with pytest.raises(InvalidArgument, match="model"):
        exact_moments(a, a, np.ones((3, 3)), model="X")
    with pytest.raises(InvalidArgument, match="x0"):
        exact_moments(a, a, np.ones((3, 2)), model="L")
    with pytest.raises(InvalidArgument, match="se"):
        exact_moments(a, a, np.ones((3, 3)), se=[0.1, -0.1, 0.1])

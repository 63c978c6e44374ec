"""Closed forms against tight numerical integration of the LE-ODE (eq. 6)."""

import numpy as np
import pytest
from lesde_analyzer.dynamics import (
    Schedule,
    binary_solution,
    drift_matrix,
    i_model_solution,
    l_model_coordinates,
    l_model_solution,
    l_model_y_solution,
    simulate_ode,
)
from lesde_analyzer.errors import InvalidArgument
from scipy.integrate import solve_ivp

SCHEDULES = {
    "constant": (Schedule.constant(0.8), Schedule.constant(-0.3)),
    "power": (Schedule.power(1.2, 0.5), Schedule.power(-0.6, 0.9, offset=0.1)),
}


def _reference(model, K, p, alpha, beta, x0, ts):
    def rhs(t, x):
        return drift_matrix(float(alpha(t)), float(beta(t)), model=model, K=K, p=p) @ x

    sol = solve_ivp(rhs, (ts[0], ts[-1]), x0.ravel(), t_eval=ts, method="DOP853", rtol=1e-12, atol=1e-14)
    assert sol.success
    return sol.y.T.reshape(ts.size, K, p)


@pytest.mark.parametrize("kind", sorted(SCHEDULES))
@pytest.mark.parametrize("K", [2, 3, 5])
@pytest.mark.parametrize("model", ["I", "L"])
def test_closed_form_matches_ode(model, K, kind):
    alpha, beta = SCHEDULES[kind]
    p = K if model == "L" else 2
    x0 = np.random.default_rng(K).standard_normal((K, p))
    ts = np.linspace(0.0, 4.0, 4001)
    ref = _reference(model, K, p, alpha, beta, x0, ts)
    solve = i_model_solution if model == "I" else l_model_solution
    got = solve(alpha.integral(ts), beta.integral(ts), x0)
    assert got.shape == (ts.size, K, p)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def test_binary_solution_is_section_2_2():
    alpha, beta = 0.9, 0.2
    t = np.linspace(0, 3, 7)
    c1, c2 = 1.5, -0.5
    got = binary_solution(alpha * t, beta * t, c1, c2)
    x1 = (c1 - c2) / 2 * np.exp((alpha - beta) / 2 * t) + (c1 + c2) / 2 * np.exp((alpha + beta) / 2 * t)
    x2 = -(c1 - c2) / 2 * np.exp((alpha - beta) / 2 * t) + (c1 + c2) / 2 * np.exp((alpha + beta) / 2 * t)
    np.testing.assert_allclose(got, np.stack([x1, x2], axis=-1), rtol=1e-13)


@pytest.mark.parametrize("K", [2, 3, 5])
def test_l_model_y_system_and_invariant_component(K):
    alpha, beta = SCHEDULES["power"]
    ts = np.linspace(0, 3, 301)
    x0 = np.random.default_rng(0).standard_normal((4, K, K))  # batch of 4
    xb = l_model_solution(alpha.integral(ts), beta.integral(ts), x0)
    y = l_model_y_solution(alpha.integral(ts), beta.integral(ts), l_model_coordinates(x0))
    np.testing.assert_allclose(l_model_coordinates(xb), y, rtol=1e-10, atol=1e-12)
    # the component along 1_K never moves
    np.testing.assert_allclose(xb.sum(axis=-1), np.broadcast_to(x0.sum(axis=-1), xb.shape[:-1]), atol=1e-10)
    S = y.sum(axis=-1)
    A, B = alpha.integral(ts), beta.integral(ts)
    np.testing.assert_allclose(S, S[0] * np.exp((A - B) / K)[:, None], rtol=1e-12)


@pytest.mark.parametrize("model", ["I", "L"])
def test_rk4_simulator_matches_closed_form(model):
    K = 3
    alpha, beta = SCHEDULES["power"]
    x0 = np.random.default_rng(5).standard_normal((2, K, K))
    tr = simulate_ode(x0, alpha=alpha, beta=beta, model=model, step=0.01, steps=300, record_every=50, method="rk4")
    solve = i_model_solution if model == "I" else l_model_solution
    fine = np.linspace(0, 3, 3001)
    cf = solve(alpha.integral(fine), beta.integral(fine), x0)[::500]
    np.testing.assert_allclose(tr.times, fine[::500])
    np.testing.assert_allclose(tr.means, cf, rtol=1e-7, atol=1e-9)


def test_closed_form_validation_names_arguments():
    with pytest.raises(InvalidArgument, match="B"):
        i_model_solution(np.zeros(3), np.zeros(4), np.zeros((2, 1)))
    with pytest.raises(InvalidArgument, match="xbar0"):
        l_model_solution(np.zeros(3), np.zeros(3), np.zeros((3, 2)))

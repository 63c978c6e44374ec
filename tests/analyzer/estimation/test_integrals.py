import numpy as np
import pytest
from lesde_analyzer.dynamics import Schedule, i_model_solution, l_model_solution
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import estimate_integrals, i_model_integrals, l_model_integrals

ALPHA, BETA = Schedule.power(1.0, 0.5), Schedule.power(-0.4, 0.3)


@pytest.mark.parametrize("K", [2, 3, 5])
@pytest.mark.parametrize("model", ["I", "L"])
def test_integrals_recovered_exactly_from_closed_form(model, K):
    p = K if model == "L" else 3
    t = np.linspace(0, 20, 2001)
    x0 = np.random.default_rng(K).standard_normal((K, p))
    solve = i_model_solution if model == "I" else l_model_solution
    xb = solve(ALPHA.integral(t), BETA.integral(t), x0)
    est = estimate_integrals(xb, model=model)
    np.testing.assert_allclose(est.A, ALPHA.integral(t), atol=1e-8)
    np.testing.assert_allclose(est.B, BETA.integral(t), atol=1e-8)
    np.testing.assert_allclose(est.Gamma, est.A - est.B)


def test_reference_window_mean_and_non_finite_entries_dropped():
    K, t = 3, np.linspace(0, 5, 501)
    x0 = np.random.default_rng(0).standard_normal((K, 2))
    x0[:, 1] = 0.0  # a coordinate with zero mean and zero deviations: all logs non-finite
    x0[:, 1] += np.array([0.0, 0.0, 0.0])
    xb = i_model_solution(ALPHA.integral(t), BETA.integral(t), x0)
    est = i_model_integrals(xb)
    np.testing.assert_allclose(est.A, ALPHA.integral(t), atol=1e-8)
    # with a reference window of w records the estimate is relative to the window mean
    w = 5
    est_w = i_model_integrals(xb, reference_window=w)
    assert np.all(np.isfinite(est_w.A))
    assert abs(est_w.A[-1] - ALPHA.integral(t)[-1]) < ALPHA.integral(t)[w]


def test_l_model_any_k_matches_i_model_on_l_data_late():
    """Both estimators see the same A, B late in training (paper, section 4.2 (i))."""
    K, t = 4, np.linspace(0, 30, 301)
    x0 = np.random.default_rng(3).standard_normal((K, K))
    xb = l_model_solution(2.0 * t, -0.5 * t, x0)
    est = l_model_integrals(xb)
    np.testing.assert_allclose(est.A, 2.0 * t, atol=1e-8)


def test_validation():
    with pytest.raises(InvalidArgument, match="xbar"):
        estimate_integrals(np.zeros((5, 3, 2)), model="L")
    with pytest.raises(InvalidArgument, match="model"):
        estimate_integrals(np.ones((5, 3, 3)), model="Q")
    with pytest.raises(InvalidArgument, match="reference_window"):
        estimate_integrals(np.ones((5, 3, 3)), reference_window=9)
    with pytest.raises(InvalidArgument, match="xbar"):
        estimate_integrals(np.ones((5, 3)))

import numpy as np
import pytest
from lesde_analyzer.dynamics import Schedule, i_model_solution, l_model_solution
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import estimate_integrals, savgol_derivative, savgol_rates

CASES = {
    "constant": (Schedule.constant(0.6), Schedule.constant(-0.2)),
    "power": (Schedule.power(1.0, 0.5), Schedule.power(-0.5, 0.5)),
}


@pytest.mark.parametrize("kind", sorted(CASES))
@pytest.mark.parametrize("model", ["I", "L"])
def test_savgol_recovers_rates_from_ode_data_to_1_percent(model, kind):
    alpha, beta = CASES[kind]
    K, h = 3, 0.01
    t = np.arange(3001) * h
    x0 = np.random.default_rng(7).standard_normal((K, K))
    solve = i_model_solution if model == "I" else l_model_solution
    xb = solve(alpha.integral(t), beta.integral(t), x0)
    est = estimate_integrals(xb, model=model)
    rates = savgol_rates(est.A, est.B, window=21, step=h)
    inner = slice(10, -10)
    np.testing.assert_allclose(rates.alpha[inner], alpha(t)[inner], rtol=0.01)
    np.testing.assert_allclose(rates.beta[inner], beta(t)[inner], rtol=0.01)


def test_savgol_window_clamped_or_rejected():
    t = np.linspace(0, 1, 11)
    r = savgol_rates(2 * t, -t, window=51, step=0.1)
    assert r.window == 11
    np.testing.assert_allclose(r.alpha, 2.0)
    r = savgol_rates(2 * t[:10], -t[:10], window=51, step=0.1)
    assert r.window == 9
    with pytest.raises(InvalidArgument, match="window"):
        savgol_rates(2 * t, -t, window=51, clamp=False)
    with pytest.raises(InvalidArgument, match="window"):
        savgol_rates(2 * t, -t, window=4)
    with pytest.raises(InvalidArgument, match="window"):
        savgol_derivative(t[:2], window=5)
    with pytest.raises(InvalidArgument, match="B_hat"):
        savgol_rates(t, t[:5], window=3)

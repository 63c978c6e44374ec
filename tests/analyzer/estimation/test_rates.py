import numpy as np
import pytest

from lesde_analyzer.dynamics import (
    Schedule,
    class_transforms,
    i_model_solution,
    initial_samples,
    l_model_solution,
    simulate_ode,
    simulate_sde,
)
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import drift_regression, estimate_integrals, savgol_derivative, savgol_rates

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


@pytest.mark.parametrize("kind", sorted(CASES))
@pytest.mark.parametrize("model", ["I", "L"])
def test_drift_regression_recovers_rates_from_ode_data_to_1_percent(model, kind):
    alpha, beta = CASES[kind]
    K, h = 3, 0.01
    x0 = np.random.default_rng(8).standard_normal((1, K, K))
    tr = simulate_ode(x0, alpha=alpha, beta=beta, model=model, step=h, steps=2000)
    fit = drift_regression(tr.means[:, 0], model=model, window=21, step=h)
    ok = np.isfinite(fit.alpha)
    assert ok.sum() == tr.times.size - 21
    np.testing.assert_allclose(fit.alpha[ok], alpha(tr.times)[ok], rtol=0.01)
    np.testing.assert_allclose(fit.beta[ok], beta(tr.times)[ok], rtol=0.01)
    if kind == "constant":  # forward-Euler data with constant rates: exact fit, zero residual
        np.testing.assert_allclose(fit.alpha[ok], 0.6, rtol=1e-9)
        assert np.nanmax(fit.alpha_se) < 1e-6


def test_drift_regression_on_sde_data_within_derived_tolerance():
    """SDE data: the class-mean increments carry noise ``sigma sqrt(h / n) xi`` per entry.

    The estimator is ``c = (X^T X)^-1 X^T y`` with the weighted rows of
    :mod:`drift_regression` (each record divided by ``s_t = rms(Xbar(t))``), so
    ``y_t`` has noise of variance ``sigma^2 / (h n s_t^2)`` per entry and
    ``Var(c) = (X^T X)^-1 X^T diag(sigma^2 / (h n s_t^2)) X (X^T X)^-1`` (sandwich). The
    tolerance is 4 standard deviations from this formula, evaluated on the simulated
    regressors (the noise in the regressors themselves is of smaller order since the
    means grow). We also check the reported standard error agrees with it within 30 %.
    """
    K, n, h, sigma, steps = 3, 50, 0.01, 1.0, 400
    alpha, beta = 1.0, -0.3
    x0 = initial_samples(1, K, n, K, seed=5) + 2.0 * np.eye(K)[None, :, None, :]
    tr = simulate_sde(x0, alpha=alpha, beta=beta, sigma=sigma, model="L", step=h, steps=steps, seed=6)
    xb = tr.means[:, 0]
    window = steps - 1
    fit = drift_regression(xb, model="L", window=window, step=h)
    mid = window // 2
    # sandwich variance of the two coefficients
    s = np.sqrt(np.mean(xb[:-1] ** 2, axis=(1, 2)))
    z = np.einsum("lpq,tlq->tlp", class_transforms("L", K, K), xb[:-1] / s[:, None, None])
    x1 = z / K
    x2 = z.sum(axis=1, keepdims=True) / K - x1
    X = np.stack([x1.reshape(steps, -1), x2.reshape(steps, -1)], axis=-1)[:window]  # (window, K p, 2)
    w = (sigma**2 / (h * n * s[:window] ** 2))[:, None]
    XtX = np.einsum("tia,tib->ab", X, X)
    meat = np.einsum("tia,ti,tib->ab", X, np.broadcast_to(w, X.shape[:2]), X)
    inv = np.linalg.inv(XtX)
    sd = np.sqrt(np.diag(inv @ meat @ inv))
    assert abs(fit.alpha[mid] - alpha) < 4 * sd[0]
    assert abs(fit.beta[mid] - beta) < 4 * sd[1]
    assert 0.7 < fit.alpha_se[mid] / sd[0] < 1.3
    assert 0.7 < fit.beta_se[mid] / sd[1] < 1.3


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


def test_drift_regression_validation():
    with pytest.raises(InvalidArgument, match="window"):
        drift_regression(np.ones((10, 2, 1)), window=4)
    with pytest.raises(InvalidArgument, match="window"):
        drift_regression(np.ones((10, 2, 1)), window=11)
    with pytest.raises(InvalidArgument, match="xbar"):
        drift_regression(np.full((10, 2, 1), np.nan), window=3)

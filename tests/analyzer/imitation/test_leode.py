import numpy as np
import pytest

from lesde_analyzer.dynamics import simulate_ode
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import estimate_integrals, savgol_rates
from lesde_analyzer.imitation import imitate, imitate_from_means, initial_states, le_ode_ensemble, naive_le_ode_loop


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


def _synthetic_logits(T=2000, K=3):
    """L-model logits made by forward Euler (step 1) with known power-law rates."""
    t = np.arange(T, dtype=float)
    alpha = 0.05 * (1 + t) ** -0.3
    beta = -0.1 * (1 + t) ** -0.3  # B < 0: the S-mode (rate (A-B)/K) dominates the q-modes by e^(-B/(K-1))
    from lesde_analyzer.dynamics import Schedule

    x0 = np.array([[0.5, -0.2, 0.1], [-0.1, 0.4, -0.2], [0.2, 0.1, 0.6]])[None]
    tr = simulate_ode(
        x0, alpha=Schedule.array(alpha, step=1.0), beta=Schedule.array(beta, step=1.0), model="L", step=1.0, steps=T - 1
    )
    return tr.means[:, 0], alpha, beta


def test_imitation_with_true_rates_recovers_the_generating_trajectory():
    xb, alpha, beta = _synthetic_logits()
    im = imitate(xb, alpha_hat=alpha, beta_hat=beta, runs=500, seed=0)
    assert im.mean.shape == im.std.shape == xb.shape
    assert im.nrmse < 0.02
    assert im.all_orders_agree
    assert im.runs == 500


def test_imitation_from_estimated_rates_l_model():
    """The paper's pipeline: L-model Ahat, Bhat -> Savitzky-Golay (window 21) -> LE-ODE."""
    xb, alpha, beta = _synthetic_logits()
    est = estimate_integrals(xb, model="L")
    rates = savgol_rates(est.A, est.B, window=21)
    inner = slice(20, -20)
    np.testing.assert_allclose(rates.alpha[inner], alpha[inner], rtol=0.02)
    im = imitate_from_means(xb, model="L", window=21, runs=500, seed=1)
    assert im.nrmse < 0.05
    assert im.all_orders_agree


def test_rescaling_matches_the_chosen_coordinate_in_the_tail():
    xb, alpha, beta = _synthetic_logits(T=400)
    im = imitate(xb, alpha_hat=alpha, beta_hat=beta, runs=50, seed=2, coordinate=(1, 2), tail=40)
    assert im.mean[-40:, 1, 2].mean() == pytest.approx(xb[-40:, 1, 2].mean(), rel=1e-10)


def test_validation():
    xb = np.ones((10, 3, 3))
    with pytest.raises(InvalidArgument, match="alpha_hat"):
        imitate(xb, alpha_hat=np.ones(9), beta_hat=np.ones(10))
    with pytest.raises(InvalidArgument, match="xbar"):
        imitate(np.ones((10, 3, 2)), alpha_hat=np.ones(10), beta_hat=np.ones(10))
    with pytest.raises(InvalidArgument, match="runs"):
        imitate(xb, alpha_hat=np.ones(10), beta_hat=np.ones(10), runs=1)
    with pytest.raises(InvalidArgument, match="coordinate"):
        imitate(xb, alpha_hat=np.ones(10), beta_hat=np.ones(10), coordinate=(3, 0))
    with pytest.raises(InvalidArgument, match="alpha_hat"):
        imitate(xb, alpha_hat=np.full(10, np.nan), beta_hat=np.ones(10))


def test_order_check_ignores_ties_but_catches_swaps():
    from lesde_analyzer.imitation.leode import _same_order

    g = np.array([10.0, -5.0, -5.000001])
    assert _same_order(np.array([9.0, -4.0, -6.0]), g, 1e-3)
    assert _same_order(np.array([9.0, -6.0, -4.0]), g, 1e-3)
    assert not _same_order(np.array([-4.0, 9.0, -6.0]), g, 1e-3)

"""The LE-ODE imitation on data from a known LE-ODE (clean and with sampling noise)."""

import numpy as np
import pytest
from lesde_analyzer.dynamics.closed_form import i_model_solution, l_model_solution
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.imitation import AUTHORS, EXACT, default_window, imitate, imitate_authors, imitate_from_means

A0, B0, R = 0.02, -0.005, 0.3  # alpha = A0 (1+t)^-R, beta = B0 (1+t)^-R: gamma > 0, B < 0
X0 = np.array([[1.0, -0.3, 0.2], [-0.4, 0.8, -0.1], [0.1, -0.2, 0.9]])


def le_ode_data(model, *, h=1, iterations=2000, noise=0.0, seed=0):
    """Records every ``h`` iterations of the exact LE-ODE (closed form) plus independent noise.

    The noise on each entry has std ``noise`` times the record's rms logit, like the
    per-iteration class means of a sampled stream. Returns times, clean, noisy, alpha, beta.
    """
    t = np.arange(0, iterations, h, dtype=float)
    integral = ((1 + t) ** (1 - R) - 1) / (1 - R)
    solve = l_model_solution if model == "L" else i_model_solution
    clean = solve(A0 * integral, B0 * integral, X0)  # exact: beta / alpha is constant
    rms = np.sqrt(np.mean(clean**2, axis=(1, 2)))
    noisy = clean + noise * rms[:, None, None] * np.random.default_rng(seed).standard_normal(clean.shape)
    return t, clean, noisy, A0 * (1 + t) ** -R, B0 * (1 + t) ** -R


def rel_rms(a, b):
    return np.sqrt(np.mean((a - b) ** 2)) / np.sqrt(np.mean(b**2))


@pytest.mark.parametrize("model", ["L", "I"])
def test_known_rates_on_exact_data(model):
    t, x, _, alpha, beta = le_ode_data(model)
    im = imitate(x, times=t, alpha_hat=alpha, beta_hat=beta, model=model, start_window=1)
    assert im.nrmse < 1e-3
    assert im.all_orders_agree
    assert (im.procedure, im.step_kind, im.scale, im.runs, im.model) == (EXACT, "exact", 1.0, None, model)
    # holding the left record's rate overshoots a falling rate by h (lambda_0 - lambda_T)/2 per mode
    left = imitate(x, times=t, alpha_hat=alpha, beta_hat=beta, model=model, start_window=1, interval_rate="left")
    assert left.nrmse > 5 * im.nrmse


def test_trapezoid_rates_matter_at_h_10():
    t, x, _, alpha, beta = le_ode_data("L", h=10)
    trap = imitate(x, times=t, alpha_hat=alpha, beta_hat=beta, start_window=1)
    left = imitate(x, times=t, alpha_hat=alpha, beta_hat=beta, start_window=1, interval_rate="left")
    assert trap.step == 10.0
    assert trap.nrmse < 0.015  # what is left is the first interval, where (1+t)^-0.3 halves
    assert left.nrmse > 3 * trap.nrmse


@pytest.mark.parametrize("model", ["L", "I"])
def test_window_centring_on_exact_data(model):
    t, x, _, _, _ = le_ode_data(model)
    first = imitate_from_means(x, times=t, model=model, start_window=1)
    assert first.nrmse < 0.002
    assert (first.start, first.t0) == (0, 0.0)
    w = default_window(t.size)
    centred = imitate_from_means(x, times=t, model=model)
    assert (centred.start_window, centred.start, centred.t0) == (w, (w - 1) // 2, t[(w - 1) // 2])
    assert centred.nrmse < 0.002
    assert np.isnan(centred.mean[: centred.start]).all() and np.isfinite(centred.mean[centred.start :]).all()
    # the same window mean put at the window's first time shifts the run by half a window
    shifted = x.copy()
    shifted[0] = x[:w].mean(axis=0)
    late = imitate(shifted, times=t, alpha_hat=centred.alpha, beta_hat=centred.beta, model=model, start_window=1)
    assert late.nrmse > 5 * centred.nrmse


@pytest.mark.parametrize("model", ["L", "I"])
def test_start_window_spanning_e_folds_on_exact_data(model):
    """Rates that start high and fall fast: the 201-iteration start window spans about 4 e-folds.

    A plain mean of that window misses the centre state by about 30% and every later record
    would inherit the error; the records carried to the centre by the flow give the centre
    state itself.
    """
    t = np.arange(2000.0)
    a, b, tau, r = 0.12, -0.024, 20.0, 0.6
    integral = tau * ((1 + t / tau) ** (1 - r) - 1) / (1 - r)
    solve = l_model_solution if model == "L" else i_model_solution
    x = solve(a * integral, b * integral, X0)
    alpha, beta = a * (1 + t / tau) ** -r, b * (1 + t / tau) ** -r
    w = 201
    im = imitate(x, times=t, alpha_hat=alpha, beta_hat=beta, model=model, start_window=w)
    c = im.start
    assert c == 100
    assert rel_rms(x[:w].mean(axis=0), x[c]) > 0.25  # the plain mean is far off
    assert rel_rms(im.mean[c], x[c]) < 1e-4  # trapezoid rates on [0, c]: second order in h
    assert im.nrmse < 1e-4
    np.testing.assert_allclose(im.initial_se, 0.0, atol=1e-4 * np.abs(x[c]).max())  # no noise, no spread


@pytest.mark.parametrize("model", ["L", "I"])
@pytest.mark.parametrize("h", [1, 10])
def test_imitation_from_noisy_means_over_seeds(model, h):
    """5% noise per record: nrmse against the noisy means sits at the noise floor, stably."""
    start_window = None if h == 1 else 11  # 1% of 200 records is 3: a start state with 2.9% noise
    fits = []
    for seed in range(5):
        t, clean, noisy, _, _ = le_ode_data(model, h=h, noise=0.05, seed=seed)
        im = imitate_from_means(noisy, times=t, model=model, start_window=start_window)
        s = im.start
        floor = rel_rms(noisy[s:], clean[s:]) * np.sqrt(np.mean(clean[s:] ** 2) / np.mean(noisy[s:] ** 2))
        excess = np.sqrt(max(im.nrmse**2 - floor**2, 0.0))
        fits.append(im.nrmse)
        assert im.nrmse < 0.06
        assert excess < 0.03
        assert rel_rms(im.mean[s:], clean[s:]) < (0.025 if h == 1 else 0.035)  # against the noise-free path
        assert np.all(np.sign(im.mean[-1]) == np.sign(clean[-1]))  # no sign flip
        assert im.all_orders_agree
        assert im.nrmse_per_class.shape == (3,) and np.all(im.nrmse_per_class < 0.07)
        assert np.all((im.initial_se > 0) & (im.initial_se < 0.05))
    assert max(fits) - min(fits) < 0.005


def test_rates_are_per_iteration_whatever_the_record_spacing():
    t, x, _, alpha, beta = le_ode_data("L", h=10)
    im = imitate_from_means(x, times=t, model="L")
    inner = slice(20, -20)
    np.testing.assert_allclose(im.alpha[inner], alpha[inner], rtol=0.02)
    np.testing.assert_allclose(im.beta[inner], beta[inner], rtol=0.02)


def test_ensemble_spread_and_sampled_runs():
    t, _, noisy, alpha, beta = le_ode_data("L", iterations=300, noise=0.05)
    se = np.array([0.01, 0.02, 0.03])
    exact = imitate(noisy, times=t, alpha_hat=alpha, beta_hat=beta, start_window=5, initial_se=se)
    np.testing.assert_allclose(exact.std[exact.start], np.broadcast_to(se[:, None], (3, 3)), rtol=1e-12)
    np.testing.assert_allclose(exact.initial_se, se)
    runs = imitate(noisy, times=t, alpha_hat=alpha, beta_hat=beta, start_window=5, initial_se=se, runs=3000, seed=1)
    assert runs.runs == 3000
    s = exact.start
    z = np.abs(runs.mean[s:] - exact.mean[s:]) / (exact.std[s:] / np.sqrt(3000))
    assert z.max() < 4.5
    np.testing.assert_allclose(runs.std[s:], exact.std[s:], rtol=0.08)


def test_authors_procedure_is_labelled_and_its_sign_is_a_coin_flip():
    t, _, noisy, _, _ = le_ode_data("L", noise=0.05)
    rates = imitate_from_means(noisy, times=t, model="L")
    fits = [imitate_authors(noisy, alpha_hat=rates.alpha, beta_hat=rates.beta, seed=s, runs=500) for s in range(12)]
    first = fits[0]
    assert first.procedure == AUTHORS and "authors" in first.procedure
    assert (first.step_kind, first.interval_rate, first.start, first.runs) == ("euler", "euler", 0, 500)
    assert first.mean.shape == first.std.shape == noisy.shape
    scales = np.array([f.scale for f in fits])
    assert (scales > 0).any() and (scales < 0).any()  # the fitted factor divides noise by noise
    assert min(f.nrmse for f in fits) > 5 * rates.nrmse  # never close to the exact imitation


def test_orthogonal_share_through_imitate():
    t = np.arange(50.0)
    d = np.eye(3) - 1.0 / 3
    # symmetric start along d_k: q = 0, so every class stays along d_k (plus a constant)
    integral = ((1 + t) ** (1 - R) - 1) / (1 - R)
    along = l_model_solution(A0 * integral, B0 * integral, 0.7 * d + np.array([[0.1], [0.2], [-0.3]]))
    zeros = np.zeros(t.size)
    im = imitate(along, times=t, alpha_hat=A0 * (1 + t) ** -R, beta_hat=B0 * (1 + t) ** -R, start_window=3)
    np.testing.assert_allclose(im.orthogonal_share, 0.0, atol=1e-12)
    static = np.broadcast_to(np.array([[2.0, 1.0, -3.0], 1.0 + 3.0 * d[1], [1.0, -1.0, 0.0]]), (50, 3, 3))
    still = imitate(static, times=t, alpha_hat=zeros, beta_hat=zeros, start_window=3)
    np.testing.assert_allclose(still.orthogonal_share, [4.0 / 7.0, 0.0, 1.0], atol=1e-12)
    assert still.nrmse < 1e-14
    features = imitate(np.ones((10, 3, 2)) + np.arange(3)[:, None], times=np.arange(10.0), alpha_hat=np.zeros(10),
                       beta_hat=np.zeros(10), model="I", start_window=1)  # fmt: skip
    assert np.isnan(features.orthogonal_share).all()


def test_validation():
    x = np.ones((10, 3, 3)) + np.arange(3)
    t, r = np.arange(10.0), np.ones(10)
    with pytest.raises(InvalidArgument, match="alpha_hat"):
        imitate(x, times=t, alpha_hat=np.ones(9), beta_hat=r)
    with pytest.raises(InvalidArgument, match="xbar"):
        imitate(np.ones((10, 3, 2)), times=t, alpha_hat=r, beta_hat=r, model="L")
    with pytest.raises(InvalidArgument, match="times"):
        imitate(x, times=np.r_[0.0, 1.0, 3.0, np.arange(3.0, 10.0)], alpha_hat=r, beta_hat=r)
    with pytest.raises(InvalidArgument, match="times"):
        imitate(x, times=np.arange(9.0), alpha_hat=r, beta_hat=r)
    with pytest.raises(InvalidArgument, match="start_window"):
        imitate(x, times=t, alpha_hat=r, beta_hat=r, start_window=4)
    with pytest.raises(InvalidArgument, match="start_window"):
        imitate(x, times=t, alpha_hat=r, beta_hat=r, start_window=11)
    with pytest.raises(InvalidArgument, match="initial_se"):
        imitate(x, times=t, alpha_hat=r, beta_hat=r, initial_se=[0.1, 0.1])
    with pytest.raises(InvalidArgument, match="runs"):
        imitate(x, times=t, alpha_hat=r, beta_hat=r, runs=1)
    with pytest.raises(InvalidArgument, match="model"):
        imitate(x, times=t, alpha_hat=r, beta_hat=r, model="X")
    with pytest.raises(InvalidArgument, match="interval_rate"):
        imitate(x, times=t, alpha_hat=r, beta_hat=r, interval_rate="mid")
    with pytest.raises(InvalidArgument, match="alpha_hat"):
        imitate(x, times=t, alpha_hat=np.full(10, np.nan), beta_hat=r)
    holes = x.copy()
    holes[:3, 0, 0] = np.nan
    with pytest.raises(InvalidArgument, match="xbar"):
        imitate(holes, times=t, alpha_hat=r, beta_hat=r, start_window=3)
    with pytest.raises(InvalidArgument, match="coordinate"):
        imitate_authors(x, alpha_hat=r, beta_hat=r, coordinate=(3, 0))
    with pytest.raises(InvalidArgument, match="estimator"):
        imitate_from_means(x, times=t, estimator="Z")


@pytest.mark.parametrize("model", ["L", "I"])
def test_skill_against_holding_the_start_state(model):
    """The baseline "hold Xbar(t0)" scored over the same records: naive nrmse, skill near 1 on exact data."""
    t, x, _, alpha, beta = le_ode_data(model)
    im = imitate(x, times=t, alpha_hat=alpha, beta_hat=beta, model=model, start_window=1, first_record=500)
    scored = x[500:]
    naive = np.sqrt(np.mean((scored - x[500][None]) ** 2)) / np.sqrt(np.mean(scored**2))
    assert im.nrmse_hold == pytest.approx(naive, rel=1e-9)
    assert im.skill == pytest.approx(1 - im.nrmse / naive) and im.skill > 0.99
    assert im.scored_share == pytest.approx(1500 / 2000)
    # rates of the wrong sign do worse than holding still: a negative skill
    wrong = imitate(x, times=t, alpha_hat=-alpha, beta_hat=-beta, model=model, start_window=1, first_record=500)
    assert wrong.skill < 0

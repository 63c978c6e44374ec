"""Drift regression: exact on the per-iteration recursion, unbiased with honest SEs on sampled streams."""

import numpy as np
import pytest
from lesde_analyzer.dynamics import Schedule, class_transforms, initial_samples, simulate_ode, simulate_sde
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation.drift_regression import drift_regression, drift_regression_series

K = 3
# initial class means: both modes of each model present, so alpha and beta are identified
MU = {"I": 0.5 * np.array([[14.0, 10, 10], [10, 13, 10], [10, 10, 12]]), "L": 0.5 * np.diag([8.0, 5.0, 3.0])}
PAIRS = [(0.006, -0.002), (0.004, 0.001)]


def sampled_stream(alpha, beta, *, model, steps, runs=100, n=10, spread=4.0, seed=0, pi=None):
    """Per-iteration Xbar as the trainer logs it, from the discrete LE model (eq. 4, h = 1).

    Each of ``runs`` independent trials holds ``n`` features per class around ``MU[model]``
    (std ``spread``). At every iteration each trial draws a class ``L`` and a sample ``J``,
    logs that point's features (before the update), and moves every feature of class ``k``
    by ``E_{k,L} H_L X_J^L``. Xbar^k(m) is the mean over the trials that drew ``L = k`` of
    the logged features (about ``runs / K`` points, so its noise has std ~ ``spread / 5.8``).
    With ``pi`` (K probabilities) each trial draws class ``L`` with probability ``pi_L``: an
    imbalanced training set.

    Returns
    -------
    ndarray of shape (steps, K, K)
    """
    rng = np.random.default_rng(seed)
    H = class_transforms(model, K, K)
    x = MU[model][None, :, None, :] + spread * rng.standard_normal((runs, K, n, K))
    out = np.empty((steps, K, K))
    r = np.arange(runs)
    for m in range(steps):
        L = rng.integers(K, size=runs) if pi is None else rng.choice(K, size=runs, p=pi)
        src = x[r, L, rng.integers(n, size=runs)]  # (runs, K)
        sums = np.zeros((K, K))
        np.add.at(sums, L, src)
        out[m] = sums / np.maximum(np.bincount(L, minlength=K), 1)[:, None]
        hx = src if model == "I" else np.einsum("rpq,rq->rp", H[L], src)
        coef = np.where(np.arange(K)[None, :] == L[:, None], alpha, beta)  # (runs, K)
        x += coef[:, :, None, None] * hx[:, None, None, :]
    return out


def ode_plus_noise(alpha, beta, *, model, steps, trials=100, spread=4.0, seed=0):
    """The per-iteration LE recursion plus independent noise of a sampled stream's size.

    Record ``m`` is the forward-Euler (step 1) LE-ODE mean plus, per class, the mean of
    ``Binomial(trials, 1/K)`` draws of std ``spread``. Shape (steps, K, K).
    """
    rng = np.random.default_rng(seed)
    tr = simulate_ode(MU[model][None], alpha=alpha, beta=beta, model=model, step=1.0, steps=steps - 1)
    count = np.maximum(rng.binomial(trials, 1.0 / K, size=(steps, K, 1)), 1)
    return tr.means[:, 0] + spread / np.sqrt(count) * rng.standard_normal((steps, K, K))


@pytest.fixture(scope="module")
def streams():
    # 1201 iterations: the means grow from about 5 to about 50 over the fitted window
    return {(model, a, b): sampled_stream(a, b, model=model, steps=1201, seed=11) for model in ("I", "L") for a, b in PAIRS}


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("model", ["I", "L"])
def test_recovers_known_rates_from_sampled_stream(streams, model, pair):
    a, b = pair
    xb = streams[(model, a, b)]
    fit = drift_regression(xb, np.arange(xb.shape[0]), model=model, window=(200, 1200))
    assert fit.reliable and fit.reason == ""
    assert abs(fit.alpha / a - 1) < 0.2
    if abs(fit.beta) > fit.beta_se:
        assert np.sign(fit.beta) == np.sign(b)
    # honest SEs: within 3 SE here (coverage over seeds is checked below on cheaper data)
    assert abs(fit.alpha - a) < 3 * fit.alpha_se
    assert abs(fit.beta - b) < 3 * fit.beta_se
    assert (fit.unit, fit.smooth, fit.smooth_records, fit.horizon, fit.spacing) == ("per iteration", 51, 51, 100, 1)
    assert (fit.start, fit.end) == (200, 1200 - 25)  # the half-window at the end of the data is dropped
    assert fit.increments == 1200 - 25 - 200 + 1 - 100 and fit.blocks == fit.increments // 150


@pytest.mark.parametrize("model", ["I", "L"])
def test_one_step_regression_fails_on_the_same_stream(streams, model):
    """Why the estimator changed: one-step increments on the level (the old estimator).

    ``smooth=1, horizon=1`` is exactly the former module: regress Xbar(t+1) - Xbar(t) on
    Xbar(t) with 1/rms weights. The logging noise eps_t sits in the response as -eps_t and
    in the regressor as +eps_t, a bias of about -K Var(eps) / E|H Xbar|^2 that is many times
    the true alpha = 0.006: the sign comes out wrong.
    """
    a, b = PAIRS[0]
    xb = streams[(model, a, b)]
    t = np.arange(xb.shape[0])
    old = drift_regression(xb, t, model=model, smooth=1, horizon=1, window=(200, 1200))
    new = drift_regression(xb, t, model=model, window=(200, 1200))
    assert old.alpha < -2 * a
    assert abs(new.alpha / a - 1) < 0.2


def naive_fit(xb, lo, hi, *, model, smooth, horizon, weights):
    """The estimator written out with loops (records one iteration apart), for comparison."""
    T = xb.shape[0]
    pi = np.asarray(weights) / np.sum(weights)
    Hl = class_transforms(model, K, K)
    half = smooth // 2
    xs = {i: xb[i - half : i + half + 1].mean(axis=0) for i in range(lo, hi + 1)}
    hx = {i: np.array([Hl[j] @ v[j] for j in range(K)]) for i, v in xs.items()}
    Xs, ys = [], []
    for t in range(lo, hi + 1 - horizon):
        R = sum(hx[u] for u in range(t, t + horizon))  # sum over iterations t..t+H-1
        x1 = np.array([pi[k] * R[k] for k in range(K)])
        x2 = np.array([sum(pi[j] * R[j] for j in range(K) if j != k) for k in range(K)])
        w = 1.0 / np.sqrt(np.mean(xs[t] ** 2))
        Xs.append(w * np.stack([x1.ravel(), x2.ravel()], axis=1))
        ys.append(w * (xs[t + horizon] - xs[t]).ravel())
    coef = np.linalg.lstsq(np.concatenate(Xs), np.concatenate(ys), rcond=None)[0]
    g = np.array([X.T @ (y - X @ coef) for X, y in zip(Xs, ys)])  # scores per increment
    N, b = len(g), horizon + 2 * half
    S = sum(np.outer(g[j : j + b].sum(0), g[j : j + b].sum(0)) for j in range(N - b + 1))
    S *= N**2 / (b * (N - b + 1) * (N - b))
    Qi = np.linalg.inv(sum(X.T @ X for X in Xs))
    assert T > hi + half
    return coef, np.sqrt(np.diag(Qi @ S @ Qi))


@pytest.mark.parametrize("model", ["I", "L"])
def test_matches_a_naive_loop_implementation(model):
    xb = ode_plus_noise(0.006, -0.002, model=model, steps=700, seed=4)
    pi = [0.5, 0.3, 0.2]
    fit = drift_regression(xb, np.arange(700), model=model, smooth=21, horizon=60, window=(100, 650), weights=pi)
    coef, se = naive_fit(xb, 100, 650, model=model, smooth=21, horizon=60, weights=pi)
    np.testing.assert_allclose([fit.alpha, fit.beta], coef, rtol=1e-9)
    np.testing.assert_allclose([fit.alpha_se, fit.beta_se], se, rtol=1e-7)
    assert fit.blocks == (551 - 60) // 80


def test_standard_errors_cover_the_truth_over_seeds():
    """Over 20 seeds the true rates lie within 2 SE in most fits (overlapping batch means, 5 blocks)."""
    hits = np.zeros(2)
    for seed in range(20):
        xb = ode_plus_noise(0.006, -0.002, model="L", steps=1201, seed=seed)
        fit = drift_regression(xb, np.arange(1201), model="L", window=(200, 1200))
        hits += [abs(fit.alpha - 0.006) < 2 * fit.alpha_se, abs(fit.beta + 0.002) < 2 * fit.beta_se]
    assert np.all(hits >= 16)


@pytest.mark.parametrize("model", ["I", "L"])
def test_exact_on_the_per_iteration_recursion(model):
    """Noise-free Xbar(t+1) = (I + M) Xbar(t): exact for one record per iteration.

    Records h iterations apart: the per-iteration sum comes from the trapezoid rule with its
    end term, whose error is (h^2 - 1)/12 lambda^2 (lambda ~ 0.0027 here: 0.6 % at h = 100).
    """
    tr = simulate_ode(MU[model][None], alpha=0.006, beta=-0.002, model=model, step=1.0, steps=1200)
    xb, t = tr.means[:, 0], tr.times
    fit = drift_regression(xb, t, model=model, window=(200, 1200))
    np.testing.assert_allclose([fit.alpha, fit.beta], [0.006, -0.002], rtol=1e-9)
    for h, rtol in ((10, 2e-4), (100, 1e-2)):
        sub = drift_regression(xb[::h], t[::h], model=model, window=(200, 1200))
        np.testing.assert_allclose([sub.alpha, sub.beta], [0.006, -0.002], rtol=rtol)
        assert sub.spacing == h and sub.horizon == 100


ODE_CASES = {
    "constant": (Schedule.constant(0.6), Schedule.constant(-0.2)),
    "power": (Schedule.power(1.0, 0.5), Schedule.power(-0.5, 0.5)),
}


@pytest.mark.parametrize("kind", sorted(ODE_CASES))
@pytest.mark.parametrize("model", ["I", "L"])
def test_continuous_time_ode_data(model, kind):
    """LE-ODE in continuous time (RK4, step 0.01; rates per unit time of order one).

    ``continuous=True`` integrates the regressors by the trapezoid rule: constant rates come
    back to 1e-5; decaying ones at the window centres to 1 % (windows of one time unit).
    """
    alpha, beta = ODE_CASES[kind]
    x0 = np.random.default_rng(8).standard_normal((1, K, K))
    tr = simulate_ode(x0, alpha=alpha, beta=beta, model=model, step=0.01, steps=2000, method="rk4")
    xb, t = tr.means[:, 0], tr.times
    opts = dict(model=model, smooth=0.05, horizon=0.2, continuous=True)
    fit = drift_regression(xb, t, **opts)
    assert fit.unit == "per unit time" and fit.end == pytest.approx(19.98)
    s = drift_regression_series(xb, t, span=1.0, **opts)
    np.testing.assert_allclose(s.alpha, alpha(s.times), rtol=0.01)
    np.testing.assert_allclose(s.beta, beta(s.times), rtol=0.01)
    if kind == "constant":
        np.testing.assert_allclose([fit.alpha, fit.beta], [0.6, -0.2], rtol=1e-5)


def test_sde_class_means_standard_errors_are_honest():
    """LE-SDE class means (n = 50, sigma = 1): the noise is the model's own, not logging noise.

    Over 20 seeds the truth lies within 2 SE in most fits and the mean SE is within a factor
    of two of the spread of the estimates.
    """
    est, se = [], []
    for seed in range(20):
        x0 = initial_samples(1, K, 50, K, seed=seed) + 2.0 * np.eye(K)[None, :, None, :]
        tr = simulate_sde(x0, alpha=1.0, beta=-0.3, sigma=1.0, model="L", step=0.01, steps=400, seed=100 + seed, keep_samples=False)
        fit = drift_regression(tr.means[:, 0], tr.times, model="L", smooth=0, horizon=0.1, window=(0, 4), continuous=True)
        est.append((fit.alpha, fit.beta))
        se.append((fit.alpha_se, fit.beta_se))
    est, se = np.array(est), np.array(se)
    assert np.all(np.sum(np.abs(est - [1.0, -0.3]) < 2 * se, axis=0) >= 16)
    ratio = se.mean(axis=0) / est.std(axis=0)
    assert np.all((ratio > 0.5) & (ratio < 2.0))


@pytest.mark.parametrize("model", ["I", "L"])
def test_record_spacing_gives_the_same_estimate(streams, model):
    """Every 10th / 100th record of the same noisy run: the same per-iteration rates."""
    a, b = PAIRS[0]
    xb = streams[(model, a, b)]
    t = np.arange(xb.shape[0])
    ref = drift_regression(xb, t, model=model, window=(200, 1200))
    for h, H in ((10, 100), (100, 200)):
        sub = drift_regression(xb[::h], t[::h], model=model, horizon=H, window=(200, 1200))
        assert sub.smooth_records == (5 if h == 10 else 1)
        tol = 3 * np.hypot(sub.alpha_se, ref.alpha_se)
        assert abs(sub.alpha - ref.alpha) < tol
        assert abs(sub.beta - ref.beta) < 3 * np.hypot(sub.beta_se, ref.beta_se)
        assert abs(sub.alpha / ref.alpha - 1) < 0.2


@pytest.mark.parametrize("model", ["I", "L"])
def test_series_tracks_decaying_rates_at_window_centres(model):
    alpha, beta = Schedule.power(0.01, 0.5), Schedule.power(-0.004, 0.5)
    tr = simulate_ode(MU[model][None], alpha=alpha, beta=beta, model=model, step=1.0, steps=6000)
    s = drift_regression_series(tr.means[:, 0], tr.times, model=model, span=1000)
    assert s.times.size == 5 and s.span == 1000 and s.unit == "per iteration"
    assert s.end[-1] == 6000 - 25 and np.all(s.start[1:] == s.end[:-1] + 1)  # tiles back from the end
    np.testing.assert_allclose(s.times, (s.start + s.end) / 2)
    np.testing.assert_allclose(s.alpha, alpha(s.times), rtol=0.015)
    np.testing.assert_allclose(s.beta, beta(s.times), rtol=0.015)
    assert s.reliable.all() and np.all(s.blocks == 6)
    last = drift_regression(tr.means[:, 0], tr.times, model=model, window=(s.start[-1], s.end[-1]))
    assert (last.alpha, last.beta) == (s.alpha[-1], s.beta[-1])


def test_default_window_and_unreliable_flag():
    """Default: the last 10 % (here extended to 4 blocks); a noise-only run is not reliable."""
    rng = np.random.default_rng(3)
    xb = 5.0 + 0.7 * rng.standard_normal((3000, K, K))
    fit = drift_regression(xb, np.arange(3000))
    assert (fit.start, fit.end) == (2974 - 699, 2974) and fit.blocks == 4
    assert not fit.reliable and "alpha_se" in fit.reason
    few = drift_regression(xb, np.arange(3000), window=(0, 500))
    assert few.blocks == 2 and not few.reliable and "blocks" in few.reason


def test_validation_names_the_argument():
    xb = np.ones((400, 2, 1))
    t = np.arange(400)
    with pytest.raises(InvalidArgument, match="^window: .*holds 125 usable records") as e:
        drift_regression(xb, t, window=(250, 400))
    assert e.value.argument == "window"
    with pytest.raises(InvalidArgument, match="^window"):
        drift_regression(xb, t, window=(300, 100))
    with pytest.raises(InvalidArgument, match="^horizon: .*multiple of the record spacing 10"):
        drift_regression(xb[::10], t[::10], horizon=105)
    with pytest.raises(InvalidArgument, match="^horizon: .*at least twice the smoothing width"):
        drift_regression(xb, t, smooth=51, horizon=80)
    bad = xb.copy()
    bad[7, 0, 0] = np.nan
    with pytest.raises(InvalidArgument, match="^xbar: .*finite"):
        drift_regression(bad, t)
    with pytest.raises(InvalidArgument, match="^times"):
        drift_regression(xb, np.r_[0, np.arange(2, 401)])
    with pytest.raises(InvalidArgument, match="^times"):
        drift_regression(xb, t[:-1])
    with pytest.raises(InvalidArgument, match="^xbar: the run holds 350 usable records"):
        drift_regression(xb[:400], t[:400], horizon=150)
    with pytest.raises(InvalidArgument, match="^span"):
        drift_regression_series(xb, t, span=200)
    with pytest.raises(InvalidArgument, match="^model"):
        drift_regression(xb, t, model="X")
    with pytest.raises(InvalidArgument, match="^times: .*continuous=True"):
        drift_regression(xb, t / 100)


@pytest.mark.parametrize("model", ["I", "L"])
def test_imbalanced_sampling_is_recovered_with_the_class_weights_and_biased_without(model):
    """Known answer on the extended LE model (classes drawn with probabilities pi, the drift's
    (k, l) block weighted by pi_l), over 20 seeds: the weighted regression covers alpha and
    beta within 2 SE in at least 18 (its SEs err large: the std of the z-scores was 0.3-0.6
    when measured); the balanced one (1/K) misses alpha by more than 2 SE in at least 18, since
    it credits the rare class with pushes it did not get (it reads alpha about 60% high)."""
    pi = np.array([0.6, 0.3, 0.1])
    alpha, beta = 0.006, -0.002
    covered = missed = 0
    for seed in range(20):
        xb = sampled_stream(alpha, beta, model=model, steps=1201, seed=100 + seed, pi=pi, runs=200)
        fit = drift_regression(xb, np.arange(1201), model=model, smooth=21, horizon=60, window=(100, 1150), weights=pi)
        covered += abs(fit.alpha - alpha) < 2 * fit.alpha_se and abs(fit.beta - beta) < 2 * fit.beta_se
        balanced = drift_regression(xb, np.arange(1201), model=model, smooth=21, horizon=60, window=(100, 1150))
        missed += abs(balanced.alpha - alpha) > 2 * balanced.alpha_se
    assert covered >= 18 and missed >= 18, (covered, missed)

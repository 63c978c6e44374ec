"""The imitation's start where the class means stand clear of their noise: the onset
against a closed form, the exact LE-ODE from a later first record, and the bias it removes
(rates read off a noise-dominated start under-grow the simulation)."""

import numpy as np
import pytest
from lesde_analyzer.dynamics.closed_form import i_model_solution, l_model_solution
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import estimate_integrals
from lesde_analyzer.imitation import imitate, signal_onset
from scipy.signal import savgol_filter

X0 = np.array([[1.0, -0.3, 0.2], [-0.4, 0.8, -0.1], [0.1, -0.2, 0.9]])


def growing_from_tiny(model, *, T=3000, scale=1e-3, alpha=0.006, beta=-0.002, noise=0.02, seed=0):
    """Exact LE-ODE class means started at ``scale * X0`` (logits near zero, as at a network's
    initialisation), plus per-record Gaussian noise of std ``noise``: the first records are noise."""
    t = np.arange(T, dtype=float)
    solve = l_model_solution if model == "L" else i_model_solution
    clean = solve(alpha * t, beta * t, scale * X0)
    noisy = clean + noise * np.random.default_rng(seed).standard_normal(clean.shape)
    return t, clean, noisy, np.full(T, alpha), np.full(T, beta)


def rates_from(xbar, model, *, window=21):
    """alpha-hat, beta-hat as the analysis reads them: log-ratio integrals, Savitzky-Golay derivative."""
    est = estimate_integrals(xbar, model=model)
    return (savgol_filter(est.A, window, 2, deriv=1), savgol_filter(est.B, window, 2, deriv=1))


def test_the_onset_of_one_exponential_mode_against_its_closed_form():
    """I-model, K = 2, p = 1, beta = 0: D = c e^{lambda t}; the common mode stays 0 (excluded by
    giving it no noise-free energy). Level over noise crosses snr where c e^{lambda (f + (w-1)/2)}
    (window mean, to first order) equals snr times the pooled noise."""
    T, w, lam, c, sigma, snr = 4000, 21, 0.004, 1e-3, 0.01, 3.0
    t = np.arange(T, dtype=float)
    x = np.zeros((T, 2, 1))
    x[:, 0, 0], x[:, 1, 0] = c * np.exp(lam * t), -c * np.exp(lam * t)  # m = 0, D = +-c e^{lam t}
    x += sigma * np.random.default_rng(3).standard_normal(x.shape)
    onset = signal_onset(x, model="I", window=w, snr=snr)
    # components: m (noise sigma/sqrt 2 per record, level 0) and D (two, noise sigma/sqrt 2, level c e^{...});
    # pooled: sqrt(2/3) c e^{lam tc} = snr * sigma / sqrt 2  ->  tc = log(snr sigma sqrt(3) / (2 c)) / lam
    tc = np.log(snr * sigma * np.sqrt(3) / (2 * c)) / lam
    expected = tc - (w - 1) / 2
    assert onset.reached
    assert abs(onset.record - expected) <= 0.05 * expected, (onset.record, expected)


@pytest.mark.parametrize("model", ["L", "I"])
def test_exact_rates_from_a_later_first_record_reproduce_the_path(model):
    t, clean, _, alpha, beta = growing_from_tiny(model, noise=0.0)
    im = imitate(clean, times=t, alpha_hat=alpha, beta_hat=beta, model=model, start_window=31, first_record=1200)
    assert im.start == 1200 + 15 and im.t0 == 1215.0
    assert np.isnan(im.mean[: im.start]).all()
    assert im.nrmse < 1e-6


@pytest.mark.parametrize("model", ["L", "I"])
def test_starting_at_the_onset_removes_the_noise_bias_of_the_rates(model):
    """Rates estimated from noisy means that start near zero: from record 0 the log-ratio of
    noise inflates the start of the integrals, and the simulation from the (denoised) start
    state grows far too little; from the onset it follows the path."""
    t, clean, noisy, _, _ = growing_from_tiny(model)
    a, b = rates_from(noisy, model)
    w = 31
    from_zero = imitate(noisy, times=t, alpha_hat=a, beta_hat=b, model=model, start_window=w)
    onset = signal_onset(noisy, model=model, window=w, snr=3.0)
    assert onset.reached and 0 < onset.record < 0.75 * len(t)  # signal from about 1,500 records on
    from_onset = imitate(noisy, times=t, alpha_hat=a, beta_hat=b, model=model, start_window=w, first_record=onset.record)
    assert from_zero.nrmse > 0.5
    assert from_onset.nrmse < 0.15
    assert from_onset.nrmse < from_zero.nrmse / 4


def test_a_run_that_never_clears_its_noise_says_so():
    rng = np.random.default_rng(1)
    onset = signal_onset(0.01 * rng.standard_normal((500, 3, 3)), model="L", window=11, snr=3.0)
    assert not onset.reached and onset.record == 0 and onset.snr.shape == (490,)


def test_bad_arguments_name_the_field():
    x = np.zeros((10, 3, 3))
    with pytest.raises(InvalidArgument, match="window"):
        signal_onset(x, window=11)
    with pytest.raises(InvalidArgument, match="snr"):
        signal_onset(x, window=3, snr=0)
    with pytest.raises(InvalidArgument, match="first_record"):
        imitate(x + 1, times=np.arange(10.0), alpha_hat=np.zeros(10), beta_hat=np.zeros(10), start_window=3, first_record=8)

"""The paper's results reproduced by the simulators (small sizes, fixed seeds)."""

import numpy as np
import pytest
from lesde_analyzer.dynamics import Schedule, initial_samples, l_model_solution, simulate_sde
from lesde_analyzer.geometry import etf_distance, separable_fraction


@pytest.mark.parametrize("gap, expect_separable", [(0.5, True), (0.0, False), (-0.5, False)])
def test_theorem_2_1_binary_phase_transition(gap, expect_separable):
    """K = 2, p = 1, constant alpha, beta; alpha + beta = 0 keeps the common mode bounded."""
    x0 = initial_samples(100, 2, 20, 1, seed=11)
    tr = simulate_sde(x0, alpha=gap / 2, beta=-gap / 2, sigma=1.0, step=0.05, steps=800, record_every=800, seed=12)
    frac = separable_fraction(tr.samples[-1])
    if expect_separable:
        assert frac >= 0.95
    else:
        assert frac <= 0.05


@pytest.mark.parametrize("r, expect_separable", [(0.5, True), (1.5, False)])
def test_theorem_3_1_tail_exponent(r, expect_separable):
    """gamma(t) = alpha - beta = 2 (1 + t)^-r with beta = 0, K = 2, p = 1, t = 100."""
    x0 = initial_samples(60, 2, 20, 1, seed=21)
    tr = simulate_sde(x0, alpha=Schedule.power(2.0, r), beta=0.0, sigma=1.0, step=0.1, steps=1000, record_every=1000, seed=22)
    frac = separable_fraction(tr.samples[-1])
    if expect_separable:
        assert frac >= 0.95
    else:
        assert frac <= 0.05


def test_theorem_3_1_multiclass_l_model_separates():
    """K = 3, p = 3 (LP path) with gamma > 0 of tail index 0.5."""
    x0 = initial_samples(20, 3, 15, 3, seed=31)
    tr = simulate_sde(x0, alpha=Schedule.power(3.0, 0.5), beta=-0.5, model="L", sigma=1.0, step=0.1, steps=400, record_every=400, seed=32)
    assert separable_fraction(tr.samples[-1]) >= 0.95
    assert separable_fraction(tr.samples[0]) <= 0.05


def test_proposition_3_4_neural_collapse_closed_form():
    """L-model, gamma > 0 and B(t) < 0: normalised class means tend to a simplex ETF."""
    K = 4
    alpha, beta = Schedule.power(2.0, 0.1), Schedule.constant(-1.0)
    t = np.linspace(0, 60, 6001)
    x0 = np.random.default_rng(1).standard_normal((10, K, K))
    xb = l_model_solution(alpha.integral(t), beta.integral(t), x0)
    d = etf_distance(xb, normalize=True)  # (T, 10)
    assert np.all(d[0] > 0.1)
    assert np.all(d[-1] < 1e-3)
    assert np.all(d[-1] < d[len(t) // 2])


def test_proposition_3_4_neural_collapse_sde():
    """The same with noise: the mean over runs of the ETF distance of the SDE means -> 0."""
    x0 = initial_samples(20, 3, 30, 3, seed=41)
    tr = simulate_sde(x0, alpha=1.0, beta=-0.5, model="L", sigma=0.5, step=0.05, steps=800, record_every=200, seed=42)
    d = etf_distance(tr.means, normalize=True).mean(axis=1)
    assert d[0] > 0.2
    assert d[-1] < 1e-3

"""Tail index and the Theorem 3.1 verdict, against closed-form integrals of power laws."""

import numpy as np
import pytest
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation.tail import GAMMA_NEGATIVE, gamma_integral, separability_verdict, tail_index, tail_indices

T_ITER = np.arange(0, 10001, dtype=float)  # iterations 0..10000, one record each
WINDOW = (1000.0, 10000.0)
CONSTANTS = (1e-3, 1e-2, 0.1, 1.0, 10.0)


def integral(c: float, r: float, t: np.ndarray) -> np.ndarray:
    """Exact integral from 0 of gamma = c (1+t)^-r."""
    if r == 1:
        return c * np.log1p(t)
    return c / (1 - r) * ((1 + t) ** (1 - r) - 1)


def random_walk(rng: np.random.Generator, sigma: float, size: int) -> np.ndarray:
    """Integrated white noise, sigma per sqrt(iteration), starting at 0; shape (size,)."""
    return sigma * np.concatenate([[0.0], np.cumsum(rng.standard_normal(size - 1))])


def verdict_of(G: np.ndarray, t: np.ndarray = T_ITER, **kw):
    """Gamma = G through the public entry point: B = 0 makes both I-model modes equal to A."""
    return tail_indices(G, np.zeros_like(G), times=t, model="I", K=2, window=WINDOW, **kw)


@pytest.mark.parametrize(
    ("r", "label"),
    [(0.3, "separable"), (0.5, "separable"), (0.8, "separable"), (1.2, "not separable"), (1.5, "not separable"), (2.0, "not separable")],
)
def test_exact_power_laws_give_r_and_label_for_every_constant(r, label):
    for c in CONSTANTS:
        res = verdict_of(integral(c, r, T_ITER))
        g = res.Gamma
        assert g.r_slope == pytest.approx(r, abs=1e-6), c
        assert g.amplitude == pytest.approx(c, rel=1e-6)
        assert res.verdict.label == label, (c, res.verdict.why)
        assert res.verdict.separable is (label == "separable")
        assert res.verdict.band == 0.05  # exact data: the tolerance, not 2 SE, sets the band
        assert g.window == WINDOW and g.n_records == 9001
        if r > 1:
            # the plain slope flattens with log|Gamma| and can never cross 1: why it does not decide
            assert 0.9 < g.r_plain_slope < 1.0
            assert g.limit == pytest.approx(c / (r - 1), rel=1e-6)
        else:
            assert np.isnan(g.limit)


def test_plain_slope_on_the_bounded_integral_is_about_0_99():
    g = tail_index(integral(10.0, 1.5, T_ITER), times=T_ITER, window=WINDOW)
    assert g.r_plain_slope == pytest.approx(0.99, abs=0.005)
    assert g.r_slope == pytest.approx(1.5, abs=1e-6)


def test_r_equal_one_is_inconclusive():
    for c in CONSTANTS:
        res = verdict_of(integral(c, 1.0, T_ITER))
        assert res.Gamma.r_slope == pytest.approx(1.0, abs=1e-6)
        assert res.verdict.label == "inconclusive" and res.verdict.separable is None
        assert "within the band" in res.verdict.why


def test_offset_and_factor_do_not_move_r():
    G = integral(1.0, 1.5, T_ITER)
    base = tail_index(G, times=T_ITER, window=WINDOW)
    moved = tail_index(7.0 * G - 3.0, times=T_ITER, window=WINDOW)
    assert moved.r_slope == pytest.approx(base.r_slope, abs=1e-6)
    assert moved.limit == pytest.approx(7.0 * 2.0 - 3.0, rel=1e-6)
    assert moved.amplitude == pytest.approx(7.0, rel=1e-6)


def test_authors_r_hat_is_biased_by_the_constant():
    """Times 0..10000, last 1000 iterations: r_hat lands on the wrong side of 1 both ways."""
    last = T_ITER > 9000

    def naive(G):
        return 1 - np.mean(np.log(np.abs(G[last])) / np.log1p(T_ITER[last]))

    steep = verdict_of(integral(10.0, 1.5, T_ITER))  # not separable
    slow = verdict_of(integral(1e-3, 0.5, T_ITER))  # separable
    assert steep.Gamma.r_hat == pytest.approx(naive(integral(10.0, 1.5, T_ITER)), abs=1e-12)
    assert slow.Gamma.r_hat == pytest.approx(naive(integral(1e-3, 0.5, T_ITER)), abs=1e-12)
    assert steep.Gamma.r_hat == pytest.approx(0.6740, abs=1e-4)
    assert slow.Gamma.r_hat == pytest.approx(1.1797, abs=1e-4)
    assert steep.Gamma.r_hat_window == (9001.0, 10000.0)
    # the bias formula -log|c/(1-r)| / log t, at the middle of the window, for the growing one
    assert slow.Gamma.r_hat == pytest.approx(0.5 - np.log(1e-3 / 0.5) / np.log(9500), abs=0.01)
    assert steep.verdict.label == "not separable" and slow.verdict.label == "separable"
    # Figure 4c's number is min(r_hat(A), r_hat(B)); B = 0 has no log, so it is r_hat(A)
    assert steep.r_min_alpha_beta == pytest.approx(steep.A.r_hat)


def test_sign_flip_of_r_hat():
    g = tail_index(-integral(1.0, 0.3, T_ITER), times=T_ITER, window=WINDOW)
    assert g.flipped
    assert g.r_slope == pytest.approx(0.3, abs=1e-6)
    assert g.amplitude == pytest.approx(-1.0, rel=1e-6)


def test_records_every_100_iterations_give_the_same_r():
    coarse = T_ITER[::100]
    for r in (0.5, 1.5):
        G = integral(1.0, r, T_ITER)
        fine = tail_index(G, times=T_ITER, window=WINDOW)
        thin = tail_index(G[::100], times=coarse, window=WINDOW)
        assert thin.r_slope == pytest.approx(fine.r_slope, abs=1e-6)
        assert thin.amplitude == pytest.approx(fine.amplitude, rel=1e-6)
        assert thin.n_records == 91 and thin.window == WINDOW
        # rates stay per iteration whatever the spacing
        assert thin.rate_mean == pytest.approx(fine.rate_mean, rel=0.02)


def test_default_window_is_the_last_decade():
    g = tail_index(integral(1.0, 0.5, T_ITER), times=T_ITER)
    assert g.window == WINDOW


def test_time_series_se_covers_white_noise_on_the_levels():
    """Without trial replicates the SE is the time-series fallback: right for white noise on the levels."""
    rng = np.random.default_rng(0)
    cases = ((0.5, 0.05, "separable"), (1.5, 1e-3, "not separable"))
    for r, sigma, label in cases:
        covered = 0
        for _ in range(20):
            g = tail_index(integral(1.0, r, T_ITER) + sigma * rng.standard_normal(T_ITER.size), times=T_ITER, window=WINDOW)
            assert 0 < g.r_slope_se < 0.1 and g.groups == 0 and g.se_method.startswith("time series")
            covered += abs(g.r_slope - r) <= 2 * g.r_slope_se
            verdict = separability_verdict(g.r_slope, se=g.r_slope_se, rate=g.rate_mean, rate_se=g.rate_mean_se)
            assert verdict.label == label, verdict.why
        assert covered >= 16, (r, covered)  # about 19 expected


def test_large_noise_is_inconclusive_and_still_covered():
    rng = np.random.default_rng(1)
    for r, sigma in ((0.5, 1000.0), (1.5, 5.0)):  # noise far above Gamma's rise over the window
        res = verdict_of(integral(1.0, r, T_ITER) + sigma * rng.standard_normal(T_ITER.size))
        g = res.Gamma
        assert res.verdict.label == "inconclusive", res.verdict.why
        if not g.at_bound:
            assert g.r_slope_se > 0.3 and abs(g.r_slope - r) <= 2 * g.r_slope_se


def test_rate_mean_and_its_se():
    G = integral(1.0, 0.5, T_ITER)
    exact = tail_index(G, times=T_ITER, window=WINDOW)
    # mean of gamma between the first and last bins' middle records: (G(t2) - G(t1)) / (t2 - t1) there
    assert exact.rate_mean == pytest.approx((G[-1] - G[1000]) / 9000, rel=0.02)
    rng = np.random.default_rng(2)
    sigma = 0.5
    noisy = tail_index(G + sigma * rng.standard_normal(T_ITER.size), times=T_ITER, window=WINDOW)
    # medians of the first (~55 records) and last (~500) bins: SE 1.25 sigma / sqrt(n) each
    expected = np.hypot(1.25 * sigma / np.sqrt(55), 1.25 * sigma / np.sqrt(500)) / 9000
    assert noisy.rate_mean_se == pytest.approx(expected, rel=0.6)
    assert abs(noisy.rate_mean - exact.rate_mean) <= 3 * noisy.rate_mean_se


def test_gamma_min_rule_where_the_modes_cross():
    t = np.arange(101.0)
    A, B = np.full_like(t, 10.0), t - 50.0  # B changes sign at t = 50
    gi = gamma_integral(A, B, model="I", K=3)
    np.testing.assert_allclose(gi.modes, [A - B, A + 2 * B])
    np.testing.assert_allclose(gi.values, np.where(B > 0, A - B, A + 2 * B))
    assert gi.mode_names == ("A - B", "A + 2 B") and "I-model" in gi.definition
    gl = gamma_integral(A, B, model="L", K=3)
    np.testing.assert_allclose(gl.modes, [A - B, A + B / 2])
    np.testing.assert_allclose(gl.values, np.where(B > 0, A - B, A + B / 2))
    assert gl.mode_names == ("A - B", "A + B/2") and "L-model" in gl.definition
    g4 = gamma_integral(A, B, model="L", K=4)
    np.testing.assert_allclose(g4.values, np.minimum(A - B, A + B / 3))
    g2 = gamma_integral(A, B, model="I", K=2)
    np.testing.assert_allclose(g2.values, np.minimum(A - B, A + B))


def test_the_slower_mode_decides_the_verdict():
    """alpha - beta ~ t^-0.5 but alpha + 2 beta ~ t^-1.5 (K = 3): the I-model's Gamma is
    bounded (not separable) though A - B alone grows; the L-model's q mode still grows."""
    u = 1 + T_ITER
    A_minus_B = 2 * (np.sqrt(u) - 1)  # integral of u^-0.5
    A_plus_2B = 2 * (1 - 1 / np.sqrt(u))  # integral of u^-1.5
    B = (A_plus_2B - A_minus_B) / 3
    A = A_minus_B + B
    res_i = tail_indices(A, B, times=T_ITER, model="I", K=3, window=WINDOW)
    assert res_i.Gamma.r_slope == pytest.approx(1.5, abs=1e-6)
    assert res_i.verdict.label == "not separable"
    assert res_i.gamma_mode_share == 0.0 and "A - B is the smaller mode on 0%" in res_i.gamma_definition
    assert res_i.model == "I" and res_i.K == 3
    res_l = tail_indices(A, B, times=T_ITER, model="L", K=3, window=WINDOW)
    # A + B/2 = sqrt(u) - 1/sqrt(u): the bounded part is nearly constant over the window
    assert res_l.Gamma.r_slope == pytest.approx(0.5, abs=0.01)
    assert res_l.verdict.label == "separable"
    assert "L-model" in res_l.gamma_definition
    # A and B get the same fit, for the figure
    assert res_i.A.r_slope == res_l.A.r_slope and np.isfinite(res_i.B.r_slope)


def test_decreasing_gamma_is_not_separable():
    G = -integral(1.0, 0.5, T_ITER)  # gamma = -(1+t)^-0.5 < 0
    res = verdict_of(G)
    assert res.Gamma.rate_mean < 0
    assert res.verdict.label == "not separable" and res.verdict.separable is False
    assert res.verdict.why.startswith(GAMMA_NEGATIVE)


def test_flat_and_missing_series_are_inconclusive():
    flat = verdict_of(np.full_like(T_ITER, 3.0))
    assert np.isnan(flat.Gamma.r_slope) and flat.Gamma.r_slope_se == np.inf
    assert flat.verdict.label == "inconclusive"
    missing = verdict_of(np.full_like(T_ITER, np.nan))
    assert np.isnan(missing.Gamma.r_slope) and missing.Gamma.n_records == 0
    assert missing.verdict.label == "inconclusive" and np.isnan(missing.r_min_alpha_beta)
    holes = integral(1.0, 0.5, T_ITER)
    holes[::7] = np.nan
    assert tail_index(holes, times=T_ITER, window=WINDOW).r_slope == pytest.approx(0.5, abs=1e-6)


def test_r_beyond_the_search_interval_sits_at_the_bound():
    g = verdict_of(integral(1.0, 4.5, T_ITER), r_bounds=(-1.0, 4.0))
    assert g.Gamma.at_bound and g.Gamma.r_slope == pytest.approx(4.0)
    # a fit stopped at its bound is no estimate: no label, and the reason says so
    assert g.verdict.label == "inconclusive" and "no estimate" in g.verdict.why and np.isnan(g.verdict.r_gamma)
    # the default search interval reaches r = 10: a Gamma that saturates fast is still estimated
    wide = verdict_of(integral(1.0, 4.5, T_ITER))
    assert not wide.Gamma.at_bound and wide.Gamma.r_slope == pytest.approx(4.5, abs=1e-4)
    assert wide.verdict.label == "not separable"
    # r = 12: Gamma moves by 1e-30 of itself over the window, below rounding; no label
    assert verdict_of(integral(1.0, 12.0, T_ITER)).verdict.label == "inconclusive"


def test_separability_verdict_band_and_reason():
    assert separability_verdict(0.5, se=0.1).label == "separable"  # band 0.2
    v = separability_verdict(0.85, se=0.1)
    assert v.label == "inconclusive" and v.band == pytest.approx(0.2) and "0.200" in v.why
    assert separability_verdict(1.06, se=0.0).label == "not separable"
    assert separability_verdict(1.04, se=0.0).label == "inconclusive"
    assert separability_verdict(1.04, se=0.0, tolerance=0.02).label == "not separable"
    assert separability_verdict(float("nan"), se=float("nan")).label == "inconclusive"
    neg = separability_verdict(0.5, se=0.01, rate=-1.0, rate_se=0.1)
    assert neg.label == "not separable" and neg.why.startswith(GAMMA_NEGATIVE)
    assert separability_verdict(0.5, se=0.01, rate=-0.1, rate_se=0.1).label == "separable"
    with pytest.raises(InvalidArgument, match="tolerance"):
        separability_verdict(0.5, se=0.1, tolerance=-0.1)
    with pytest.raises(InvalidArgument, match="se"):
        separability_verdict(0.5, se=-1.0)


def test_validation():
    t = np.arange(20.0)
    v = integral(1.0, 0.5, t)
    with pytest.raises(InvalidArgument, match=r"window: \[10, 13\] holds 4 records"):
        tail_index(v, times=t, window=(10, 13))
    with pytest.raises(InvalidArgument, match="window"):
        tail_index(v, times=t, window=(5, 3))
    with pytest.raises(InvalidArgument, match="window"):
        tail_index(v, times=t, window=5)
    with pytest.raises(InvalidArgument, match="window"):
        tail_index(v[:4], times=t[:4])
    bad = t.copy()
    bad[7] = bad[6]
    with pytest.raises(InvalidArgument, match=r"times: must be strictly increasing; got times\[7\] = 6"):
        tail_index(v, times=bad)
    with pytest.raises(InvalidArgument, match="times"):
        tail_index(v, times=t - 1)
    with pytest.raises(InvalidArgument, match="times"):
        tail_index(v, times=t[:5])
    with pytest.raises(InvalidArgument, match="bins"):
        tail_index(v, times=t, bins=2)
    with pytest.raises(InvalidArgument, match="r_bounds"):
        tail_index(v, times=t, r_bounds=(1.2, 3.0))
    with pytest.raises(InvalidArgument, match="last"):
        tail_index(v, times=t, last=0)
    with pytest.raises(InvalidArgument, match="model"):
        tail_indices(v, v, times=t, model="X", K=3)
    with pytest.raises(InvalidArgument, match="K"):
        tail_indices(v, v, times=t, model="I", K=1)
    with pytest.raises(InvalidArgument, match="B_hat"):
        tail_indices(v, v[:5], times=t, model="I", K=3)
    with pytest.raises(InvalidArgument, match="tolerance"):
        tail_indices(v, v, times=t, model="I", K=3, tolerance=0.9)
    with pytest.raises(InvalidArgument, match="K"):
        gamma_integral(v, v, model="L", K=1.5)

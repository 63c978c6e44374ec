"""Fit metrics: nrmse against a naive loop, the order check, the orthogonal energy share."""

import numpy as np
import pytest
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.imitation import nrmse, orthogonal_share, same_order


def test_nrmse_equals_a_naive_loop_and_skips_non_finite_entries():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((6, 3, 2))
    s = g + 0.1 * rng.standard_normal(g.shape)
    g[2, 1, 0] = np.nan
    num = den = 0.0
    num_k, den_k = np.zeros(3), np.zeros(3)
    for t in range(6):
        for k in range(3):
            for j in range(2):
                if np.isfinite(g[t, k, j]):
                    num += (s[t, k, j] - g[t, k, j]) ** 2
                    den += g[t, k, j] ** 2
                    num_k[k] += (s[t, k, j] - g[t, k, j]) ** 2
                    den_k[k] += g[t, k, j] ** 2
    overall, per_class = nrmse(s, g)
    assert overall == pytest.approx(np.sqrt(num / den), rel=1e-12)
    np.testing.assert_allclose(per_class, np.sqrt(num_k / den_k), rtol=1e-12)


def test_order_check_ignores_ties_but_catches_swaps():
    g = np.array([10.0, -5.0, -5.000001])
    assert same_order([9.0, -4.0, -6.0], g, tolerance=1e-3)
    assert same_order([9.0, -6.0, -4.0], g, tolerance=1e-3)
    assert not same_order([-4.0, 9.0, -6.0], g, tolerance=1e-3)
    assert not same_order([9.0, -6.0, -4.0], g, tolerance=0.0)


def test_orthogonal_share_hand_computed():
    d = np.eye(3) - 1.0 / 3
    logits = np.array(
        [
            [2.0, 1.0, -3.0],  # centred already; along d_0: (2, -1, -1), across: (0, 2, -2) -> 8 / 14
            1.0 + 3.0 * d[1],  # along d_1 plus a constant -> 0
            [1.0, -1.0, 0.0],  # orthogonal to d_2 (and to 1) -> 1
        ]
    )
    np.testing.assert_allclose(orthogonal_share(logits), [4.0 / 7.0, 0.0, 1.0], atol=1e-15)


def test_orthogonal_share_is_zero_along_d_k_and_nan_without_centred_energy():
    d = np.eye(4) - 0.25
    share = orthogonal_share(np.array([2.0, -1.0, 0.5, 3.0])[:, None] * d + np.array([0.0, 1.0, 2.0, 3.0])[:, None])
    np.testing.assert_allclose(share, 0.0, atol=1e-15)
    assert np.isnan(orthogonal_share(np.ones((2, 2)))).all()


def test_orthogonal_share_validation():
    with pytest.raises(InvalidArgument, match="logits"):
        orthogonal_share(np.ones((3, 2)))

import numpy as np
import pytest

from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.geometry import linearly_separable, pairwise_separable, separable_fraction
from lesde_analyzer.geometry.separability import _hinge_lp


def _brute_2d(X, Y) -> bool:
    """Exact brute force in the plane: a separating direction exists iff one lies strictly
    between two consecutive critical directions, the normals of the differences x_i - y_j."""
    diff = (X[:, None, :] - Y[None, :, :]).reshape(-1, 2)
    ang = np.arctan2(diff[:, 1], diff[:, 0]) + np.pi / 2
    crit = np.sort(np.concatenate([ang, ang + np.pi]) % (2 * np.pi))
    mids = (crit + np.diff(np.append(crit, crit[0] + 2 * np.pi)) / 2) % (2 * np.pi)
    u = np.stack([np.cos(mids), np.sin(mids)], axis=1)
    return bool(np.any((X @ u.T).max(axis=0) < (Y @ u.T).min(axis=0)))


def test_lp_agrees_with_min_max_in_one_dimension():
    rng = np.random.default_rng(0)
    for shift in np.linspace(0, 6, 25):
        X = rng.standard_normal((7, 1))
        Y = rng.standard_normal((5, 1)) + shift
        expected = X.max() < Y.min() or Y.max() < X.min()
        # force the LP path by embedding in 2-D with a constant second coordinate
        X2, Y2 = np.hstack([X, np.zeros_like(X)]), np.hstack([Y, np.zeros_like(Y)])
        assert linearly_separable(X, Y) == expected
        assert linearly_separable(X2, Y2) == expected
        assert _hinge_lp(X2[None], Y2[None])[0] == expected


def test_lp_agrees_with_brute_force_on_tiny_clouds():
    rng = np.random.default_rng(1)
    results = []
    for i in range(120):
        X = rng.standard_normal((4, 2))
        Y = rng.standard_normal((3, 2)) + rng.uniform(0, 3) * np.array([np.cos(i), np.sin(i)])
        brute = _brute_2d(X, Y)
        assert linearly_separable(X, Y) == brute
        assert bool(_hinge_lp(X[None], Y[None])[0]) == brute
        results.append(brute)
    assert 10 < sum(results) < 110  # both outcomes exercised


def test_batched_pairwise_matches_per_pair_lp():
    rng = np.random.default_rng(2)
    runs, K, n, p = 30, 3, 8, 3
    x = rng.standard_normal((runs, K, n, p)) + rng.uniform(0, 4, (runs, 1, 1, 1)) * np.eye(K)[None, :, None, :]
    got = pairwise_separable(x)
    expected = [all(linearly_separable(x[r, k], x[r, l]) for k in range(K) for l in range(k + 1, K)) for r in range(runs)]
    np.testing.assert_array_equal(got, expected)
    assert separable_fraction(x) == pytest.approx(np.mean(expected))
    assert 0 < np.mean(expected) < 1


def test_identical_points_are_not_separable_and_scale_invariance():
    X = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert not linearly_separable(X, X[:1])
    far = np.array([[1e8, 0.0], [1e8 + 1, 0.0]]), np.array([[1e8 + 2, 0.0]])
    assert linearly_separable(*far)
    assert pairwise_separable(np.stack([far[0], np.repeat(far[1], 2, 0)])[None])[0]


def test_validation():
    with pytest.raises(InvalidArgument, match="samples"):
        pairwise_separable(np.zeros((2, 1, 3, 2)))
    with pytest.raises(InvalidArgument, match="Y"):
        linearly_separable(np.zeros((2, 2)), np.zeros((2, 3)))

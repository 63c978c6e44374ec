import json

import numpy as np
import pytest
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.geometry import (
    cover_fraction,
    linearly_separable,
    pairwise_separable,
    random_projection,
    separability_plan,
    separability_report,
    separability_series,
    separable_fraction,
)
from lesde_analyzer.geometry.separability import _hinge_dual_lp, _hinge_lp
from lesde_analyzer.geometry.separability_report import _PERMUTATION_STREAM


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
    expected = [all(linearly_separable(x[r, k], x[r, k2]) for k in range(K) for k2 in range(k + 1, K)) for r in range(runs)]
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


# --------------------------------------------------------------------------- dual LP kernel


@pytest.mark.parametrize(("n", "p", "shift"), [(6, 2, 1.5), (10, 5, 0.5), (10, 12, 0.0), (25, 3, 1.0)])
def test_dual_lp_agrees_with_primal(n, p, shift):
    rng = np.random.default_rng(n * 100 + p)
    X = rng.standard_normal((40, n, p))
    Y = rng.standard_normal((40, n, p)) + shift * rng.uniform(0, 3, (40, 1, 1))
    primal, dual = _hinge_lp(X, Y), _hinge_dual_lp(X, Y)
    np.testing.assert_array_equal(dual, primal)
    assert 0 < primal.mean() < 1  # both outcomes exercised


def test_dual_lp_on_touching_and_identical_clouds():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert not _hinge_dual_lp(X[None], X[None])[0]
    # Y touches X's hull at a vertex: not strictly separable; moved off by 1e-3: separable
    Y = np.array([[1.0, 0.0], [2.0, 0.0], [2.0, 1.0]])
    assert not _hinge_dual_lp(X[None], Y[None])[0]
    assert _hinge_dual_lp(X[None], (Y + [1e-3, 0.0])[None])[0]


# --------------------------------------------------------------------------- Cover's count and the plan


def test_cover_fraction_closed_forms():
    assert cover_fraction(5, 4) == 1.0 and cover_fraction(5, 9) == 1.0  # N <= d + 1: always separable
    assert cover_fraction(6, 4) < 1.0
    for n in (3, 8, 20):
        assert cover_fraction(n, 1) == pytest.approx(n / 2 ** (n - 1))  # 2N of the 2^N dichotomies on a line
    from scipy.stats import binom

    for n, d in ((20, 5), (100, 40), (2000, 900)):
        assert cover_fraction(n, d) == pytest.approx(binom.cdf(d, n - 1, 0.5), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_cover_count_equals_exhaustive_count_of_separable_dichotomies(d):
    rng = np.random.default_rng(d)
    pts = rng.standard_normal((8, d))  # general position almost surely
    count = 0
    for mask in range(2**8):
        lab = np.array([(mask >> i) & 1 for i in range(8)], bool)
        # a one-class "dichotomy" is separable (any hyperplane beside the points)
        count += bool(lab.all() or not lab.any() or linearly_separable(pts[lab], pts[~lab]))
    assert count / 2**8 == cover_fraction(8, d)


def test_chosen_dimension_is_largest_below_level_and_matches_monte_carlo():
    for n, p in ((20, 84), (20, 10), (12, 84), (100, 84), (40, 7)):
        plan = separability_plan(n, p)
        d = plan.dimension
        assert plan.chance == cover_fraction(n, d) < 0.05
        assert d == p or cover_fraction(n, d + 1) >= 0.05
        assert plan.method == ("full" if d == p else "projection")
    # brute force: uniformly random labellings of 20 Gaussian points in the chosen d' = 5
    plan = separability_plan(20, 84)
    assert plan.dimension == 5
    rng = np.random.default_rng(3)
    draws, hits = 600, 0
    for _ in range(draws):
        pts = rng.standard_normal((20, plan.dimension))
        lab = rng.random(20) < 0.5
        hits += bool(lab.all() or not lab.any() or linearly_separable(pts[lab], pts[~lab]))
    se = np.sqrt(plan.chance * (1 - plan.chance) / draws)
    assert abs(hits / draws - plan.chance) < 3 * se  # 0.0318 +- 0.021


def test_plan_edge_cases_and_forced_dimension():
    assert separability_plan(100, 84).dimension == 40  # 100 points in R^84 pass a random labelling w.p. ~1
    full = separability_plan(100, 84, level=1.0)  # level 1: the largest dimension that can refute
    assert full.method == "full" and full.dimension == 84 and full.reason is None
    low = separability_plan(4, 84)  # 2 points per class: only d = 1 can refute, at chance 1/2
    assert low.method == "projection" and low.dimension == 1 and low.chance == 0.5 and "baseline" in low.reason
    none = separability_plan(2, 84)
    assert none.method == "untestable" and none.dimension is None and none.chance is None and none.reason
    forced = separability_plan(20, 84, projection_dim=3)
    assert forced.dimension == 3 and forced.method == "projection"
    assert separability_plan(20, 3, projection_dim=3).method == "full"
    with pytest.raises(InvalidArgument, match=r"projection_dim.*\[1, 18\]"):
        separability_plan(20, 84, projection_dim=19)


# --------------------------------------------------------------------------- projection and report


def test_projection_is_fixed_orthonormal_and_seeded():
    Q = random_projection(84, 5, seed=7)
    assert Q.shape == (84, 5)
    np.testing.assert_allclose(Q.T @ Q, np.eye(5), atol=1e-12)
    np.testing.assert_array_equal(Q, random_projection(84, 5, seed=7))
    assert not np.allclose(Q, random_projection(84, 5, seed=8))


def _clusters(rng, R, K, m, p, sep):
    return rng.standard_normal((R, K, m, p)) + sep * np.eye(p)[:K][None, :, None, :]


def test_separated_clusters_in_84_dims_pass_on_a_projection():
    x = _clusters(np.random.default_rng(4), 20, 3, 10, 84, 30.0)
    rep = separability_report(x, seed=1)
    assert rep.method == "projection" and rep.dimension == 5 and rep.points_per_pair == 20
    assert rep.feature_dim == 84 and rep.trials == 20 and "84 dimensions" in rep.reason
    assert rep.fraction == 1.0
    assert rep.baseline_fraction < 0.2
    json.dumps(rep.as_dict())


def test_structureless_cloud_fails_and_sits_at_the_baseline():
    x = np.random.default_rng(5).standard_normal((100, 2, 10, 84))  # no class structure
    assert pairwise_separable(x).mean() == 1.0  # the old, vacuous test
    rep = separability_report(x, seed=0, baseline_draws=3)
    assert rep.fraction < 0.1
    assert abs(rep.fraction - rep.baseline_fraction) < 0.06
    # balanced relabellings are separable less often than Cover's uniform ones
    assert rep.baseline_fraction < rep.chance + 3 * np.sqrt(rep.chance / 300)
    three = separability_report(np.random.default_rng(6).standard_normal((30, 3, 10, 84)))
    assert three.fraction < 0.1 and three.baseline_fraction < 0.1


def test_logits_use_the_full_test():
    x = _clusters(np.random.default_rng(7), 25, 3, 10, 3, 2.5)
    rep = separability_report(x)
    assert rep.method == "full" and rep.dimension == 3 and rep.reason is None
    assert rep.fraction == pairwise_separable(x).mean()
    assert 0 < rep.fraction < 1 and rep.baseline_fraction < 0.1


def test_series_matches_per_record_reports_and_a_naive_loop():
    rng = np.random.default_rng(8)
    S, R, K, m, p = 3, 6, 3, 6, 9
    x = np.stack([_clusters(rng, R, K, m, p, sep) for sep in (0.0, 3.0, 30.0)])
    ser = separability_series(x, seed=2, baseline_draws=2)
    assert ser.plan.method == "projection" and ser.plan.dimension == 2  # N = 12: c(12, 2) = 0.033, c(12, 3) = 0.11
    for s in range(S):
        rep = separability_report(x[s], seed=2, baseline_draws=2)
        assert (rep.fraction, rep.baseline_fraction) == (ser.fraction[s], ser.baseline_fraction[s])
    # naive: project, then every pair of every trial with the single LP; relabel with the same permutations
    Q = random_projection(p, ser.plan.dimension, seed=2)
    perms = np.random.default_rng([_PERMUTATION_STREAM, 2]).random((2, R, K * (K - 1) // 2, 2 * m)).argsort(-1)
    pairs = [(k, k2) for k in range(K) for k2 in range(k + 1, K)]
    for s in range(S):
        y = x[s] @ Q
        sep = [all(linearly_separable(y[r, k], y[r, k2]) for k, k2 in pairs) for r in range(R)]
        assert ser.fraction[s] == np.mean(sep)
        base = []
        for i in range(2):
            for r in range(R):
                ok = True
                for j, (k, k2) in enumerate(pairs):
                    pts = np.concatenate([y[r, k], y[r, k2]])[perms[i, r, j]]
                    ok = ok and linearly_separable(pts[:m], pts[m:])
                base.append(ok)
        assert ser.baseline_fraction[s] == pytest.approx(np.mean(base))
    assert ser.fraction[0] < ser.fraction[2] == 1.0


def test_untestable_and_no_baseline():
    x = np.random.default_rng(9).standard_normal((4, 3, 1, 84))
    rep = separability_report(x)
    assert rep.method == "untestable" and rep.fraction is None and rep.baseline_fraction is None and rep.reason
    ser = separability_series(x[None])
    assert np.isnan(ser.fraction).all() and np.isnan(ser.baseline_fraction).all()
    rep = separability_report(np.random.default_rng(9).standard_normal((4, 2, 10, 3)), baseline_draws=0)
    assert rep.fraction is not None and rep.baseline_fraction is None


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"grouped": np.zeros((3, 10, 84))}, "grouped"),
        ({"grouped": np.zeros((3, 1, 10, 84))}, "grouped"),
        ({"grouped": np.zeros((3, 2, 0, 84))}, "grouped"),
        ({"grouped": np.zeros((3, 2, 10, 0))}, "grouped"),
        ({"grouped": np.full((3, 2, 10, 4), np.nan)}, "grouped"),
        ({"level": 0.0}, "level"),
        ({"level": 1.5}, "level"),
        ({"baseline_draws": -1}, "baseline_draws"),
        ({"seed": -1}, "seed"),
        ({"projection_dim": 85}, "projection_dim"),
    ],
)
def test_report_validation(kwargs, name):
    args = {"grouped": np.zeros((3, 2, 10, 84))} | kwargs
    grouped = args.pop("grouped")
    with pytest.raises(InvalidArgument, match=name):
        separability_report(grouped, **args)


def test_series_validation():
    with pytest.raises(InvalidArgument, match="grouped"):
        separability_series(np.zeros((3, 2, 10, 84)))
    with pytest.raises(InvalidArgument, match="grouped"):
        separability_series(np.zeros((0, 3, 2, 10, 84)))


def test_a_batch_the_dual_lp_gives_up_on_is_still_decided_exactly():
    """256 relabelled pairs from the probe stream of a grown synthetic run (bench/analyze.py at
    20,000 iterations): HiGHS answered 'Unknown' on the batched dual LP and the whole analysis
    failed, though each pair alone solves. The batch must be decided exactly all the same."""
    from pathlib import Path

    from lesde_analyzer.geometry.separability import _pairs_separable

    data = np.load(Path(__file__).parent / "data" / "lp_batch_highs_unknown.npz")
    X, Y = data["X"].astype(np.float64), data["Y"].astype(np.float64)
    with pytest.raises(RuntimeError):  # the failure this guards against, still there in HiGHS
        _hinge_dual_lp(X, Y)
    want = np.array([linearly_separable(x, y) for x, y in zip(X, Y)])
    np.testing.assert_array_equal(_pairs_separable(X, Y), want)

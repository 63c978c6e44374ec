"""A separability test that can fail, reported beside a random-relabelling baseline.

**Why the plain test says nothing on penultimate features.** ``N <= d + 1`` points in
general position in ``R^d`` are separable under *every* labelling: their affine hull is
all of their span, so an affine function can take any prescribed values, in particular
``+1`` on one class and ``-1`` on the other. Ten plus ten probe points in ``R^84`` are
therefore always "pairwise separable", whatever the network has learnt.

**Cover's function-counting theorem** (Cover 1965) makes the chance level exact. Of the
``2^N`` dichotomies of ``N`` points in general position in ``R^d``, the number separable
by an affine hyperplane is ``C(N, d + 1) = 2 sum_{i=0}^{d} binom(N - 1, i)``, so a
uniformly random labelling is separable with probability

    c(N, d) = 2^(1-N) sum_{i=0}^{d} binom(N - 1, i) = P(Binomial(N - 1, 1/2) <= d),

which is 1 exactly when ``N <= d + 1`` and drops sharply once ``d < (N - 1) / 2``. A test
on ``N`` points can only refute separability in dimension ``d`` when ``N >= d + 2``, and
it only *informs* when ``c(N, d)`` is small.

**What we test.** Each pair of classes has ``N = 2 m`` points (``m`` per class). The
tested dimension is the largest ``d <= p`` with ``c(N, d) < level`` (default 5%):

* ``d = p``: the exact test on the features themselves (method ``"full"``);
* ``d < p``: the exact test on a *fixed* random projection ``x -> Q^T x``, with ``Q`` of
  shape ``(p, d)`` the orthonormalised (sign-fixed QR) seeded Gaussian matrix, the same for
  every trial and record so that records are comparable (method ``"projection"``).
  Separable after projection implies separable before (``w = Q w'`` separates the
  originals), so this is a stricter property: separation visible in a random
  ``d``-dimensional view, which a point cloud without class structure fails;
* no ``d`` below the level but ``N >= 3``: ``d = 1`` (or ``p = 1``) with a reason stating
  the high chance level; ``N < 3`` (one point per class): untestable, no number.

Also ``level = 1`` gives "the largest dimension that can refute" (``N >= d + 2``).

**Baseline.** The same exact test on the same (projected) points with the ``2 m`` labels of
each pair randomly permuted within each trial (balanced ``m`` vs ``m`` relabellings, a few
seeded draws). The permutations are drawn once per call from the seed and reused for every
record (common random numbers), so a time series of the baseline is smooth and a record's
value does not depend on which other records were passed. Balanced dichotomies are
separable less often than Cover's uniform ones, and the all-pairs baseline for ``K > 2``
is lower still, so ``c(N, d)`` bounds the chance level of one pair from above in practice.

Both fractions are "all ``K (K - 1) / 2`` pairs separable" over trials, the quantity of
:func:`~lesde_analyzer.geometry.separability.pairwise_separable`, whose exact batched LP is
the kernel here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_int, check_real
from ..errors import InvalidArgument
from .separability import _pairs_separable

__all__ = [
    "SeparabilityPlan", "SeparabilityReport", "SeparabilitySeries", "cover_fraction", "random_projection",
    "separability_plan", "separability_report", "separability_series",
]  # fmt: skip

#: default ceiling on Cover's chance level c(N, d) of one pair
DEFAULT_LEVEL = 0.05
#: default number of random relabellings per trial and pair
DEFAULT_BASELINE_DRAWS = 3
# independent seed streams, so the projection depends on (seed, p, d) only
_PROJECTION_STREAM = 0x5E9A
_PERMUTATION_STREAM = 0xBA5E


def cover_fraction(points: int, dim: int) -> float:
    """Cover's fraction of the dichotomies of ``points`` points in general position in
    ``R^dim`` that an affine hyperplane separates: ``P(Binomial(points - 1, 1/2) <= dim)``.

    Parameters
    ----------
    points : int >= 1, N
    dim : int >= 0, d

    Returns
    -------
    float in (0, 1]
        1 exactly when ``points <= dim + 1``.

    Examples
    --------
    Of the 16 labellings of 4 points on a line, 8 are split by a threshold:
    ``P(Binomial(3, 1/2) <= 1) = 4/8``. Three points in the plane are always separable:

    >>> cover_fraction(4, 1), cover_fraction(3, 2)
    (0.5, 1.0)
    """
    n = check_int(points, "points", low=1)
    d = check_int(dim, "dim", low=0)
    count = sum(math.comb(n - 1, i) for i in range(min(d, n - 1) + 1))
    return float(Fraction(count, 2 ** (n - 1)))  # exact integers: N may be in the thousands


def random_projection(feature_dim: int, dim: int, *, seed: int = 0) -> np.ndarray:
    """The fixed orthonormal projection used for the test.

    Parameters
    ----------
    feature_dim : int >= 1, p
    dim : int in [1, p], d
    seed : int >= 0

    Returns
    -------
    Q : ndarray of shape (p, d)
        Orthonormal columns (``Q^T Q = I_d``): QR of a seeded standard Gaussian matrix with
        the signs fixed by ``diag(R) > 0``, so ``Q`` is a function of ``(seed, p, d)`` alone
        (and Haar-distributed on the Stiefel manifold).

    Examples
    --------
    >>> Q = random_projection(5, 2, seed=0)
    >>> Q.shape, bool(np.allclose(Q.T @ Q, np.eye(2)))
    ((5, 2), True)
    >>> bool(np.array_equal(Q, random_projection(5, 2, seed=0)))
    True
    """
    p = check_int(feature_dim, "feature_dim", low=1)
    d = check_int(dim, "dim", low=1, high=p)
    s = check_int(seed, "seed", low=0)
    return _projection(p, d, s)


def _projection(p: int, d: int, seed: int) -> np.ndarray:
    g = np.random.default_rng([_PROJECTION_STREAM, seed]).standard_normal((p, d))
    q, r = np.linalg.qr(g)
    sign = np.sign(np.diag(r))
    return q * np.where(sign == 0, 1.0, sign)


@dataclass(frozen=True)
class SeparabilityPlan:
    """Which test the points allow (module docstring).

    Attributes
    ----------
    method : {"full", "projection", "untestable"}
    dimension : int or None
        Dimension tested (``feature_dim`` when full; None when untestable).
    feature_dim : int
        ``p``, the dimension of the features.
    points_per_pair : int
        ``N = 2 m``.
    chance : float or None
        Cover's ``c(N, dimension)``: probability that a uniformly random labelling of one
        pair is separable in the tested dimension (points in general position).
    level : float
        Ceiling on ``chance`` used to choose ``dimension``.
    reason : str or None
        Why the test is not on the full features, or why its chance level is high; None
        for a full test below the level.
    """

    method: str
    dimension: int | None
    feature_dim: int
    points_per_pair: int
    chance: float | None
    level: float
    reason: str | None

    def as_dict(self) -> dict:
        """JSON-ready fields."""
        return asdict(self)


@dataclass(frozen=True)
class SeparabilityReport(SeparabilityPlan):
    """The plan carried out on one record: separability and its chance level.

    Attributes
    ----------
    method, dimension, feature_dim, points_per_pair, chance, level, reason
        As in :class:`SeparabilityPlan`.
    fraction : float or None
        Fraction of trials whose classes are all pairwise strictly linearly separable in the
        tested dimension (None when untestable).
    baseline_fraction : float or None
        The same with each pair's labels randomly permuted within the trial, averaged over
        trials and draws (None when untestable or ``baseline_draws = 0``).
    trials : int
        ``R``.
    baseline_draws : int
    seed : int
    """

    fraction: float | None
    baseline_fraction: float | None
    trials: int
    baseline_draws: int
    seed: int


@dataclass(frozen=True)
class SeparabilitySeries:
    """Separability per record (one plan, one projection and one set of relabellings).

    Attributes
    ----------
    fraction : ndarray of shape (S,)
        As :attr:`SeparabilityReport.fraction` per record (NaN when untestable).
    baseline_fraction : ndarray of shape (S,)
        As :attr:`SeparabilityReport.baseline_fraction` per record (NaN when untestable or
        ``baseline_draws = 0``).
    plan : SeparabilityPlan
    trials : int
    baseline_draws : int
    seed : int
    """

    fraction: np.ndarray
    baseline_fraction: np.ndarray
    plan: SeparabilityPlan
    trials: int
    baseline_draws: int
    seed: int


def separability_plan(
    points_per_pair: int, feature_dim: int, *, projection_dim: int | None = None, level: float = DEFAULT_LEVEL
) -> SeparabilityPlan:
    """Choose the tested dimension for pairs of ``N`` points in ``R^p`` (module docstring).

    Parameters
    ----------
    points_per_pair : int >= 2, N
    feature_dim : int >= 1, p
    projection_dim : int in [1, min(p, N - 2)] or None
        Force the tested dimension (``p`` means the full test); None chooses it by ``level``.
    level : float in (0, 1]
        Largest admissible Cover chance ``c(N, d)`` (strictly below).

    Returns
    -------
    SeparabilityPlan

    Examples
    --------
    Ten plus ten points in ``R^84`` cannot refute separability; in 5 random dimensions the
    chance level falls below 5%:

    >>> plan = separability_plan(20, 84)
    >>> plan.method, plan.dimension, round(plan.chance, 4)
    ('projection', 5, 0.0318)
    >>> separability_plan(20, 2).method
    'full'
    >>> separability_plan(2, 10).method
    'untestable'
    """
    n = check_int(points_per_pair, "points_per_pair", low=2)
    p = check_int(feature_dim, "feature_dim", low=1)
    lvl = check_real(level, "level", low=0.0, low_open=True, high=1.0)
    if projection_dim is not None:
        d = check_int(projection_dim, "projection_dim", low=1, high=p)
        if n < d + 2:
            raise InvalidArgument(
                "projection_dim",
                f"must be in [1, min(p, N - 2)] = [1, {min(p, n - 2)}] so that N = {n} points per pair can "
                f"refute separability (N <= d + 1 points are always separable); got {d}",
            )
        return _plan(n, p, d, lvl)
    if n < 3:
        return SeparabilityPlan(
            "untestable",
            None,
            p,
            n,
            None,
            lvl,
            f"{n} points per pair are separable in every dimension >= 1 whatever the labels; at least 2 points per class are needed.",
        )
    # largest d <= min(p, N - 2) with c(N, d) < level (c increases with d), at least 1
    d, count, total = 1, 1, 2 ** (n - 1)
    for cand in range(1, min(p, n - 2) + 1):
        count += math.comb(n - 1, cand)
        if Fraction(count, total) >= lvl:
            break
        d = cand
    return _plan(n, p, d, lvl)


def _plan(n: int, p: int, d: int, level: float) -> SeparabilityPlan:
    chance = cover_fraction(n, d)
    dims = f"{d} dimension{'s' if d > 1 else ''}"
    where = f"a random labelling of one pair is separable in {dims} with probability {chance:.3g} (Cover)"
    high = f", not below the level {level:g}: read the fraction against the baseline" if chance >= level else ""
    if d == p:
        reason = f"{where[0].upper()}{where[1:]}{high}." if high else None
        return SeparabilityPlan("full", d, p, n, chance, level, reason)
    why = (
        f"{n} points per pair cannot refute separability in {p} dimensions (N <= d + 1 points are always separable)"
        if n <= p + 1
        else f"{n} points per pair in {p} dimensions are separable under a random labelling with probability "
        f"{cover_fraction(n, p):.3g} (Cover)"
    )
    reason = f"{why}; tested on a fixed random orthonormal projection, where {where}{high}."
    return SeparabilityPlan("projection", d, p, n, chance, level, reason)


def separability_series(
    grouped: ArrayLike, *, seed: int = 0, projection_dim: int | None = None, baseline_draws: int = DEFAULT_BASELINE_DRAWS,
    level: float = DEFAULT_LEVEL,
) -> SeparabilitySeries:  # fmt: skip
    """Separable fraction and its relabelling baseline for every record.

    Parameters
    ----------
    grouped : array_like of shape (S, R, K, m, p)
        S records, R trials, K >= 2 classes, m >= 1 points per class, p dimensions.
    seed : int >= 0
        Seeds the projection (with ``p`` and the tested dimension) and the relabellings.
    projection_dim : int or None
        See :func:`separability_plan`.
    baseline_draws : int >= 0
        Relabellings per trial and pair (0 skips the baseline).
    level : float in (0, 1]
        See :func:`separability_plan`.

    Returns
    -------
    SeparabilitySeries
        ``fraction[s]`` and ``baseline_fraction[s]`` equal those of
        ``separability_report(grouped[s], ...)`` with the same options.

    Examples
    --------
    Two records of 4 trials, 2 classes of 10 points in the plane: noise, then two tight
    clouds far apart (separable in every trial, and under no relabelling):

    >>> rng = np.random.default_rng(0)
    >>> apart = 0.1 * rng.standard_normal((4, 2, 10, 2)) + np.array([[[2.0, 0.0]], [[-2.0, 0.0]]])
    >>> series = separability_series(np.stack([rng.standard_normal((4, 2, 10, 2)), apart]), seed=0)
    >>> series.fraction, series.baseline_fraction, series.plan.method
    (array([0., 1.]), array([0., 0.]), 'full')
    """
    x = as_float_array(grouped, "grouped", ndim=5)
    S, R, K, m, p = x.shape
    if S < 1 or R < 1 or K < 2 or m < 1 or p < 1:
        raise InvalidArgument("grouped", f"must have shape (S >= 1, R >= 1, K >= 2, m >= 1, p >= 1); got {x.shape}")
    seed = check_int(seed, "seed", low=0)
    draws = check_int(baseline_draws, "baseline_draws", low=0)
    plan = separability_plan(2 * m, p, projection_dim=projection_dim, level=level)
    return _series(x, plan, seed=seed, draws=draws)


def separability_report(
    grouped: ArrayLike, *, seed: int = 0, projection_dim: int | None = None, baseline_draws: int = DEFAULT_BASELINE_DRAWS,
    level: float = DEFAULT_LEVEL,
) -> SeparabilityReport:  # fmt: skip
    """Separable fraction of one record beside its random-relabelling baseline.

    One record is a series of length 1: one validation, one plan and one code path with
    :func:`separability_series`.

    Parameters
    ----------
    grouped : array_like of shape (R, K, m, p)
        R trials, K >= 2 classes, m >= 1 points per class, p dimensions (probe logits,
        p = K, or penultimate features).
    seed, projection_dim, baseline_draws, level
        See :func:`separability_series`.

    Returns
    -------
    SeparabilityReport

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> apart = 0.1 * rng.standard_normal((4, 2, 10, 2)) + np.array([[[2.0, 0.0]], [[-2.0, 0.0]]])
    >>> report = separability_report(apart, seed=0)
    >>> report.method, report.dimension, report.fraction, report.baseline_fraction, report.trials
    ('full', 2, 1.0, 0.0, 4)
    """
    x = as_float_array(grouped, "grouped", ndim=4)
    res = separability_series(x[None], seed=seed, projection_dim=projection_dim, baseline_draws=baseline_draws, level=level)
    f, b = float(res.fraction[0]), float(res.baseline_fraction[0])
    return SeparabilityReport(
        fraction=None if np.isnan(f) else f,
        baseline_fraction=None if np.isnan(b) else b,
        **res.plan.as_dict(),
        trials=res.trials,
        baseline_draws=res.baseline_draws,
        seed=res.seed,
    )


def _series(x: np.ndarray, plan: SeparabilityPlan, *, seed: int, draws: int) -> SeparabilitySeries:
    """Validated ``x`` (S, R, K, m, p) -> fractions per record under ``plan``."""
    S, R, K, m, p = x.shape
    fraction = np.full(S, np.nan)
    baseline = np.full(S, np.nan)
    if plan.dimension is not None:
        if plan.method == "projection":
            x = x @ _projection(p, plan.dimension, seed)  # (S, R, K, m, d)
        fraction = _all_pairs(x).mean(axis=1)
        if draws:
            n_pairs = K * (K - 1) // 2
            rng = np.random.default_rng([_PERMUTATION_STREAM, seed])
            # one permutation of the pair's 2m points per (draw, trial, pair), shared by all records
            perms = rng.random((draws, R, n_pairs, 2 * m)).argsort(axis=-1)
            baseline = np.mean([_all_pairs(x, perms[i]).mean(axis=1) for i in range(draws)], axis=0)
    return SeparabilitySeries(fraction, baseline, plan, R, draws, seed)


def _all_pairs(x: np.ndarray, perms: np.ndarray | None = None) -> np.ndarray:
    """x (S, R, K, m, d), perms (R, K(K-1)/2, 2m) or None -> (S, R) bool: all pairs separable.

    With ``perms`` each pair's pooled points ``[x_k; x_j]`` are reordered by the trial's
    permutation and split into the first and last ``m`` (a balanced random relabelling).
    All records' trials form one batch, so the LP kernel sees large chunks; a run leaves the
    batch at its first inseparable pair.
    """
    S, R, K, m, _ = x.shape
    alive = np.ones((S, R), bool)
    pair = 0
    for k in range(K):
        for j in range(k + 1, K):
            s_idx, r_idx = np.nonzero(alive)
            if s_idx.size == 0:
                return alive
            X, Y = x[s_idx, r_idx, k], x[s_idx, r_idx, j]  # (B, m, d)
            if perms is not None:
                pts = np.concatenate([X, Y], axis=1)
                pts = np.take_along_axis(pts, perms[r_idx, pair][:, :, None], axis=1)
                X, Y = pts[:, :m], pts[:, m:]
            alive[s_idx, r_idx] = _pairs_separable(X, Y)
            pair += 1
    return alive

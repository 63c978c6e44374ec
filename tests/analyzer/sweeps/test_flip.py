"""The flip of the verdict along an axis, against closed forms (r(x) a known line)."""

from __future__ import annotations

import numpy as np
import pytest
from lesde_analyzer.sweeps.flip import DOWNWARD, UPWARD, crossings, flip_point

GRID = np.array([0.0, 0.2, 0.4, 0.6, 0.8])


def labels(r: np.ndarray, se: np.ndarray) -> list[str]:
    return ["separable" if v + 2 * s < 1 else "not separable" if v - 2 * s > 1 else "inconclusive" for v, s in zip(r, se)]


def test_a_line_crossing_one_is_recovered_exactly_with_its_two_se_interval():
    r = 0.5 + GRID  # crosses 1 at x = 0.5
    se = np.full(GRID.size, 0.05)  # |r - 1| <= 0.1  <=>  0.4 <= x <= 0.6
    verdicts = ["separable", "separable", "inconclusive", "inconclusive", "not separable"]
    flip = flip_point(GRID, r, se, verdicts)
    assert flip["value"] == pytest.approx(0.5, abs=1e-12)
    assert flip["between"] == [0.4, 0.6] and flip["direction"] == UPWARD
    assert flip["uncertainty"]["interval"] == pytest.approx([0.4, 0.6], abs=1e-12)
    assert not flip["uncertainty"]["lower_open"] and not flip["uncertainty"]["upper_open"]
    assert flip["last_separable"] == 0.2 and flip["first_not_separable"] == 0.8
    assert "2 SE" in flip["uncertainty_method"]


def test_the_interval_follows_a_varying_se_through_several_segments():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    r = 0.25 * x + 0.5  # crosses at x = 2
    se = np.array([0.0, 0.1, 0.1, 0.1, 0.0])
    flip = flip_point(x, r, se, [None] * 5)
    assert flip["value"] == pytest.approx(2.0)
    # left: r + 2 se = 1 on [1, 2]: 0.25 x + 0.5 + 0.2 = 1 -> x = 1.2; right: r - 0.2 = 1 -> x = 2.8
    assert flip["uncertainty"]["interval"] == pytest.approx([1.2, 2.8])


def test_a_band_reaching_the_grid_edge_is_open():
    r = np.array([0.95, 1.02, 1.05])
    flip = flip_point(np.array([1.0, 2.0, 3.0]), r, np.full(3, 0.1), [None] * 3)
    assert flip["value"] == pytest.approx(1.0 + 0.05 / 0.07)
    band = flip["uncertainty"]
    assert band["interval"] == [1.0, 3.0] and band["lower_open"] and band["upper_open"]


def test_no_crossing_gives_none_and_says_why():
    r = 0.2 + 0.5 * GRID  # 0.2 .. 0.6, always separable
    flip = flip_point(GRID, r, np.full(GRID.size, 0.05), labels(r, np.full(GRID.size, 0.05)))
    assert flip["value"] is None and flip["uncertainty"] is None and flip["crossings"] == []
    assert "stays below 1" in flip["reason"] and flip["last_separable"] == 0.8
    above = flip_point(GRID, 1.5 + GRID, np.full(GRID.size, 0.05), ["not separable"] * 5)
    assert above["value"] is None and "at or above 1" in above["reason"] and above["first_not_separable"] == 0.0


def test_too_few_known_values_and_missing_se():
    nan = float("nan")
    few = flip_point(GRID, np.array([0.5, nan, nan, nan, nan]), np.full(5, 0.1), [None] * 5)
    assert few["value"] is None and "needs two" in few["reason"]
    no_se = flip_point(GRID, 0.5 + GRID, np.array([0.1, 0.1, nan, 0.1, 0.1]), [None] * 5)
    assert no_se["value"] == pytest.approx(0.5) and no_se["uncertainty"] is None and "0.4" in no_se["uncertainty_reason"]


def test_crossings_in_both_directions_and_exactly_at_a_grid_value():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    found = crossings(x, np.array([1.5, 0.5, 1.0, 0.0]))
    assert [(c.value, c.direction) for c in found] == [(0.5, DOWNWARD), (2.0, UPWARD), (2.0, DOWNWARD)]
    flip = flip_point(x, np.array([1.5, 0.5, 0.8, 0.9]), np.zeros(4), [None] * 4)
    assert flip["value"] == 0.5 and flip["direction"] == DOWNWARD
    assert flip["uncertainty"]["interval"] == [0.5, 0.5]  # SE 0: the band is the crossing itself

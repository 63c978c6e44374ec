"""Where along a grid axis the verdict flips: r_slope of Gamma crossing 1 (Theorem 3.1).

Pure functions of the per-grid-value tail indices. The crossing is found by linear
interpolation between the two grid values that bracket it; its uncertainty is the
stretch of axis values around it where 1 lies within r +- 2 SE, with r and SE
interpolated linearly the same way (the verdict's 2-SE band read along the axis). No
number is made up: without a crossing, the crossing is None with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Crossing", "crossings", "flip_point", "band_interval"]

UPWARD = "separable -> not separable"  # r rises through 1 as the axis value grows
DOWNWARD = "not separable -> separable"


@dataclass(frozen=True)
class Crossing:
    """r crosses 1 at ``value``, between grid values ``between`` (``direction`` as the axis grows)."""

    value: float
    between: tuple[float, float]
    direction: str
    segment: int  # i: the crossing lies in [x_i, x_{i+1}]


def crossings(x: np.ndarray, r: np.ndarray) -> list[Crossing]:
    """Every crossing of 1 by the piecewise-linear r(x).

    Parameters
    ----------
    x : ndarray of shape (n,)
        Grid values, strictly increasing.
    r : ndarray of shape (n,)
        Tail index at each grid value (finite).

    A point is above when r >= 1, so r = 1 exactly at a grid value counts once, at that value.
    """
    above = r >= 1.0
    out = []
    for i in np.flatnonzero(above[:-1] != above[1:]):
        value = x[i] + (1.0 - r[i]) * (x[i + 1] - x[i]) / (r[i + 1] - r[i])
        out.append(Crossing(float(value), (float(x[i]), float(x[i + 1])), UPWARD if above[i + 1] else DOWNWARD, int(i)))
    return out


def _solve_le(a: float, b: float, c: float) -> tuple[float, float] | None:
    """The t in [0, 1] with a + b t <= c, as an interval (None if empty)."""
    if b == 0.0:
        return (0.0, 1.0) if a <= c else None
    root = (c - a) / b
    lo, hi = (0.0, min(1.0, root)) if b > 0 else (max(0.0, root), 1.0)
    return (lo, hi) if lo <= hi else None


def _segment_band(lower: np.ndarray, upper: np.ndarray, i: int) -> tuple[float, float] | None:
    """The t in [0, 1] of segment i where lower(t) <= 1 <= upper(t), both linear in t."""
    below = _solve_le(lower[i], lower[i + 1] - lower[i], 1.0)
    over = _solve_le(-upper[i], upper[i] - upper[i + 1], -1.0)
    if below is None or over is None:
        return None
    lo, hi = max(below[0], over[0]), min(below[1], over[1])
    return (lo, hi) if lo <= hi else None


def band_interval(x: np.ndarray, r: np.ndarray, se: np.ndarray, crossing: Crossing, *, k: float = 2.0) -> dict:
    """The connected stretch of axis values around ``crossing`` where |r(x) - 1| <= k SE(x).

    Parameters
    ----------
    x, r, se : ndarray of shape (n,)
        Grid values (strictly increasing), tail indices and their standard errors.

    Returns ``{"interval": [lo, hi], "lower_open", "upper_open"}``; an end is open when the
    band still holds at the first or last grid value (the flip may lie beyond the grid).
    """
    lower, upper = r - k * se, r + k * se

    def at(i: int, t: float) -> float:
        return float(x[i + 1]) if t == 1.0 else float(x[i] + t * (x[i + 1] - x[i]))

    i = crossing.segment
    t_cross = (crossing.value - x[i]) / (x[i + 1] - x[i])
    # the crossing has r = 1, inside any band; rounding may still leave the band empty at SE = 0
    here = _segment_band(lower, upper, i) or (t_cross, t_cross)
    lo_seg, lo_t = i, here[0]
    while lo_t == 0.0 and lo_seg > 0:
        left = _segment_band(lower, upper, lo_seg - 1)
        if left is None or left[1] != 1.0:
            break
        lo_seg, lo_t = lo_seg - 1, left[0]
    hi_seg, hi_t = i, here[1]
    while hi_t == 1.0 and hi_seg < len(x) - 2:
        right = _segment_band(lower, upper, hi_seg + 1)
        if right is None or right[0] != 0.0:
            break
        hi_seg, hi_t = hi_seg + 1, right[1]
    return {
        "interval": [at(lo_seg, lo_t), at(hi_seg, hi_t)],
        "lower_open": lo_seg == 0 and lo_t == 0.0,
        "upper_open": hi_seg == len(x) - 2 and hi_t == 1.0,
    }


def flip_point(x: np.ndarray, r: np.ndarray, se: np.ndarray, labels: list[str | None]) -> dict:
    """The flip of the verdict along one grid line.

    Parameters
    ----------
    x : ndarray of shape (n,)
        Grid values, strictly increasing.
    r, se : ndarray of shape (n,)
        r_slope of Gamma and its SE at each grid value (NaN where unknown).
    labels : list of n verdict labels ("separable", "inconclusive", "not separable", ...)

    Returns the JSON of the flip: the first crossing of 1 (``value``, ``between``,
    ``direction``) or None with ``reason``, every crossing, the uncertainty interval, and
    the first grid value labelled not separable and the last labelled separable.
    """
    x, r, se = (np.asarray(v, dtype=np.float64) for v in (x, r, se))
    known = np.isfinite(r)
    not_sep = [float(v) for v, label in zip(x, labels) if label == "not separable"]
    sep = [float(v) for v, label in zip(x, labels) if label == "separable"]
    out: dict = {
        "method": "r_slope of Gamma crossing 1, linear interpolation between the two bracketing grid values",
        "uncertainty_method": "axis values around the crossing where |r - 1| <= 2 SE, with r and SE interpolated linearly between grid values",
        "value": None,
        "between": None,
        "direction": None,
        "reason": None,
        "crossings": [],
        "uncertainty": None,
        "first_not_separable": min(not_sep) if not_sep else None,
        "last_separable": max(sep) if sep else None,
    }
    xs, rs, ses = x[known], r[known], se[known]
    if xs.size < 2:
        out["reason"] = f"r_slope of Gamma is known at {xs.size} grid value(s); a crossing needs two"
        return out
    found = crossings(xs, rs)
    out["crossings"] = [{"value": c.value, "between": list(c.between), "direction": c.direction} for c in found]
    if not found:
        side = "below" if rs.max() < 1.0 else "at or above"
        out["reason"] = (
            f"r_slope of Gamma stays {side} 1 at every grid value from {xs[0]:g} to {xs[-1]:g} (range {rs.min():.4g} to {rs.max():.4g})"
        )
        return out
    first = found[0]
    out |= {"value": first.value, "between": list(first.between), "direction": first.direction}
    if len(found) > 1:
        out["reason"] = f"r crosses 1 {len(found)} times; the first crossing in axis order is reported"
    if np.isfinite(ses).all():
        out["uncertainty"] = band_interval(xs, rs, ses, first)
    else:
        missing = ", ".join(f"{v:g}" for v in xs[~np.isfinite(ses)])
        out["uncertainty_reason"] = f"no standard error of r at {missing}"
    return out

"""The cross-child numbers of a sweep: which axes are plotted, the per-grid-value means
along each, and the flip of the verdict.

Pure functions of the children's rows (:mod:`.rows`). An axis is plotted when every
child's value on it is a number, or a list (then its length is plotted: for
``dataset.classes`` the number of classes K). Seed axes (``*.seed``) are never plotted:
children that differ only in a seed are averaged into one point. The other axes group
the points into lines, one line per combination of their values.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from lesde_analyzer.sweeps.flip import flip_point

__all__ = ["is_seed_axis", "axis_scale", "plotted_axes", "axis_curves", "pooled", "mean_with_se"]


def is_seed_axis(axis: str) -> bool:
    return axis.rsplit(".", 1)[-1] == "seed"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def axis_scale(values: list[Any]) -> str | None:
    """How an axis is plotted: ``"value"`` (all numbers), ``"length"`` (all lists), else None."""
    if values and all(_is_number(v) for v in values):
        return "value"
    if values and all(isinstance(v, list) for v in values):
        return "length"
    return None


def plotted_axes(axes: list[str], points: list[dict[str, Any]]) -> dict[str, str]:
    """Axis -> scale of every plotted axis, in the grid's order (the first is the primary axis)."""
    out = {}
    for axis in axes:
        scale = axis_scale([point.get(axis) for point in points])
        if scale is not None and not is_seed_axis(axis):
            out[axis] = scale
    return out


def _x(value: Any, scale: str) -> float:
    return float(len(value)) if scale == "length" else float(value)


def _finite(values: list[Any]) -> np.ndarray:
    return np.array([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)


def pooled(means: list[float | None], stds: list[float | None], weights: list[int | None]) -> dict[str, float | None]:
    """Mean and std over the union of several children's trials, from each child's mean, std
    (over its trials, ddof 0) and trial count: one child gives back its own numbers."""
    keep = [(m, s, w or 1) for m, s, w in zip(means, stds, weights) if m is not None and s is not None]
    if not keep:
        return {"mean": None, "std": None}
    m, s, w = (np.array(v, dtype=np.float64) for v in zip(*keep))
    mean = float(np.sum(w * m) / np.sum(w))
    second = float(np.sum(w * (s**2 + m**2)) / np.sum(w))
    return {"mean": mean, "std": math.sqrt(max(0.0, second - mean**2))}


def mean_with_se(values: list[float | None], ses: list[float | None]) -> tuple[float | None, float | None]:
    """Mean of independent estimates and its SE, sqrt(sum SE^2) / n (None where one SE is missing)."""
    pairs = [(v, s) for v, s in zip(values, ses) if v is not None]
    if not pairs:
        return None, None
    v = np.array([p[0] for p in pairs], dtype=np.float64)
    if any(p[1] is None for p in pairs):
        return float(v.mean()), None
    s = np.array([p[1] for p in pairs], dtype=np.float64)
    return float(v.mean()), float(np.sqrt(np.sum(s**2)) / len(pairs))


def _common_label(labels: list[str | None]) -> str | None:
    known = {label for label in labels if label is not None}
    return None if not known else known.pop() if len(known) == 1 else "mixed"


def _pool(rows: list[dict], name: str) -> dict[str, float | None]:
    """Pooled mean and std of column ``<name>_mean`` / ``<name>_std`` over the rows' trials."""
    return pooled([row[f"{name}_mean"] for row in rows], [row[f"{name}_std"] for row in rows], [row["trials"] for row in rows])


def _point(x: float, rows: list[dict]) -> dict:
    """One grid value of one line: the children there (those with numbers) averaged.

    A child whose tail fit stopped at a bound of its search range has no estimate of r: it
    is left out of ``r_gamma`` (so of the flip) and counted in ``r_gamma_at_bound``."""
    estimated = [row for row in rows if not row.get("r_gamma_at_bound")]
    r, r_se = mean_with_se([row["r_gamma"] for row in estimated], [row["r_gamma_se"] for row in estimated])
    initial = _finite([row["validation_loss_initial"] for row in rows])
    figure_4c = _finite([row.get("figure_4c") for row in rows])
    figure_4c_true = _finite([row.get("figure_4c_true") for row in rows])
    K = next((row["classes"] for row in rows if row["classes"]), None)
    return {
        "x": x,
        "children": [row["index"] for row in rows],
        "validation_accuracy": _pool(rows, "validation_accuracy"),
        "train_accuracy": _pool(rows, "train_accuracy"),
        "validation_loss": _pool(rows, "validation_loss"),
        "validation_loss_initial": float(initial.mean()) if initial.size else None,
        "chance_accuracy": 1.0 / K if K else None,
        "log_classes": math.log(K) if K else None,
        "r_gamma": r,
        "r_gamma_se": r_se,
        "r_gamma_at_bound": sum(1 for row in rows if row.get("r_gamma_at_bound")),
        "figure_4c": float(figure_4c.mean()) if figure_4c.size else None,
        "figure_4c_true": float(figure_4c_true.mean()) if figure_4c_true.size else None,
        "verdict": _common_label([row["verdict"] for row in rows]),
        "verdicts": [row["verdict"] for row in rows],
        "verdict_true": _common_label([row.get("verdict_true") for row in rows]),
    }


def _group_label(group: dict[str, Any]) -> str:
    """``"dataset.classes=[triangle, rectangle], model.name=lenet"`` (``"all children"`` when no axis groups)."""

    def text(value: Any) -> str:
        return f"[{', '.join(map(str, value))}]" if isinstance(value, list) else str(value)

    return ", ".join(f"{axis}={text(value)}" for axis, value in group.items()) or "all children"


def axis_curves(rows: list[dict], axes: list[str], axis: str, scale: str) -> dict:
    """The curves against ``axis``: one line per combination of the other non-seed axes.

    ``rows`` are the rows of the children with an analysis (:func:`.rows.child_row`).
    Each line has one point per grid value (children differing only in a seed averaged:
    means and stds pooled over their trials, r averaged with SE sqrt(sum SE^2)/n) and the
    flip of the verdict along it.
    """
    grouped_by = [a for a in axes if a != axis and not is_seed_axis(a)]
    averaged = [a for a in axes if a != axis and is_seed_axis(a)]
    lines: dict[str, dict] = {}
    for row in rows:
        group = {a: row[a] for a in grouped_by}
        line = lines.setdefault(json.dumps(group, sort_keys=True), {"group": group, "at": {}})
        line["at"].setdefault(_x(row[axis], scale), []).append(row)
    out_lines = []
    for line in lines.values():
        points = [_point(x, line["at"][x]) for x in sorted(line["at"])]
        x = np.array([p["x"] for p in points])
        nan = float("nan")
        r = np.array([nan if p["r_gamma"] is None else p["r_gamma"] for p in points])
        se = np.array([nan if p["r_gamma_se"] is None else p["r_gamma_se"] for p in points])
        flip = flip_point(x, r, se, [p["verdict"] for p in points])
        out_lines.append({"group": line["group"], "label": _group_label(line["group"]), "points": points, "flip": flip})
    parts = [f"one line per value of {', '.join(grouped_by)}"] if grouped_by else []
    if averaged:
        parts.append(
            f"children differing only in {', '.join(averaged)} averaged into one point (means and stds pooled over their trials, r averaged with SE sqrt(sum SE^2)/n)"
        )
    if scale == "length":
        parts.append(f"{axis} plotted by its length (lists of one length share a point)")
    explain = "; ".join(parts) or "one point per child"
    return {
        "axis": axis,
        "scale": scale,
        "x_label": f"number of classes K (length of {axis})" if scale == "length" else axis,
        "grouped_by": grouped_by,
        "averaged_over": averaged,
        "explain": explain,
        "lines": out_lines,
    }

"""The typed result of a sweep's analysis and its JSON: rows, curves along each plotted axis, the flip, notes.

``sweep_analysis`` is a pure function of the children as read (:mod:`.reader`) returning
the contract's :class:`~lesde_contract.analysis_results.SweepAnalysis`; ``sweep_summary`` is its
stored JSON, to which the job adds the figure names before storing it. Outline::

    {"version", "sweep_id", "name", "axes", "primary_axis", "partial", "counts",
     "children": [{index, experiment_id, point, status, analysis, in_curves, missing}],
     "columns": [...], "rows": [{column: value}], "curves": {axis: {..., "lines": [...]}},
     "flip": {"axis", "lines": [{group, label, value, between, uncertainty, ...}]},
     "figures": [names], "notes": [lines]}
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from lesde_contract.analysis_results import SWEEP_FORMAT_VERSION, SweepAnalysis, encode
from lesde_contract.analysis_results.sweep import AxisCurves, FlipLine, SweepChildResult, SweepCounts, SweepFlip
from lesde_contract.json_safe import json_safe
from lesde_contract.records import utcnow

from lesde_analyzer.sweeps.compute import axis_curves, plotted_axes
from lesde_analyzer.sweeps.reader import DELETED, ChildResult, SweepData
from lesde_analyzer.sweeps.rows import child_row, columns

FORMAT_VERSION = SWEEP_FORMAT_VERSION

__all__ = ["FORMAT_VERSION", "sweep_analysis", "sweep_summary", "missing_reason"]


def missing_reason(child: ChildResult) -> str | None:
    """Why a child is left out of the curves (None: it is in them)."""
    if child.summary is not None:
        return None
    if child.status == DELETED:
        return "deleted"
    if child.status in ("queued", "running"):
        return f"still training ({child.status})"
    if child.status != "succeeded":
        return f"training {child.status}"
    if child.analysis == "failed":
        return "analysis failed"
    if child.analysis == "succeeded":
        return "its summary is of an unfinished run (partial)"
    return f"analysis not finished ({child.analysis})"


def _safe(tree: Any) -> Any:
    """``tree`` with numpy scalars and arrays as plain JSON values and NaN as None, at any depth."""
    if isinstance(tree, dict):
        return {key: _safe(value) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_safe(value) for value in tree]
    return json_safe(tree)


def _fmt(value: float | None) -> str:
    return "?" if value is None else f"{value:.4g}"


def _flip_note(axis: str, line: dict) -> str:
    flip = line["flip"]
    where = "" if line["label"] == "all children" else f" ({line['label']})"
    if flip["value"] is None:
        return f"Flip along {axis}{where}: none found: {flip['reason']}."
    text = f"Flip along {axis}{where}: r_slope of Gamma crosses 1 at {_fmt(flip['value'])} ({flip['direction']}), between grid values {_fmt(flip['between'][0])} and {_fmt(flip['between'][1])}"
    band = flip["uncertainty"]
    if band is not None:
        lo, hi = band["interval"]
        text += f"; |r - 1| <= 2 SE from {'<= ' if band['lower_open'] else ''}{_fmt(lo)} to {'>= ' if band['upper_open'] else ''}{_fmt(hi)}"
    return text + "."


def _notes(data: SweepData, children: list[dict], curves: dict, primary: str | None) -> list[str]:
    notes = []
    waiting = [child.index for child in data.children if child.unfinished]
    if waiting:
        notes.append(
            f"Partial: {len(waiting)} of {len(children)} children are unfinished (indices {waiting}); the analysis is recomputed as each finishes."
        )
    left_out = [f"{c['index']} ({c['missing']})" for c in children if c["missing"] and c["index"] not in waiting]
    if left_out:
        notes.append(f"Left out of the curves, listed in the table: {', '.join(left_out)}.")
    if primary is None:
        if not plotted_axes(data.axes, [child.point for child in data.children]):
            notes.append("No axis other than seeds has numeric (or list) values: no curves or figures; the table lists every child.")
        else:
            notes.append("No child has a finished analysis yet: no curves or figures.")
        return notes
    c = curves[primary]
    notes.append(
        f"Figures against {c['x_label']} ({c['explain']}): sweep-accuracy: final validation accuracy, mean over trials with error bars "
        "of one std over trials, and the chance level 1/K; sweep-loss: final validation loss (mean, std over trials) with the "
        "initial loss dashed (near log K); sweep-tail-index: r_slope of Gamma (level fit on the deciding window) with +-2 SE "
        "bars, the paper's Figure 4c number (min of the authors' r-hat of A and B, I-model) as crosses, the line r = 1, and the "
        "verdict of each grid value shaded; a fit at its search bound is no estimate and is not drawn."
    )
    notes.extend(_flip_note(primary, line) for line in c["lines"])
    return notes


def sweep_summary(data: SweepData) -> dict[str, Any]:
    """The stored JSON of :func:`sweep_analysis` (figures not yet named)."""
    return encode(sweep_analysis(data))


def sweep_analysis(data: SweepData) -> SweepAnalysis:
    """Every cross-child number of ``data`` (figures not yet named)."""
    rows = [child_row(child, data.axes) for child in data.children]
    analysed = [row for row, child in zip(rows, data.children) if child.summary is not None]
    children = [
        SweepChildResult(
            index=c.index, experiment_id=c.experiment_id, point=_safe(c.point), status=c.status, analysis=c.analysis,
            in_curves=c.summary is not None, missing=missing_reason(c),
        )
        for c in data.children
    ]  # fmt: skip
    plotted = plotted_axes(data.axes, [child.point for child in data.children])
    curves = {axis: axis_curves(analysed, data.axes, axis, scale) for axis, scale in plotted.items()} if analysed else {}
    primary = next(iter(curves), None)
    return SweepAnalysis(
        version=FORMAT_VERSION,
        sweep_id=data.sweep_id,
        name=data.name,
        computed_at=utcnow().isoformat(),
        axes=data.axes,
        primary_axis=primary,
        partial=any(child.unfinished for child in data.children),
        counts=SweepCounts(
            children=len(data.children),
            in_curves=len(analysed),
            by_status=dict(Counter(child.status for child in data.children)),
            by_analysis=dict(Counter(child.analysis for child in data.children)),
        ),
        children=children,
        columns=columns(data.axes),
        rows=_safe(rows),
        curves={axis: AxisCurves.model_validate(_safe(curve)) for axis, curve in curves.items()},
        flip=None if primary is None else SweepFlip(
            axis=primary,
            lines=[FlipLine.model_validate(_safe({"group": line["group"], "label": line["label"], **line["flip"]})) for line in curves[primary]["lines"]],
        ),
        figures=[],
        notes=_notes(data, [child.model_dump() for child in children], curves, primary),
    )  # fmt: skip

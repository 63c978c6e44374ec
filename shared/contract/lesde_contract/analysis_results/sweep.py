"""The cross-child analysis of a sweep, as the analyzer stores it: rows, curves along each axis, the flip.

The gateway serves it at ``GET /v1/sweeps/{id}/analysis``, adding links. Grid values
(``point``, a line's ``group`` and the rows' axis columns) are whatever the sweep spec
posted for each dotted field path, so they are any JSON value.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from lesde_contract.analysis_results.common import MeanStd, ResultModel

__all__ = [
    "SWEEP_FORMAT_VERSION", "SweepChildResult", "SweepCounts", "CurvePoint", "Crossing", "FlipUncertainty", "Flip",
    "CurveLine", "AxisCurves", "FlipLine", "SweepFlip", "SweepAnalysis",
]  # fmt: skip

#: ``version`` of the stored sweep analysis
SWEEP_FORMAT_VERSION = 1

#: dotted spec field path -> the value posted for it (any JSON: a number, a string, a list of class names...)
GridValues = dict[str, JsonValue]


class SweepChildResult(ResultModel):
    """One grid point and whether its experiment's analysis is in the curves."""

    index: int = Field(description="Position in the grid.")
    experiment_id: str = Field(description="The child experiment.")
    point: GridValues = Field(description="Dotted spec field path -> the value this child uses.")
    status: str = Field(description="The experiment's status ('deleted' when its record is gone).")
    analysis: str = Field(description="State of the experiment's own analysis.")
    in_curves: bool = Field(description="Whether its numbers are in the curves (a finished analysis of a finished run).")
    missing: str | None = Field(description="Why it is left out of the curves (null when it is in them).")


class SweepCounts(ResultModel):
    """How many children there are, how many are in the curves, and by state."""

    children: int = Field(description="Children of the sweep.")
    in_curves: int = Field(description="Children whose analysis is in the curves.")
    by_status: dict[str, int] = Field(description="Children per job status.")
    by_analysis: dict[str, int] = Field(description="Children per analysis state.")


class CurvePoint(ResultModel):
    """One grid value of one line: the children there averaged (seeds pooled)."""

    x: float = Field(description="The axis value (or the list's length, for a list-valued axis).")
    children: list[int] = Field(description="Indices of the children averaged here.")
    validation_accuracy: MeanStd = Field(description="Final validation accuracy (a fraction), pooled over the children's trials.")
    train_accuracy: MeanStd = Field(description="Final training accuracy (a fraction), pooled over the children's trials.")
    validation_loss: MeanStd = Field(description="Final validation loss (nats), pooled over the children's trials.")
    validation_loss_initial: float | None = Field(description="Validation loss of the first evaluation (before training), nats.")
    chance_accuracy: float | None = Field(description="1/K, the chance level of accuracy.")
    log_classes: float | None = Field(description="log K, the loss of a uniform guess (nats).")
    r_gamma: float | None = Field(description="r_slope of Gamma averaged over the children with an estimate (dimensionless).")
    r_gamma_se: float | None = Field(description="Its standard error, sqrt(sum SE^2)/n (null where a child has none).")
    r_gamma_at_bound: int = Field(description="Children left out of r_gamma: their fit stopped at its bound.")
    figure_4c: float | None = Field(description="The paper's Figure 4c number, mean over the children.")
    figure_4c_true: float | None = Field(description="The same with Xbar grouped by the true label.")
    verdict: str | None = Field(description="The children's common verdict ('mixed' when they differ; null when none has one).")
    verdicts: list[str | None] = Field(description="Each child's verdict.")
    verdict_true: str | None = Field(description="The common verdict with Xbar grouped by the true label.")


class Crossing(ResultModel):
    """One crossing of r = 1 by the piecewise-linear r_gamma along a line."""

    value: float = Field(description="Axis value of the crossing (linear interpolation).")
    between: list[float] = Field(description="The two grid values that bracket it.")
    direction: str = Field(description="'separable -> not separable' or 'not separable -> separable' as the axis grows.")


class FlipUncertainty(ResultModel):
    """The stretch of axis values around the crossing where |r - 1| <= 2 SE."""

    interval: list[float] = Field(description="[lo, hi] in axis units.")
    lower_open: bool = Field(description="The band still holds at the first grid value (the flip may lie below the grid).")
    upper_open: bool = Field(description="The band still holds at the last grid value (the flip may lie above the grid).")


class Flip(ResultModel):
    """Where along one line the verdict flips: r_slope of Gamma crossing 1."""

    method: str = Field(description="How the crossing is found.")
    uncertainty_method: str = Field(description="How its uncertainty is found.")
    value: float | None = Field(description="The first crossing in axis order (null when none: reason says why).")
    between: list[float] | None = Field(description="The two grid values that bracket it.")
    direction: str | None = Field(description="Its direction as the axis grows.")
    reason: str | None = Field(description="Why there is no crossing, or that there are several.")
    crossings: list[Crossing] = Field(description="Every crossing.")
    uncertainty: FlipUncertainty | None = Field(description="Axis values around the crossing where |r - 1| <= 2 SE.")
    first_not_separable: float | None = Field(description="First grid value labelled 'not separable'.")
    last_separable: float | None = Field(description="Last grid value labelled 'separable'.")
    uncertainty_reason: str | None = Field(
        default=None, description="Why there is no uncertainty (a grid value without SE); absent otherwise."
    )


class CurveLine(ResultModel):
    """One line of an axis's curves: the children sharing the other axes' values."""

    group: GridValues = Field(description="The other non-seed axes' values of this line.")
    label: str = Field(description="The group in words ('all children' when no axis groups).")
    points: list[CurvePoint] = Field(description="One point per grid value, in axis order.")
    flip: Flip = Field(description="The flip of the verdict along this line.")


class AxisCurves(ResultModel):
    """The curves against one plotted axis."""

    axis: str = Field(description="The axis (a dotted spec field path).")
    scale: Literal["value", "length"] = Field(description="'value' (numbers) or 'length' (lists, plotted by their length).")
    x_label: str = Field(description="The axis label of the figures.")
    grouped_by: list[str] = Field(description="Axes whose values make separate lines.")
    averaged_over: list[str] = Field(description="Seed axes averaged into one point.")
    explain: str = Field(description="How the points are made, in words.")
    lines: list[CurveLine] = Field(description="One line per combination of the grouped_by axes' values.")


class _LineName(ResultModel):
    """Which line a flip belongs to (the first fields of :class:`FlipLine`)."""

    group: GridValues = Field(description="The other non-seed axes' values of the line.")
    label: str = Field(description="The group in words.")


class FlipLine(Flip, _LineName):
    """The flip of one line along the primary axis, with the line it belongs to."""


class SweepFlip(ResultModel):
    """Where r of Gamma crosses 1 along the primary axis, per line."""

    axis: str = Field(description="The primary axis.")
    lines: list[FlipLine] = Field(description="The flip of each line.")


class SweepAnalysis(ResultModel):
    """Results across a sweep's children (partial while some run)."""

    version: int = Field(description="Format version of this JSON.")
    sweep_id: str = Field(description="The sweep.")
    name: str | None = Field(description="The sweep's name.")
    computed_at: str = Field(description="When this analysis was computed (ISO 8601, UTC).")
    axes: list[str] = Field(description="The dotted field paths the grid varies.")
    primary_axis: str | None = Field(description="The axis plotted first (null before any child is analysed, or with nothing to plot).")
    partial: bool = Field(description="True while some children have not finished.")
    counts: SweepCounts = Field(description="Children in all, in the curves, and by state.")
    children: list[SweepChildResult] = Field(description="Each child, in grid order.")
    columns: list[str] = Field(description="Columns of rows (and of table.csv).")
    rows: list[GridValues] = Field(
        description="One row per child, column -> value: the grid values (any JSON) and its result numbers (null where missing)."
    )
    curves: dict[str, AxisCurves] = Field(description="Per plotted axis: the result numbers along it.")
    flip: SweepFlip | None = Field(description="Where r of Gamma crosses 1 along the primary axis (null without curves).")
    figures: list[str] = Field(description="Names of the stored figures.")
    notes: list[str] = Field(description="What the numbers say, in words.")

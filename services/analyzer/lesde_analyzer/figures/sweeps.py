"""The figures of a sweep's analysis (Figure 4 of the paper), rendered from its summary alone.

Each figure is a function ``(summary, *, width, height) -> Figure`` of the stored JSON
(the curves along the primary axis; :func:`draw`, and :func:`render` for PNG bytes), so
any size or format can be re-rendered without reading the children again. Every grid value is a tick; an axis spanning more than a
factor of 20 (sample sizes) is drawn on a log scale; a label-noise axis marks the
paper's transition at p = 2/3.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from lesde_contract.specs.analysis import SWEEP_FIGURE_SIZE
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lesde_analyzer.figures.style import add_caption, class_color, finish_axes, new_figure, to_png

__all__ = ["FIGURES", "draw", "render"]

WIDTH, HEIGHT, DPI = SWEEP_FIGURE_SIZE
LABEL_NOISE = "dataset.label_noise"
VERDICT_COLORS = {"separable": "#009E73", "inconclusive": "#999999", "not separable": "#D55E00", "mixed": "#F0E442"}
#: shift of each line's markers, as a fraction of the axis span, so error bars of lines at one grid value stay apart
DODGE = 0.012


def _curves(summary: dict) -> dict:
    return summary["curves"][summary["primary_axis"]]


def _tick_label(x: float) -> str:
    if abs(x - 2 / 3) < 1e-9:
        return "2/3"
    return str(int(x)) if float(x).is_integer() else f"{x:.3g}"


def _line_x(curves: dict, i: int, x: np.ndarray, log: bool) -> np.ndarray:
    """Grid values of line ``i``, dodged sideways when several lines share the grid."""
    n = len(curves["lines"])
    if n == 1:
        return x
    shift = (i - (n - 1) / 2) * DODGE
    return x * 10 ** (shift * 2) if log else x + shift * _span(curves)


def _grid_values(curves: dict) -> np.ndarray:
    return np.unique([p["x"] for line in curves["lines"] for p in line["points"]])


def _span(curves: dict) -> float:
    x = _grid_values(curves)
    return float(x[-1] - x[0]) or 1.0


def _is_log(curves: dict) -> bool:
    x = _grid_values(curves)
    return bool(x[0] > 0 and x[-1] / x[0] > 20)


def _setup_x(ax: Axes, curves: dict) -> None:
    """Log scale for wide positive axes, a tick at every grid value, p = 2/3 on a label-noise axis."""
    x = _grid_values(curves)
    if _is_log(curves):
        ax.set_xscale("log")
        ax.minorticks_off()
    position = np.log10(x) if _is_log(curves) else x
    crowded = len(x) > 1 and np.min(np.diff(position)) < 0.12 * (position[-1] - position[0])
    ax.set_xticks(x, [_tick_label(v) for v in x], rotation=45 if crowded or len(x) > 8 else 0)
    if curves["axis"] == LABEL_NOISE:
        ax.axvline(2 / 3, color="black", ls=":", lw=1.0, label="p = 2/3 (the paper's transition)")


def _values(points: list[dict], *path: str) -> np.ndarray:
    out = []
    for p in points:
        v: object = p
        for key in path:
            v = None if v is None else v.get(key) if isinstance(v, dict) else None
        out.append(np.nan if v is None else v)
    return np.array(out, dtype=np.float64)


def _line_label(curves: dict, line: dict, what: str) -> str:
    """The legend label of one line's artist: ``what`` once (from the first line); the lines
    themselves are told apart by colour in the legend's group entries (:func:`_legend`)."""
    return what if line is curves["lines"][0] else "_nolegend_"


def _reference(ax: Axes, curves: dict, key: str, label: str) -> None:
    """A per-grid-value reference (chance 1/K, log K): one grey horizontal line when it is the
    same everywhere, else one dotted line per distinct curve (in the colour of its first line)."""
    first: dict[tuple, int] = {}
    for i, line in enumerate(curves["lines"]):
        pairs = tuple((p["x"], p[key]) for p in line["points"] if p.get(key) is not None)
        if pairs:
            first.setdefault(pairs, i)
    values = {v for pairs in first for _, v in pairs}
    if len(values) == 1:
        value = values.pop()
        ax.axhline(value, color="grey", ls=":", lw=1.2, label=f"{label} = {value:.3g}")
        return
    one = len(first) == 1
    for k, (pairs, i) in enumerate(first.items()):
        x, y = zip(*pairs)
        ax.plot(x, y, color="grey" if one else class_color(i), ls=":", lw=1.2, label=label if k == 0 else "_nolegend_")


def _black(handle: Artist) -> Artist:
    """A black stand-in of a line's legend entry (an error-bar series becomes its marker and line)."""
    if isinstance(handle, ErrorbarContainer):
        handle = handle.lines[0]
    if not isinstance(handle, Line2D):
        return handle
    return Line2D(
        [], [], color="black", ls=handle.get_linestyle(), lw=handle.get_linewidth(), marker=handle.get_marker(), ms=handle.get_markersize()
    )


def _legend(ax: Axes, curves: dict, extra: Sequence[Artist] = ()) -> None:
    """The legend right of the axes, where it hides no point. With several lines, what is
    drawn is listed in black and one coloured entry per line names its group."""
    handles, labels = ax.get_legend_handles_labels()
    if len(curves["lines"]) > 1:
        handles = [_black(h) for h in handles]
        handles += [Line2D([], [], color=class_color(i), lw=2.5) for i in range(len(curves["lines"]))]
        labels += [line["label"] for line in curves["lines"]]
    ax.legend([*handles, *extra], labels + [h.get_label() for h in extra], loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _caption(summary: dict, detail: str) -> str:
    counts = summary["counts"]
    partial = " (partial: some children unfinished)" if summary.get("partial") else ""
    return (
        f"sweep {summary['sweep_id']}{partial}: {counts['in_curves']} of {counts['children']} children analysed; "
        f"{_curves(summary)['explain']}; {detail}"
    )


#: what :func:`_mean_std_panel` may add to each line: ``extra(ax, curves, i, line, x)``
LineExtra = Callable[[Axes, dict, int, dict, np.ndarray], None]


def _mean_std_panel(summary: dict, *, metric: str, width: float, height: float, extra: LineExtra | None = None) -> tuple[Figure, Axes]:
    """A figure with ``metric``'s mean ± std over trials per line; ``extra(ax, curves, i, line, x)`` adds to each line."""
    curves = _curves(summary)
    log = _is_log(curves)
    fig, ax = new_figure(width=width, height=height)
    for i, line in enumerate(curves["lines"]):
        pts = line["points"]
        x = _line_x(curves, i, _values(pts, "x"), log)
        mean, std = _values(pts, metric, "mean"), _values(pts, metric, "std")
        ax.errorbar(x, mean, yerr=std, color=class_color(i), marker="o", ms=5, lw=1.4, capsize=3, elinewidth=0.9,
                    label=_line_label(curves, line, "final, mean ± std over trials"), zorder=3)  # fmt: skip
        if extra is not None:
            extra(ax, curves, i, line, x)
    _setup_x(ax, curves)
    return fig, ax


def accuracy(summary: dict, *, width: float, height: float) -> Figure:
    """Figure 4a: final validation accuracy against the primary axis, with the chance level 1/K."""
    fig, ax = _mean_std_panel(summary, metric="validation_accuracy", width=width, height=height)
    curves = _curves(summary)
    _reference(ax, curves, "chance_accuracy", "chance level 1/K")
    ax.set_ylim(-0.02, 1.05)
    finish_axes(
        ax,
        xlabel=curves["x_label"],
        ylabel="validation accuracy (fraction correct)",
        title=f"Validation accuracy against {curves['x_label']}",
        legend=False,
    )
    _legend(ax, curves)
    add_caption(fig, _caption(summary, "accuracy on the whole validation set at the last eval record"))
    return fig


def _initial_loss(ax: Axes, curves: dict, i: int, line: dict, x: np.ndarray) -> None:
    ax.plot(x, _values(line["points"], "validation_loss_initial"), ls="--", lw=1.1, color=class_color(i),
            label=_line_label(curves, line, "initial (first eval record)"))  # fmt: skip


def loss(summary: dict, *, width: float, height: float) -> Figure:
    """Figure 4b: final validation loss against the primary axis, the initial loss dashed, log K dotted."""
    fig, ax = _mean_std_panel(summary, metric="validation_loss", width=width, height=height, extra=_initial_loss)
    curves = _curves(summary)
    _reference(ax, curves, "log_classes", "log K")
    finish_axes(
        ax,
        xlabel=curves["x_label"],
        ylabel="validation loss (cross-entropy, nats)",
        title=f"Validation loss against {curves['x_label']}",
        legend=False,
    )
    _legend(ax, curves)
    add_caption(fig, _caption(summary, "cross-entropy on the whole validation set at the last eval record; dashed: before training"))
    return fig


def _shade_verdicts(ax: Axes, curves: dict) -> list[Patch]:
    """Shade each grid value's cell by its verdict (all lines agreeing, else 'mixed'); return legend patches."""
    labels: dict[float, set] = {}
    for line in curves["lines"]:
        for p in line["points"]:
            labels.setdefault(p["x"], set()).add(p["verdict"] or "inconclusive")
    x = np.array(sorted(labels))
    if _is_log(curves):
        edges = np.sqrt(x[:-1] * x[1:])
        left, right = (
            x[0] / (x[1] / x[0]) ** 0.5 if len(x) > 1 else x[0] / 1.5,
            x[-1] * (x[-1] / x[-2]) ** 0.5 if len(x) > 1 else x[0] * 1.5,
        )
    else:
        edges = (x[:-1] + x[1:]) / 2
        half = (x[1] - x[0]) / 2 if len(x) > 1 else 0.5
        left, right = x[0] - half, x[-1] + ((x[-1] - x[-2]) / 2 if len(x) > 1 else 0.5)
    bounds = np.concatenate([[left], edges, [right]])
    seen = []
    for j, value in enumerate(x):
        found = labels[value]
        label = found.pop() if len(found) == 1 else "mixed"
        ax.axvspan(bounds[j], bounds[j + 1], color=VERDICT_COLORS.get(label, "#999999"), alpha=0.15, lw=0, zorder=0)
        if label not in seen:
            seen.append(label)
    ax.set_xlim(bounds[0], bounds[-1])
    order = [name for name in VERDICT_COLORS if name in seen]
    return [
        Patch(color=VERDICT_COLORS[name], alpha=0.3, label=f"verdict: {name}" + (" (lines or seeds disagree)" if name == "mixed" else ""))
        for name in order
    ]


def tail_index(summary: dict, *, width: float, height: float) -> Figure:
    """Figure 4c: our r_slope of Gamma (± 2 SE) and the paper's quantity (min of the authors' r-hat of A and B,
    I-model) against the primary axis, r = 1, verdict shading."""
    curves = _curves(summary)
    log = _is_log(curves)
    fig, ax = new_figure(width=width, height=height)
    patches = _shade_verdicts(ax, curves)
    shown = [1.0]
    for i, line in enumerate(curves["lines"]):
        pts = line["points"]
        x = _line_x(curves, i, _values(pts, "x"), log)
        r, se = _values(pts, "r_gamma"), _values(pts, "r_gamma_se")
        paper, paper_true = _values(pts, "figure_4c"), _values(pts, "figure_4c_true")
        ax.errorbar(x, r, yerr=2 * np.nan_to_num(se), color=class_color(i), marker="o", ms=5, lw=1.4, capsize=3, elinewidth=0.9,
                    label=_line_label(curves, line, r"ours: $r$ of $\Gamma$ (level fit) ± 2 SE"), zorder=3)  # fmt: skip
        ax.plot(x, paper, ls="none", marker="x", ms=7, mew=1.6, color=class_color(i),
                label=_line_label(curves, line, r"paper's Fig. 4c: min($\hat r_\alpha$, $\hat r_\beta$), I-model"), zorder=4)  # fmt: skip
        if np.isfinite(paper_true).any() and not np.allclose(paper_true, paper, equal_nan=True):
            ax.plot(x, paper_true, ls="none", marker="+", ms=8, mew=1.4, color=class_color(i),
                    label=_line_label(curves, line, "the same, Xbar by true label"), zorder=4)  # fmt: skip
        bounded = sum(p.get("r_gamma_at_bound") or 0 for p in pts)
        if bounded:
            ax.plot([], [], ls="none", label=_line_label(curves, line, f"{bounded} fit(s) at the search bound: no estimate, not drawn"))
        shown += [v for v in np.concatenate([r, paper, paper_true]) if np.isfinite(v)]
    ax.axhline(1.0, color="black", ls="--", lw=1.0, label="r = 1 (Theorem 3.1: separable below)")
    for i, line in enumerate(curves["lines"]):
        flip = line["flip"]
        if flip["value"] is None:
            continue
        ax.axvline(flip["value"], color=class_color(i), lw=0.9, label=_line_label(curves, line, f"r crosses 1 at {flip['value']:.3g}"))
        if flip["uncertainty"] is not None:
            lo, hi = flip["uncertainty"]["interval"]
            ax.plot([lo, hi], [1.0, 1.0], color=class_color(i), lw=5, alpha=0.35, solid_capstyle="butt",
                    label=_line_label(curves, line, "|r - 1| <= 2 SE around it"))  # fmt: skip
    # error bars can be far larger than the points: frame the points, let long bars run off
    lo, hi = min(shown), max(shown)
    pad = 0.15 * (hi - lo or 1.0)
    ax.set_ylim(min(0.0, lo) - pad, hi + pad)
    xlim = ax.get_xlim()
    _setup_x(ax, curves)
    ax.set_xlim(xlim)
    finish_axes(
        ax,
        xlabel=curves["x_label"],
        ylabel=r"tail index $r$ of $\Gamma$ (dimensionless)",
        title=f"Tail index of Gamma against {curves['x_label']}",
        legend=False,
    )
    _legend(ax, curves, patches)
    add_caption(fig, _caption(summary, "crossing of 1 interpolated linearly between grid values; error bars may run past the frame"))
    return fig


FIGURES: dict[str, Callable[..., Figure]] = {
    "sweep-accuracy": accuracy,
    "sweep-loss": loss,
    "sweep-tail-index": tail_index,
}


def draw(name: str, summary: dict, *, width: float | None = None, height: float | None = None) -> Figure:
    """Figure ``name`` (one of :data:`FIGURES`) of a sweep summary with curves, as a matplotlib Figure."""
    return FIGURES[name](summary, width=width or WIDTH, height=height or HEIGHT)


def render(name: str, summary: dict, *, width: float | None = None, height: float | None = None, dpi: int | None = None) -> bytes:
    """Render figure ``name`` (one of :data:`FIGURES`) of a sweep summary with curves as PNG bytes."""
    return to_png(draw(name, summary, width=width, height=height), dpi=dpi or DPI)

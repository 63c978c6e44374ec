"""One figure style for every analyzer plot (Agg, no pyplot, PNG bytes out).

Use::

    fig, axes = new_figure(ncols=2)
    finish_axes(axes[0], xlabel="t", ylabel="A(t)")
    png = to_png(fig)

Figures are built with :class:`matplotlib.figure.Figure` on an explicit Agg canvas (thread
safe, no pyplot, no global backend switch) under :data:`STYLE`.
"""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING, Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["STYLE", "CLASS_COLORS", "class_color", "new_figure", "to_png", "finish_axes", "add_caption"]

#: rcParams applied while a figure is built and saved
STYLE: dict[RcKeyType, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": "-",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
}

#: colour-blind-safe palette (Okabe-Ito), one colour per class, cycling after 8
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def class_color(k: int) -> str:
    """The colour of class ``k``."""
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def new_figure(*, nrows: int = 1, ncols: int = 1, width: float = 6.4, height: float = 4.0, **subplot_kw: Any) -> tuple[Figure, Any]:
    """A styled figure and its axes (an array when ``nrows * ncols > 1``).

    ``subplot_kw`` goes to :meth:`matplotlib.figure.Figure.subplots` as it is.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or ndarray of Axes
        What ``Figure.subplots`` returns, typed as it types it (``Any``): an ``Axes``, an
        ``Axes3D`` with ``subplot_kw={"projection": "3d"}``, or an array of them.
    """
    with rc_context(STYLE):
        fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


def finish_axes(ax: Axes, *, xlabel: str, ylabel: str, title: str | None = None, legend: bool = True) -> None:
    """Label the axes, set the title and draw the legend when there are labelled artists."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")


def add_caption(fig: Figure, text: str) -> None:
    """One small grey line under the axes saying where the figure's numbers come from.

    A reader of a saved PNG has no JSON beside it, so the stream, model and windows a
    figure was computed with are written on the figure itself.
    """
    # about 15 characters of 8-pt text per inch: wrap so that no word runs off the edge
    width = max(30, int(fig.get_figwidth() * 15))
    with rc_context(STYLE):
        fig.supxlabel(textwrap.fill(text, width), fontsize=8, color="#555555")


def to_png(fig: Figure, *, dpi: int | None = None) -> bytes:
    """Render ``fig`` to PNG bytes under :data:`STYLE` (``dpi`` None: the style's ``savefig.dpi``).

    The figure is drawn once, at the final dpi, on an Agg canvas. ``savefig`` would draw a
    constrained-layout figure twice (a dry run that lays it out, then the real draw), and
    the dry run costs about as much as the draw: nearly all of a figure's time is text and
    tick layout, not data. The pixels are the same either way.
    """
    buf = io.BytesIO()
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    screen_dpi = fig.dpi
    try:
        with rc_context(STYLE):
            fig.set_dpi(STYLE["savefig.dpi"] if dpi is None else dpi)
            canvas.print_png(buf)
    finally:
        fig.set_dpi(screen_dpi)  # like savefig, leave the figure as it was
    return buf.getvalue()

"""A drawn figure as PNG, SVG or PDF bytes, and a pair of figures drawn on shared axes.

Vector formats carry the same figure as the PNG (same layout, same text): matplotlib's SVG
and PDF backends draw the Figure the Agg canvas drew, with fonts as text (SVG keeps glyphs as
paths by default, which no reader can search: ``svg.fonttype = none`` keeps them text).
Metadata dates are fixed, so the same figure gives the same bytes.

Shared axes, for comparing two runs: each of the pair is drawn, then every pair of matching
axes (same position in both figures) gets the union of the two's data limits, so the same
value sits at the same height in both.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import FigureCanvasPdf
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from lesde_analyzer.figures.style import STYLE, to_png

# The PDF backend subsets fonts with fontTools, which logs every glyph list at INFO: in a
# worker those lines would bury the job's own in its stored log (lesde_runtime.job_logs).
logging.getLogger("fontTools").setLevel(logging.WARNING)

FORMATS = ("png", "svg", "pdf")
MEDIA_TYPES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
# No creation date in the file: a re-render of the same figure is byte-identical.
_SVG_METADATA = {"Date": None}
_PDF_METADATA = {"CreationDate": None, "ModDate": None}


def to_format(fig: Figure, fmt: str, *, dpi: int | None = None) -> bytes:
    """``fig`` as ``fmt`` (one of :data:`FORMATS`); ``dpi`` matters for PNG (and raster parts of a vector file)."""
    if fmt == "png":
        return to_png(fig, dpi=dpi)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    buffer = io.BytesIO()
    # fixed salt: the ids of clip paths and glyphs are hashes, random per process otherwise
    with rc_context(STYLE | {"svg.fonttype": "none", "svg.hashsalt": "lesde", "pdf.fonttype": 42}):
        if fmt == "svg":
            FigureCanvasSVG(fig).print_svg(buffer, metadata=_SVG_METADATA)
        else:
            FigureCanvasPdf(fig).print_pdf(buffer, metadata=_PDF_METADATA)
    return buffer.getvalue()


def share_axes(first: Figure, second: Figure) -> None:
    """Give each pair of matching axes of two figures drawn by the same function the union of their limits.

    Axes match by position in ``fig.axes``; extra axes (one figure drew a panel the other
    could not) keep their own limits. Log axes take the union too (both are positive there).
    """
    for left, right in zip(_data_axes(first), _data_axes(second)):
        for get, set_ in (("get_xlim", "set_xlim"), ("get_ylim", "set_ylim")):
            lo_a, hi_a = getattr(left, get)()
            lo_b, hi_b = getattr(right, get)()
            inverted = lo_a > hi_a
            lo, hi = min(lo_a, hi_a, lo_b, hi_b), max(lo_a, hi_a, lo_b, hi_b)
            limits = (hi, lo) if inverted else (lo, hi)
            getattr(left, set_)(*limits)
            getattr(right, set_)(*limits)


def _data_axes(fig: Figure) -> list[Axes]:
    """The figure's plotting axes (colour bars and inset legends are axes too, but hold no data to share)."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.has_data()]


def drawn_pair(draw: Callable[[], Figure], draw_other: Callable[[], Figure]) -> Figure:
    """The figure ``draw()`` makes, with its axes shared with the one ``draw_other()`` makes."""
    figure, other = draw(), draw_other()
    share_axes(figure, other)
    return figure

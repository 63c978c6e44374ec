import io

import numpy as np
import pytest
from lesde_analyzer.figures.style import STYLE, add_caption, class_color, finish_axes, new_figure, to_png
from matplotlib import rc_context
from PIL import Image


def _figure():
    """Two panels with what the analyzer's figures hold: lines, a band, mathtext, legends, a caption."""
    fig, axes = new_figure(ncols=2, width=3.0, height=2.5)
    t = np.linspace(0.0, 1000.0, 300)
    for k, ax in enumerate(axes):
        ax.plot(t, np.sqrt(t) * (k + 1), color=class_color(k), label=r"$\hat A(t)$")
        ax.fill_between(t, np.sqrt(t) - 1, np.sqrt(t) + 1, color=class_color(k), alpha=0.2, lw=0)
        finish_axes(ax, xlabel="iteration t", ylabel="estimated integral", title=f"panel {k}")
    add_caption(fig, "where the numbers come from, long enough to wrap onto a second line of the caption under the axes")
    return fig


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)))


def _savefig(fig, dpi):
    buf = io.BytesIO()
    with rc_context(STYLE):
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


@pytest.mark.parametrize("dpi", [None, 80])
def test_to_png_has_the_pixels_of_savefig(dpi):
    png = to_png(_figure(), dpi=dpi)
    assert png.startswith(b"\x89PNG")
    np.testing.assert_array_equal(_pixels(png), _pixels(_savefig(_figure(), dpi)))
    width_px = 6.0 * (STYLE["savefig.dpi"] if dpi is None else dpi)
    assert _pixels(png).shape[1] == round(width_px)


def test_to_png_draws_once_and_leaves_the_figure_as_it_was():
    fig = _figure()
    draws = []
    fig.canvas.mpl_connect("draw_event", draws.append)
    dpi = fig.dpi
    to_png(fig, dpi=90)
    assert len(draws) == 1  # savefig draws a constrained-layout figure twice
    assert fig.dpi == dpi

"""Every experiment figure as SVG and PDF (vector, the PNG's content, the same bytes each time)
and a pair of figures on shared axes (same limits on both)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from lesde_analyzer.figures.experiments import FIGURES, draw
from lesde_analyzer.figures.formats import share_axes, to_format
from matplotlib.figure import Figure


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    from lesde_analyzer.experiments.pipeline import analyse_experiment
    from lesde_contract.specs.analysis import AnalysisOptions
    from lesde_runtime.storage.local import LocalStore

    from tests.fixtures.synthetic import write_synthetic_experiment

    store = LocalStore(tmp_path_factory.mktemp("formats"))
    job_id = write_synthetic_experiment(store, trials=6, iterations=2000, chunk=1000, probe_every=100)
    return analyse_experiment(store, job_id, options=AnalysisOptions())


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_each_figure_is_a_vector_svg_and_pdf_with_the_same_text(analysed, name):
    summary, series = analysed
    svg = to_format(draw(name, summary, series), "svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = " ".join(node.text or "" for node in root.iter() if node.tag.endswith("text"))
    png_axes = draw(name, summary, series).axes
    title = next((ax.get_title() for ax in png_axes if ax.get_title()), None)
    if title:  # the text is text, searchable (svg.fonttype none), not glyph paths
        assert title.split()[0] in texts
    # text stays text (searchable, scalable); only dense point clouds are rasterized on purpose
    assert any(node.tag.endswith("text") for node in root.iter())
    pdf = to_format(draw(name, summary, series), "pdf")
    assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf
    assert to_format(draw(name, summary, series), "svg") == svg and to_format(draw(name, summary, series), "pdf") == pdf


def test_a_pair_on_shared_axes_has_the_same_limits_and_keeps_both_ranges():
    def line(scale: float) -> Figure:
        figure = Figure()
        left, right = figure.subplots(1, 2)
        left.plot(np.arange(10), scale * np.arange(10))
        right.plot(np.arange(5), -scale * np.arange(5))
        return figure

    small, large = line(1.0), line(5.0)
    share_axes(small, large)
    for a, b in zip(small.axes, large.axes):
        assert a.get_ylim() == b.get_ylim() and a.get_xlim() == b.get_xlim()
    assert small.axes[0].get_ylim()[1] >= 45 and small.axes[1].get_ylim()[0] <= -20


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="format must be one of png, svg, pdf"):
        to_format(Figure(), "gif")

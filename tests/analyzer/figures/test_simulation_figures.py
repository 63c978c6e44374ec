"""The simulation figures are matplotlib Figures (PNG, SVG, PDF from one drawing), and the
neural-collapse figure draws an ETF distance below numerical precision as 0, saying why."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from types import SimpleNamespace

import numpy as np
import pytest
from lesde_analyzer.figures.formats import to_format
from lesde_analyzer.figures.simulations import NUMERICAL_ZERO, neural_collapse
from lesde_analyzer.simulations import run_phase_diagram, run_simulation
from lesde_analyzer.simulations.engine import simulate_spec
from lesde_contract.specs.simulation import SimulationSpec
from matplotlib.figure import Figure

BINARY = {"mode": "sde", "model": "I", "classes": 2, "dim": 1, "samples_per_class": 10, "runs": 12, "steps": 200,
          "step": 0.05, "record_every": 20, "sigma": 0.5, "alpha": {"kind": "constant", "value": 1.0},
          "beta": {"kind": "constant", "value": 0.0}, "seed": 1}  # fmt: skip
K2_NOTE = "0 (below 1e-12): for K = 2 two centred class means always form a simplex ETF"


def _notes(fig: Figure) -> list[str]:
    return [text.get_text() for ax in fig.axes for text in ax.texts]


def _etf_data(etf: np.ndarray, classes: int) -> SimpleNamespace:
    """The parts of a SimulationData the neural-collapse figure reads."""
    records, runs = etf.shape
    trajectory = SimpleNamespace(times=np.arange(records, dtype=float), means=np.zeros((records, runs, classes, 1)))
    return SimpleNamespace(trajectory=trajectory, etf=etf)


def test_k2_etf_distance_is_drawn_as_zero_with_the_reason_not_on_an_axis_of_1e_16():
    data = simulate_spec(SimulationSpec.model_validate(BINARY))
    finite = data.etf[np.isfinite(data.etf)]
    assert finite.size and np.all(np.abs(finite) < NUMERICAL_ZERO)  # about 1e-16: rounding error of an exact 0
    fig = neural_collapse(data, title="K = 2")
    (ax,) = fig.axes
    (mean,) = ax.lines
    assert np.all(mean.get_ydata() == 0.0)
    assert K2_NOTE in _notes(fig)
    low, high = ax.get_ylim()
    assert low <= 0.0 < high and high >= 0.5  # a scale on which 0 reads as 0
    to_format(fig, "png")  # laid out and drawn: the offset text is what a 1e-16 scale would show
    assert ax.yaxis.get_offset_text().get_text() == ""
    svg = ET.fromstring(to_format(fig, "svg"))
    assert K2_NOTE in [node.text for node in svg.iter() if node.tag.endswith("text")]


def test_a_tiny_value_of_more_classes_is_below_numerical_precision_and_the_rest_unchanged():
    etf = np.array([[0.5, 0.4], [0.3, 0.2], [3e-15, -2e-15], [1e-12 * 10, 0.05]])
    fig = neural_collapse(_etf_data(etf, classes=3), title="K = 3")
    (mean,) = fig.axes[0].lines
    np.testing.assert_allclose(mean.get_ydata(), [0.45, 0.25, 0.0, (1e-11 + 0.05) / 2])
    assert _notes(fig) == ["0 (below 1e-12): below numerical precision"]


def test_no_note_when_nothing_is_below_precision():
    fig = neural_collapse(_etf_data(np.array([[0.5, 0.4], [0.3, np.nan]]), classes=3), title="K = 3")
    assert _notes(fig) == []
    assert fig.axes[0].get_ylim()[0] == 0.0


def test_simulation_figures_are_drawn_once_and_saved_in_every_format():
    result = run_simulation(BINARY)
    assert set(result.drawn) == {"trajectories", "separable-fraction", "neural-collapse", "integrals"}
    assert all(isinstance(figure, Figure) for figure in result.drawn.values())
    files = result.figure_files()
    for name, by_format in files.items():
        assert set(by_format) == {"png", "svg", "pdf"}, name
        assert by_format["png"] == result.figures[name] and by_format["png"].startswith(b"\x89PNG")
        assert ET.fromstring(by_format["svg"]).tag.endswith("svg")
        assert by_format["pdf"].startswith(b"%PDF-")


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_the_phase_diagram_figure_in_vector_formats(fmt):
    base = {**BINARY, "runs": 6, "steps": 100}
    result = run_phase_diagram({"base": base, "grid": {"kind": "gap", "beta": 0.0, "gaps": [-0.5, 1.0]}})
    data = result.figure_files()["transition"][fmt]
    assert data.startswith(b"%PDF-") if fmt == "pdf" else ET.fromstring(data).tag.endswith("svg")

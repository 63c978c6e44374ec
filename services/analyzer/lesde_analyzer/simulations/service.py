"""Service layer of the simulation endpoints: spec in, typed result (and its JSON) and figures out.

The API/Celery layer calls :func:`run_simulation` and :func:`run_phase_diagram`; both are pure
(seeded by the spec) and raise ``pydantic.ValidationError`` (a ``ValueError``) on bad input.
The results are the contract's :class:`~lesde_contract.analysis_results.SimulationAnalysis` and
:class:`~lesde_contract.analysis_results.PhaseDiagramAnalysis`; ``summary`` is their stored JSON.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from lesde_contract.analysis_results import PhaseDiagramAnalysis, SimulationAnalysis, encode
from lesde_contract.json_safe import json_safe
from lesde_contract.specs.simulation import AlphaBetaPairsGrid, ExponentGrid, GapGrid, PhaseDiagramSpec, SimulationSpec
from matplotlib.figure import Figure

from ..dynamics import Schedule
from ..figures.formats import FORMATS, to_format
from ..figures.simulations import integrals, neural_collapse, separable_fraction, trajectories, transition
from .engine import simulate_spec

__all__ = ["SimulationResult", "run_simulation", "run_phase_diagram"]


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation endpoint returns.

    Attributes
    ----------
    analysis : SimulationAnalysis or PhaseDiagramAnalysis
        The typed result (figures not yet named).
    drawn : dict of str to matplotlib Figure
        Figure name to the drawn figure (:attr:`figures` as PNG, :meth:`figure_files` in every format).
    arrays : dict of str to ndarray
        Raw arrays for downloads (``times`` (R,), ``means`` (R, runs, K, p), ...).
    """

    analysis: SimulationAnalysis | PhaseDiagramAnalysis
    drawn: dict[str, Figure]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    @cached_property
    def figures(self) -> dict[str, bytes]:
        """Figure name to PNG bytes (rendered once)."""
        return {name: to_format(figure, "png") for name, figure in self.drawn.items()}

    def figure_files(self) -> dict[str, dict[str, bytes]]:
        """Figure name to ``{"png", "svg", "pdf": bytes}``: each drawn figure saved in every format."""
        return {
            name: {fmt: self.figures[name] if fmt == "png" else to_format(figure, fmt) for fmt in FORMATS}
            for name, figure in self.drawn.items()
        }

    @property
    def summary(self) -> dict[str, Any]:
        """The result as it is stored: JSON-able, NaN and inf as ``None``."""
        return encode(self.analysis)


def _title(spec: SimulationSpec) -> str:
    return f"{spec.model}-model {spec.mode.upper()}, K={spec.classes}, p={spec.p}"


def run_simulation(spec: SimulationSpec | Mapping[str, Any]) -> SimulationResult:
    """Simulate the LE dynamics of ``spec`` and summarise separability, collapse and estimates.

    Parameters
    ----------
    spec : SimulationSpec or mapping
        A mapping is validated into a :class:`SimulationSpec`.

    Returns
    -------
    SimulationResult
        ``analysis`` (:class:`~lesde_contract.analysis_results.SimulationAnalysis`): ``times`` (R,); ``separable_times`` (S,) and ``separable_fraction``
        (S,), the fraction of runs whose classes are all pairwise linearly separable at those
        records (every record when ``p == 1``, else at most 26 evenly spaced records,
        always including the first and last); ``final_separable_fraction``; ``etf_distance``
        (R,), mean over runs of the ETF distance of the class means; ``A``, ``B`` (R,) true;
        ``A_hat``, ``B_hat`` (R,) estimated with the spec's model from each run's class means
        (median over up to 64 runs); plus ``mode``, ``model``, ``classes``, ``dim``, ``runs``.
        ``figures``: ``trajectories``, ``separable-fraction``, ``neural-collapse``,
        ``integrals``.
    """
    spec = spec if isinstance(spec, SimulationSpec) else SimulationSpec.model_validate(spec)
    data = simulate_spec(spec)
    traj = data.trajectory
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        etf_mean = np.nanmean(data.etf, axis=1)
    frac = data.separable.mean(axis=1)
    sample_times = traj.sample_times
    if sample_times is None:  # simulate_spec always keeps feature snapshots (it raises otherwise)
        raise RuntimeError(f"{spec.mode} simulation recorded no separability times")
    analysis = SimulationAnalysis(
        mode=spec.mode,
        model=spec.model,
        classes=spec.classes,
        dim=spec.p,
        runs=spec.runs,
        times=json_safe(traj.times),
        separable_times=json_safe(sample_times),
        separable_fraction=json_safe(frac),
        final_separable_fraction=json_safe(frac[-1]),
        etf_distance=json_safe(etf_mean),
        A=json_safe(data.A),
        B=json_safe(data.B),
        A_hat=json_safe(data.A_hat),
        B_hat=json_safe(data.B_hat),
    )
    title = _title(spec)
    drawn = {
        "trajectories": trajectories(data, title=title),
        "separable-fraction": separable_fraction(data, title=title),
        "neural-collapse": neural_collapse(data, title=title),
        "integrals": integrals(data, title=title),
    }
    arrays = {
        "times": traj.times,
        "means": traj.means,
        "separable_times": sample_times,
        "separable": data.separable,
        "etf_distance": data.etf,
    }
    return SimulationResult(analysis=analysis, drawn=drawn, arrays=arrays)


def _grid(spec: PhaseDiagramSpec) -> tuple[list[tuple[Schedule, Schedule]], np.ndarray, str, float, list]:
    g = spec.grid
    if isinstance(g, AlphaBetaPairsGrid):
        scheds = [(Schedule.constant(a), Schedule.constant(b)) for a, b in g.pairs]
        return scheds, np.array([a - b for a, b in g.pairs]), "alpha - beta", 0.0, [list(p) for p in g.pairs]
    if isinstance(g, GapGrid):
        scheds = [(Schedule.constant(g.beta + d), Schedule.constant(g.beta)) for d in g.gaps]
        return scheds, np.array(g.gaps, float), "alpha - beta", 0.0, list(g.gaps)
    assert isinstance(g, ExponentGrid)
    scheds = [(Schedule.power(g.scale, r, offset=g.beta), Schedule.constant(g.beta)) for r in g.exponents]
    return scheds, np.array(g.exponents, float), "exponent r of gamma(t) = c (1+t)^-r", 1.0, list(g.exponents)


def run_phase_diagram(spec: PhaseDiagramSpec | Mapping[str, Any]) -> SimulationResult:
    """Separable fraction at the final time across a grid (Theorem 2.1 or 3.1).

    Parameters
    ----------
    spec : PhaseDiagramSpec or mapping

    Returns
    -------
    SimulationResult
        ``analysis`` (:class:`~lesde_contract.analysis_results.PhaseDiagramAnalysis`): ``grid_kind``; ``grid`` (the grid values as given); ``x`` (alpha - beta,
        or the exponent r); ``separable_fraction`` per grid point at ``final_time``;
        ``critical`` (0 for alpha - beta, 1 for r); ``final_time``; ``runs``.
        ``figures``: ``transition``.
    """
    spec = spec if isinstance(spec, PhaseDiagramSpec) else PhaseDiagramSpec.model_validate(spec)
    scheds, x, xlabel, critical, values = _grid(spec)
    base = spec.base
    fractions = np.empty(len(scheds))
    final_time = base.steps * base.step
    for i, (a, b) in enumerate(scheds):
        data = simulate_spec(base, alpha=a, beta=b, final_only=True, estimate=False)
        fractions[i] = data.separable[-1].mean()
    title = f"{_title(base)}, t = {final_time:g}, {base.runs} runs"
    analysis = PhaseDiagramAnalysis(
        grid_kind=spec.grid.kind,
        grid=json_safe(values),
        x=json_safe(x),
        x_label=xlabel,
        separable_fraction=json_safe(fractions),
        critical=critical,
        final_time=final_time,
        runs=base.runs,
    )
    drawn = {"transition": transition(x, fractions, xlabel=xlabel, critical=critical, title=title)}
    return SimulationResult(analysis=analysis, drawn=drawn, arrays={"x": x, "separable_fraction": fractions})

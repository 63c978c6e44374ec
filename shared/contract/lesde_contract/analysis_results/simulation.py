"""The result of a simulation job, as the analyzer stores it: one LE-SDE/LE-ODE run, or a phase diagram.

Times are in the simulation's own time units (``step`` per step), not SGD iterations.
The gateway serves it at ``GET /v1/simulations/{id}/analysis``, adding links.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lesde_contract.analysis_results.common import ResultModel

__all__ = ["SimulationAnalysis", "PhaseDiagramAnalysis"]


class SimulationAnalysis(ResultModel):
    """One simulation: trajectories reduced to separability, collapse and the integrals (true and estimated)."""

    mode: Literal["discrete", "sde", "ode"] = Field(
        description="discrete (the paper's process), sde (Euler-Maruyama) or ode (class means only)."
    )
    model: Literal["I", "L"] = Field(description="The LE model simulated.")
    classes: int = Field(description="Number of classes K.")
    dim: int = Field(description="Dimension p of each sample's state.")
    runs: int = Field(description="Independent runs.")
    times: list[float | None] = Field(description="Recorded times (R,), in simulation time units.")
    separable_times: list[float | None] = Field(description="Times (S,) at which separability was tested (first and last included).")
    separable_fraction: list[float | None] = Field(
        description="Fraction of runs whose classes are all pairwise separable, at separable_times."
    )
    final_separable_fraction: float | None = Field(description="That fraction at the final time.")
    etf_distance: list[float | None] = Field(description="Mean over runs of the ETF distance of the class means, at times.")
    A: list[float | None] = Field(description="True integral of alpha, at times (dimensionless).")
    B: list[float | None] = Field(description="True integral of beta, at times (dimensionless).")
    A_hat: list[float | None] = Field(
        description="A estimated from each run's class means with the spec's model (median over up to 64 runs)."
    )
    B_hat: list[float | None] = Field(description="B estimated the same way.")
    figures: list[str] = Field(default_factory=list, description="Names of the stored figures (absent until they are stored).")


class PhaseDiagramAnalysis(ResultModel):
    """A phase diagram: the separable fraction at the final time across a grid (Theorem 2.1 or 3.1)."""

    grid_kind: Literal["alpha_beta", "gap", "exponent"] = Field(description="The kind of grid.")
    grid: list[list[float] | float] = Field(description="The grid's points as posted: [alpha, beta] pairs, gaps or exponents.")
    x: list[float | None] = Field(description="The plotted coordinate of each point (alpha - beta, or the exponent r).")
    x_label: str = Field(description="What x is.")
    separable_fraction: list[float | None] = Field(description="Fraction of runs separable at the final time, per point.")
    critical: float = Field(description="The theorem's critical value of x (0 for alpha - beta, 1 for r).")
    final_time: float = Field(description="steps x step, in simulation time units.")
    runs: int = Field(description="Runs per point.")
    figures: list[str] = Field(default_factory=list, description="Names of the stored figures (absent until they are stored).")

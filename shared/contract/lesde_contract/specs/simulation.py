"""Specs of the LE-SDE theory simulations (``POST /simulations``, ``POST /phase-diagrams``).

Pydantic only: this module is part of the shared contract and must not import numpy,
scipy or torch.

Schedules (``alpha`` and ``beta``) are a discriminated union on ``kind``:

* ``{"kind": "constant", "value": v}``: ``v``;
* ``{"kind": "power", "scale": c, "exponent": r}``: ``c (1 + t)^-r``;
* ``{"kind": "array", "values": [...]}``: ``values[m]`` on step ``m`` (at least ``steps`` entries).

Cost caps: ``runs * steps * samples_per_class * classes <= MAX_SIMULATION_WORK`` (for a phase
diagram, times the number of grid points, against ``MAX_PHASE_DIAGRAM_WORK``); the value
50,000,000 is roughly 10-30 s of numpy on one core for the SDE (the discrete model costs about
the same per feature update). Memory: ``runs * samples_per_class * classes * dim <=
MAX_STATE_SIZE`` (8 MB per copy of the state) and at most ``MAX_RECORDS`` records.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from lesde_contract.specs.base import StrictSpec

__all__ = [
    "MAX_SIMULATION_WORK",
    "MAX_PHASE_DIAGRAM_WORK",
    "MAX_STATE_SIZE",
    "MAX_RECORDS",
    "MAX_GRID_POINTS",
    "ConstantSchedule",
    "PowerSchedule",
    "ArraySchedule",
    "ScheduleSpec",
    "SimulationSpec",
    "AlphaBetaPairsGrid",
    "GapGrid",
    "ExponentGrid",
    "GridSpec",
    "PhaseDiagramSpec",
]

#: cap on runs * steps * samples_per_class * classes for one simulation
MAX_SIMULATION_WORK = 50_000_000
#: cap on the same product summed over the grid of a phase diagram
MAX_PHASE_DIAGRAM_WORK = 200_000_000
#: cap on runs * samples_per_class * classes * dim (floats in one copy of the state)
MAX_STATE_SIZE = 1_000_000
#: cap on the number of recorded time points (steps // record_every + 1)
MAX_RECORDS = 2_000
#: cap on the number of grid points of a phase diagram
MAX_GRID_POINTS = 64

_COEF = 100.0  # |alpha|, |beta|, |scale| bound


#: Two classes in one dimension under the LE-SDE, separating (alpha - beta = 1 > 0): the API's request example.
EXAMPLE_SIMULATION: JsonDict = {
    "mode": "sde", "model": "I", "classes": 2, "dim": 1, "samples_per_class": 20, "runs": 30, "steps": 400, "step": 0.05,
    "record_every": 20, "sigma": 0.5, "alpha": {"kind": "constant", "value": 1.0}, "beta": {"kind": "constant", "value": 0.0}, "seed": 1,
}  # fmt: skip


class _Strict(StrictSpec):
    model_config = ConfigDict(frozen=True)


class ConstantSchedule(_Strict):
    """``alpha(t) = value``."""

    kind: Literal["constant"] = Field(default="constant", description="Selects this schedule: 'constant'.")
    value: float = Field(ge=-_COEF, le=_COEF, description="The rate at every time.")


class PowerSchedule(_Strict):
    """``alpha(t) = scale * (1 + t)^-exponent``."""

    kind: Literal["power"] = Field(default="power", description="Selects this schedule: 'power'.")
    scale: float = Field(ge=-_COEF, le=_COEF, description="The rate at t = 0.")
    exponent: float = Field(ge=0.0, le=10.0, description="r in scale * (1 + t)^-r (Theorem 3.1: separation needs gamma's r < 1).")


class ArraySchedule(_Strict):
    """``alpha = values[m]`` on step ``m``."""

    kind: Literal["array"] = Field(default="array", description="Selects this schedule: 'array'.")
    values: list[Annotated[float, Field(ge=-_COEF, le=_COEF)]] = Field(
        min_length=1,
        max_length=1_000_000,
        description="The rate on each step, in order; the last value holds for any step beyond the list.",
    )


ScheduleSpec = Annotated[ConstantSchedule | PowerSchedule | ArraySchedule, Field(discriminator="kind")]


class SimulationSpec(_Strict):
    """One LE dynamics simulation (theory run, no network).

    ``dim`` defaults to ``classes`` and must equal it for the L-model.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_SIMULATION]})

    mode: Literal["discrete", "sde", "ode"] = Field(
        default="sde",
        description="discrete: the paper's discrete LE process; sde: the LE-SDE (Euler-Maruyama); ode: the LE-ODE of the class means (no noise, samples do not move apart).",
    )
    model: Literal["I", "L"] = Field(
        default="I",
        description="I: each class moves along its own direction in a p-dimensional space; L: features are the K logits (dim must equal classes).",
    )
    classes: int = Field(default=2, ge=2, le=20, description="Number of classes K.")
    dim: int | None = Field(
        default=None, ge=1, le=64, description="Feature dimension p (default: classes; must equal classes for the L-model)."
    )
    samples_per_class: int = Field(
        default=50, ge=1, le=10_000, description="Samples simulated per class and run (the ode moves class means only)."
    )
    alpha: ScheduleSpec = Field(
        default=ConstantSchedule(value=1.0), description="alpha(t), the within-class elasticity: a constant, power-law or array schedule."
    )
    beta: ScheduleSpec = Field(
        default=ConstantSchedule(value=0.0), description="beta(t), the between-class elasticity: same forms as alpha."
    )
    sigma: float = Field(default=1.0, ge=0.0, le=100.0, description="Noise scale of the sde and discrete modes (ignored by the ode).")
    step: float = Field(default=0.01, gt=0.0, le=10.0, description="Time step h of the integrator.")
    steps: int = Field(default=1_000, ge=1, le=1_000_000, description="Number of steps; the run ends at t = steps * step.")
    runs: int = Field(default=100, ge=1, le=10_000, description="Independent runs (own initial samples and noise).")
    seed: int = Field(
        default=0, ge=0, le=2**63 - 1, description="Seed of the initial samples and the noise: the same spec gives the same result."
    )
    record_every: int = Field(default=10, ge=1, le=1_000_000, description="Keep every n-th step in the trajectories (and the last step).")
    class_weights: list[Annotated[float, Field(gt=0.0, le=1e6)]] | None = Field(
        default=None,
        description="Probability of sampling each class, one positive weight per class, normalised to sum to 1 (default: balanced, 1/K each).",
    )

    @property
    def p(self) -> int:
        """The feature dimension (``dim`` or ``classes``)."""
        return self.dim if self.dim is not None else self.classes

    @property
    def work(self) -> int:
        """``runs * steps * samples_per_class * classes``; the ode moves class means only, so its samples do not count."""
        samples = 1 if self.mode == "ode" else self.samples_per_class
        return self.runs * self.steps * samples * self.classes

    @model_validator(mode="after")
    def _check(self) -> SimulationSpec:
        if self.model == "L" and self.p != self.classes:
            raise ValueError(f"dim: the L-model needs dim == classes = {self.classes}; got {self.dim}")
        if self.record_every > self.steps:
            raise ValueError(f"record_every: must be in [1, steps = {self.steps}]; got {self.record_every}")
        records = self.steps // self.record_every + 1
        if records > MAX_RECORDS:
            raise ValueError(
                f"record_every: steps // record_every + 1 = {records} records exceeds {MAX_RECORDS}; "
                f"use record_every >= {-(-self.steps // (MAX_RECORDS - 1))}"
            )
        for name in ("alpha", "beta"):
            sched = getattr(self, name)
            if isinstance(sched, ArraySchedule) and len(sched.values) < self.steps:
                raise ValueError(f"{name}.values: needs at least steps = {self.steps} entries; got {len(sched.values)}")
        if self.class_weights is not None and len(self.class_weights) != self.classes:
            raise ValueError(f"class_weights: needs classes = {self.classes} entries; got {len(self.class_weights)}")
        state = self.runs * self.samples_per_class * self.classes * self.p
        if state > MAX_STATE_SIZE:
            raise ValueError(
                f"samples_per_class: runs * samples_per_class * classes * dim = {state:,} exceeds "
                f"MAX_STATE_SIZE = {MAX_STATE_SIZE:,}; reduce runs or samples_per_class"
            )
        if self.work > MAX_SIMULATION_WORK:
            raise ValueError(
                f"runs: runs * steps * samples_per_class * classes = {self.work:,} exceeds "
                f"MAX_SIMULATION_WORK = {MAX_SIMULATION_WORK:,}; reduce runs, steps or samples_per_class"
            )
        return self


class AlphaBetaPairsGrid(_Strict):
    """Theorem 2.1 grid: constant ``(alpha, beta)`` pairs."""

    kind: Literal["alpha_beta"] = Field(default="alpha_beta", description="Selects this grid: 'alpha_beta'.")
    pairs: list[tuple[Annotated[float, Field(ge=-_COEF, le=_COEF)], Annotated[float, Field(ge=-_COEF, le=_COEF)]]] = Field(
        min_length=1, max_length=MAX_GRID_POINTS, description="(alpha, beta) of each grid point, constant in time."
    )


class GapGrid(_Strict):
    """Theorem 2.1 grid: ``alpha = beta + gap`` for each gap, ``beta`` fixed."""

    kind: Literal["gap"] = Field(default="gap", description="Selects this grid: 'gap'.")
    beta: float = Field(default=0.0, ge=-_COEF, le=_COEF, description="The constant beta of every grid point.")
    gaps: list[Annotated[float, Field(ge=-_COEF, le=_COEF)]] = Field(
        min_length=1,
        max_length=MAX_GRID_POINTS,
        description="alpha - beta at each grid point (Theorem 2.1: separation when the gap is positive).",
    )


class ExponentGrid(_Strict):
    """Theorem 3.1 grid: ``gamma(t) = alpha - beta = scale (1 + t)^-r`` for each exponent ``r``.

    ``beta`` is the constant ``beta`` (default 0) and ``alpha(t) = beta + scale (1 + t)^-r``.
    """

    kind: Literal["exponent"] = Field(default="exponent", description="Selects this grid: 'exponent'.")
    scale: float = Field(default=1.0, gt=0.0, le=_COEF, description="gamma(0) = scale at every grid point.")
    beta: float = Field(default=0.0, ge=-_COEF, le=_COEF, description="The constant beta of every grid point.")
    exponents: list[Annotated[float, Field(ge=0.0, le=10.0)]] = Field(
        min_length=1, max_length=MAX_GRID_POINTS, description="r at each grid point; Theorem 3.1 predicts separation for r < 1."
    )


GridSpec = Annotated[AlphaBetaPairsGrid | GapGrid | ExponentGrid, Field(discriminator="kind")]


class PhaseDiagramSpec(_Strict):
    """A grid of simulations sharing ``base`` (whose ``alpha``/``beta`` the grid overrides)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"base": {**EXAMPLE_SIMULATION, "runs": 20}, "grid": {"kind": "gap", "beta": 0.0, "gaps": [-0.5, 0.0, 0.5, 1.0]}}]
        }
    )

    base: SimulationSpec = Field(
        default=SimulationSpec(), description="The simulation run at every grid point (its alpha and beta are replaced by the grid's)."
    )
    grid: GridSpec = Field(description="The grid: constant (alpha, beta) pairs, alpha - beta gaps, or gamma exponents.")

    @property
    def size(self) -> int:
        """Number of grid points."""
        g = self.grid
        return len(g.pairs) if isinstance(g, AlphaBetaPairsGrid) else len(g.gaps) if isinstance(g, GapGrid) else len(g.exponents)

    @model_validator(mode="after")
    def _check(self) -> PhaseDiagramSpec:
        total = self.base.work * self.size
        if total > MAX_PHASE_DIAGRAM_WORK:
            raise ValueError(
                f"grid: {self.size} grid points x base work {self.base.work:,} = {total:,} exceeds "
                f"MAX_PHASE_DIAGRAM_WORK = {MAX_PHASE_DIAGRAM_WORK:,}"
            )
        return self

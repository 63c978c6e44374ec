"""What a simulation costs, charged before it is queued, against this deployment's caps.

The unit is one update of one feature coordinate of one point in one step:

- ``sde`` and ``discrete`` move every sample: runs x steps x classes x samples_per_class x dim;
- ``ode`` moves the class means only (its samples are the start ensemble shifted by the means
  at the recorded times): runs x steps x classes x dim, whatever ``samples_per_class``.

A phase diagram costs its base simulation's cost times its grid points. The caps are
``LESDE_MAX_SIMULATION_WORK`` and ``LESDE_MAX_PHASE_DIAGRAM_WORK``; the spec's own fixed
bounds (:mod:`lesde_contract.specs.simulation`) hold as well.
"""

from __future__ import annotations

from lesde_contract.specs import WorkCapExceeded
from lesde_contract.specs.simulation import PhaseDiagramSpec, SimulationSpec
from lesde_runtime.settings import LimitSettings


def points_moved(spec: SimulationSpec) -> int:
    """Points each step moves in one run: the samples, or the class means for the ode."""
    return spec.classes if spec.mode == "ode" else spec.classes * spec.samples_per_class


def simulation_cost(spec: SimulationSpec) -> int:
    """Feature-coordinate updates of the whole simulation."""
    return spec.runs * spec.steps * points_moved(spec) * spec.p


def check_simulation_cost(spec: SimulationSpec, limits: LimitSettings, *, prefix: str = "") -> None:
    """:class:`WorkCapExceeded` naming ``runs`` (with the runs that fit) when the cost is over the cap."""
    cost, cap = simulation_cost(spec), limits.max_simulation_work
    if cost <= cap:
        return
    per_run = cost // spec.runs
    fitting = cap // per_run
    allowed = f"runs from 1 to {fitting:,} with the other fields as given" if fitting else "lower steps, dim or classes"
    samples = "" if spec.mode == "ode" else " x samples_per_class"
    raise WorkCapExceeded(
        f"{prefix}runs",
        f"this simulation costs {cost:,} feature updates (runs x steps x classes{samples} x dim, mode {spec.mode}), over this "
        f"deployment's cap of {cap:,} (LESDE_MAX_SIMULATION_WORK); allowed range: {allowed}",
        requested=cost,
        cap=cap,
    )


def check_phase_diagram_cost(spec: PhaseDiagramSpec, limits: LimitSettings) -> None:
    """The base simulation against its cap, then the whole grid against the phase-diagram cap (naming ``grid``)."""
    check_simulation_cost(spec.base, limits, prefix="base.")
    base, cap = simulation_cost(spec.base), limits.max_phase_diagram_work
    total = base * spec.size
    if total <= cap:
        return
    raise WorkCapExceeded(
        "grid",
        f"this phase diagram costs {total:,} feature updates ({spec.size} grid points x {base:,} each), over this "
        f"deployment's cap of {cap:,} (LESDE_MAX_PHASE_DIAGRAM_WORK); allowed range: 1 to {max(cap // base, 0):,} grid points "
        "with this base",
        requested=total,
        cap=cap,
    )

"""The simulations product: a spec'd LE-SDE/LE-ODE simulation or phase diagram, reduced to
a JSON summary and figures (``engine``: simulate and reduce; ``service``: summary and
figures; ``job``: the stored job the worker runs)."""

from .engine import SimulationData, simulate_spec
from .service import SimulationResult, run_phase_diagram, run_simulation

__all__ = ["SimulationResult", "run_simulation", "run_phase_diagram", "SimulationData", "simulate_spec"]

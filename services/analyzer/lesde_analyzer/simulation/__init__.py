"""Service layer of the simulation endpoints (routes and Celery tasks are wired elsewhere)."""

from .engine import SimulationData, simulate_spec
from .schedules import schedule_from_spec
from .service import SimulationResult, run_phase_diagram, run_simulation

__all__ = ["SimulationResult", "run_simulation", "run_phase_diagram", "SimulationData", "simulate_spec", "schedule_from_spec"]

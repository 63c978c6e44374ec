"""Simulators and closed forms of the LE-SDE / LE-ODE (any K, any p, many runs)."""

from .closed_form import (
    binary_solution,
    i_model_solution,
    l_model_coordinates,
    l_model_solution,
    l_model_y_solution,
)
from .interaction import (
    class_transforms,
    drift,
    drift_matrix,
    effect_matrix,
    mixing_matrix,
    normalise_weights,
    simplex_directions,
)
from .schedules import Schedule, as_schedule
from .simulators import (
    Trajectory,
    initial_samples,
    record_steps,
    simulate_discrete,
    simulate_ode,
    simulate_sde,
)

__all__ = [
    "Schedule",
    "as_schedule",
    "Trajectory",
    "initial_samples",
    "record_steps",
    "simulate_discrete",
    "simulate_sde",
    "simulate_ode",
    "i_model_solution",
    "binary_solution",
    "l_model_coordinates",
    "l_model_y_solution",
    "l_model_solution",
    "class_transforms",
    "drift",
    "drift_matrix",
    "effect_matrix",
    "mixing_matrix",
    "normalise_weights",
    "simplex_directions",
]

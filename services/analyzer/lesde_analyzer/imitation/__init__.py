"""LE-ODE imitation of genuine dynamics (Figure 5)."""

from .ensemble import EnsembleStats, initial_states, le_ode_ensemble, naive_le_ode_loop
from .leode import Imitation, imitate, imitate_from_means

__all__ = [
    "EnsembleStats",
    "initial_states",
    "le_ode_ensemble",
    "naive_le_ode_loop",
    "Imitation",
    "imitate",
    "imitate_from_means",
]

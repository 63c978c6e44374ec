"""LE-ODE imitation of genuine dynamics (Figure 5).

:func:`imitate` / :func:`imitate_from_means` run the exact LE-ODE from the genuine start;
:func:`imitate_authors` is the authors' (ill-posed) procedure, kept for their figure.
"""

from .ensemble import EnsembleStats, initial_states, le_ode_ensemble, naive_le_ode_loop
from .exact import exact_moments, exact_runs, naive_exact_loop, phi1, transport_to
from .leode import AUTHORS, EXACT, Imitation, default_window, imitate, imitate_authors, imitate_from_means
from .metrics import nrmse, orthogonal_share, same_order
from .onset import Onset, signal_onset

__all__ = [
    "EnsembleStats",
    "initial_states",
    "le_ode_ensemble",
    "naive_le_ode_loop",
    "exact_moments",
    "exact_runs",
    "naive_exact_loop",
    "phi1",
    "transport_to",
    "Onset",
    "signal_onset",
    "Imitation",
    "EXACT",
    "AUTHORS",
    "default_window",
    "imitate",
    "imitate_authors",
    "imitate_from_means",
    "nrmse",
    "orthogonal_share",
    "same_order",
]

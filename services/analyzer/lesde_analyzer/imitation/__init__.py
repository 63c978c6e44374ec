"""LE-ODE imitation of genuine dynamics (Figure 5).

:func:`imitate` / :func:`imitate_from_means` run the exact LE-ODE from the genuine start;
:func:`imitate_authors` is the authors' (ill-posed) procedure, kept for their figure.
"""

from .ensemble import EnsembleStats, initial_states, le_ode_ensemble
from .exact import exact_moments, exact_runs, phi1, transport_to
from .fit_quality import nrmse, orthogonal_share, same_order
from .leode import AUTHORS, EXACT, Imitation, default_window, imitate, imitate_authors, imitate_from_means
from .onset import Onset, signal_onset

# The per-step reference loops the fast paths are tested and benchmarked against
# (tests/analyzer/imitation, bench/leode.py import them from here): importable, not API.
from .ensemble import naive_le_ode_loop as naive_le_ode_loop  # isort: skip
from .exact import naive_exact_loop as naive_exact_loop  # isort: skip

__all__ = [
    "EnsembleStats",
    "initial_states",
    "le_ode_ensemble",
    "exact_moments",
    "exact_runs",
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

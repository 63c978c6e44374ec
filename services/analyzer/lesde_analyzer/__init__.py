"""lesde_analyzer: the LE-SDE math (simulators, estimators, geometry, LE-ODE imitation),
the simulation service layer and figures.

Subpackages: ``dynamics``, ``estimation``, ``geometry``, ``imitation``, ``simulation``,
``figures``. Domain errors are :class:`lesde_analyzer.errors.InvalidArgument` (a ``ValueError``).
"""

from .errors import InvalidArgument

__all__ = ["InvalidArgument"]

"""lesde_analyzer: the LE-SDE math and the analyzer's products.

Math (pure, arrays in and out): ``dynamics``, ``estimation``, ``geometry``, ``imitation``.
Products, one package each with its reading, computation, summary and job:
``experiments`` (a stored experiment's analysis) and ``simulations``. ``figures``: the
one style and one module of figures per product. ``tasks``: thin Celery wrappers.
Domain errors are :class:`lesde_analyzer.errors.InvalidArgument` (a ``ValueError``).
"""

from .errors import InvalidArgument

__all__ = ["InvalidArgument"]

"""Numbers to valid JSON: NaN and infinities become ``null``.

Results carry NaN where a quantity is undefined (a class no trial trained on, an estimate
that did not converge); JSON has no NaN, and ``json.dumps`` would write a token that
strict parsers reject, so every service converts with these before storing or answering.
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import numpy as np


def finite_or_none(value: SupportsFloat) -> float | None:
    """``float(value)``, or None when it is NaN or infinite."""
    number = float(value)
    return number if math.isfinite(number) else None


def finite_lists(array: np.ndarray, *, decimals: int = 8) -> list:
    """Nested lists of floats rounded to ``decimals``, NaN/inf as None (any shape; a 0-d array gives a scalar)."""
    a = np.asarray(array, dtype=np.float64).round(decimals)
    return np.where(np.isfinite(a), a, np.array(None)).tolist()  # an object array: floats, and None where not finite


def json_safe(value: Any) -> Any:
    """Numpy scalars and arrays, lists and tuples (nested) to plain JSON values, keeping ints and
    bools; non-finite floats to None. Anything else is returned as it is."""
    if isinstance(value, np.ndarray):
        return [json_safe(item) for item in value.tolist()] if value.ndim else json_safe(value.item())
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return finite_or_none(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value

"""Argument checks shared by the public entry points (validate once, at the edge)."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from .errors import InvalidArgument

__all__ = ["as_float_array", "check_int", "check_real", "check_choice"]

Choice = TypeVar("Choice", bound=str)


def as_float_array(
    value: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    min_ndim: int | None = None,
    finite: bool = True,
) -> np.ndarray:
    """Return ``value`` as a float64 ndarray or raise :class:`InvalidArgument` naming ``name``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(name, f"must be a real numeric array ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise InvalidArgument(name, f"must have {' or '.join(map(str, allowed))} dimensions; got shape {arr.shape}")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise InvalidArgument(name, f"must have at least {min_ndim} dimensions; got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise InvalidArgument(name, "must contain only finite values")
    return arr


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as int within ``[low, high]`` or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidArgument(name, f"must be an integer in [{low}, {high}]; got {value!r}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise InvalidArgument(name, f"must be an integer in [{low}, {high if high is not None else 'inf'}]; got {v}")
    return v


def check_real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """Return ``value`` as a finite float within bounds or raise naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(name, f"must be a real number; got {value!r}") from None
    if not np.isfinite(v):
        raise InvalidArgument(name, f"must be finite; got {v}")
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and v > high
    if lo_bad or hi_bad:
        lb = "(" if low_open else "["
        raise InvalidArgument(name, f"must be in {lb}{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]; got {v}")
    return v


def check_choice(value: Any, name: str, choices: tuple[Choice, ...]) -> Choice:
    """Return ``value`` if it is one of ``choices`` or raise naming ``name``."""
    if value not in choices:
        raise InvalidArgument(name, f"must be one of {choices}; got {value!r}")
    return value

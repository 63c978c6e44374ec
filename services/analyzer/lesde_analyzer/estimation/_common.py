"""Input checks shared by the estimators."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_choice
from ..errors import InvalidArgument


def check_means(xbar: ArrayLike, *, model: str | None = None, finite: bool = False) -> np.ndarray:
    """Class means of shape (T, K, p) with ``T >= 2``, ``K >= 2`` (``p == K`` for the L-model)."""
    x = as_float_array(xbar, "xbar", ndim=3, finite=finite)
    T, K, p = x.shape
    if T < 2 or K < 2 or p < 1:
        raise InvalidArgument("xbar", f"must have shape (T >= 2, K >= 2, p >= 1); got {x.shape}")
    if model is not None:
        check_choice(model, "model", ("I", "L"))
        if model == "L" and p != K:
            raise InvalidArgument("xbar", f"the L-model needs logits, shape (T, K, K); got {x.shape}")
    return x


def check_series(values: ArrayLike, name: str, T: int | None = None, *, finite: bool = False) -> np.ndarray:
    """A 1-D series of shape (T,)."""
    v = as_float_array(values, name, ndim=1, finite=finite)
    if T is not None and v.size != T:
        raise InvalidArgument(name, f"must have shape ({T},); got {v.shape}")
    return v

"""Time-dependent elasticity strengths alpha(t), beta(t) and their exact integrals.

A :class:`Schedule` is one of three kinds:

* ``Schedule.constant(v)``: ``v``;
* ``Schedule.power(c, r)``: ``c (1 + t)^(-r)`` (plus an optional constant ``offset``);
* ``Schedule.array(values, step=h)``: piecewise constant, ``values[m]`` on ``[m h, (m+1) h)``;
  past the last entry the last value is held.

Evaluation ``s(t)`` and the exact integral ``s.integral(t) = int_0^t s(tau) dtau`` are
vectorised over ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_real
from ..errors import InvalidArgument

__all__ = ["Schedule", "as_schedule"]

Kind = Literal["constant", "power", "array"]


@dataclass(frozen=True)
class Schedule:
    """A scalar function of time with an exact antiderivative (see module docstring).

    Build with :meth:`constant`, :meth:`power` or :meth:`array`, not directly.

    Examples
    --------
    ``int_0^1 (1 + t)^(-1) dt = log 2``; a piecewise constant schedule integrates step by step:

    >>> s = Schedule.power(1.0, 1.0)
    >>> round(float(s.integral(1.0)), 6), round(float(np.log(2)), 6)
    (0.693147, 0.693147)
    >>> Schedule.array([1.0, 3.0], step=0.5).integral([0.5, 1.0, 2.0])
    array([0.5, 2. , 5. ])
    """

    kind: Kind
    value: float = 0.0
    scale: float = 0.0
    exponent: float = 0.0
    offset: float = 0.0
    step: float = 1.0
    values: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    _cumulative: np.ndarray = field(default_factory=lambda: np.zeros(1), repr=False)

    # ---------------------------------------------------------------- builders
    @classmethod
    def constant(cls, value: float) -> Schedule:
        """``s(t) = value``."""
        return cls(kind="constant", value=check_real(value, "value"))

    @classmethod
    def power(cls, scale: float, exponent: float, *, offset: float = 0.0) -> Schedule:
        """``s(t) = offset + scale * (1 + t)**(-exponent)`` (``exponent >= 0``)."""
        return cls(
            kind="power",
            scale=check_real(scale, "scale"),
            exponent=check_real(exponent, "exponent", low=0.0),
            offset=check_real(offset, "offset"),
        )

    @classmethod
    def array(cls, values: ArrayLike, *, step: float = 1.0) -> Schedule:
        """Piecewise constant: ``values[m]`` on ``[m*step, (m+1)*step)``.

        Parameters
        ----------
        values : array_like of shape (M,)
            One value per step, ``M >= 1``; the last value is held after ``M*step``.
        step : float
            Step length ``h > 0``.
        """
        v = as_float_array(values, "values", ndim=1)
        if v.size == 0:
            raise InvalidArgument("values", "must hold at least one entry")
        h = check_real(step, "step", low=0.0, low_open=True)
        cum = np.concatenate(([0.0], np.cumsum(v) * h))
        v.setflags(write=False)
        cum.setflags(write=False)
        return cls(kind="array", values=v, step=h, _cumulative=cum)

    # ---------------------------------------------------------------- evaluation
    def __call__(self, t: ArrayLike) -> np.ndarray:
        """Evaluate at times ``t`` (array_like of any shape, ``t >= 0``); same shape out."""
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "constant":
            return np.full(t.shape, self.value)
        if self.kind == "power":
            return self.offset + self.scale * (1.0 + t) ** (-self.exponent)
        return self.values[self._index(t)]

    def at_steps(self, m: ArrayLike, step: float) -> np.ndarray:
        """Values at the left end of steps ``m`` (ints) of length ``step``: ``s(m*step)``.

        For an array schedule built with the same ``step`` this is exactly ``values[m]``.
        """
        m = np.asarray(m)
        if self.kind == "array" and step == self.step:
            return self.values[np.minimum(m, self.values.size - 1)]
        return self(m * step)

    def integral(self, t: ArrayLike) -> np.ndarray:
        """Exact ``int_0^t s(tau) dtau`` at times ``t`` (array_like, ``t >= 0``)."""
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "constant":
            return self.value * t
        if self.kind == "power":
            r = self.exponent
            if abs(r - 1.0) < 1e-12:
                part = np.log1p(t)
            else:
                part = np.expm1((1.0 - r) * np.log1p(t)) / (1.0 - r)
            return self.offset * t + self.scale * part
        idx = self._index(t)
        return self._cumulative[idx] + (t - idx * self.step) * self.values[idx]

    def _index(self, t: np.ndarray) -> np.ndarray:
        # a tiny relative tolerance so that t = m*h computed in floating point maps to m
        raw = np.floor(t / self.step * (1.0 + 1e-12) + 1e-9).astype(np.int64)
        return np.clip(raw, 0, self.values.size - 1)


def as_schedule(value: Schedule | float, name: str) -> Schedule:
    """Accept a :class:`Schedule` or a real number (a constant schedule).

    Examples
    --------
    >>> s = as_schedule(2.0, "alpha")
    >>> s.kind, s(0.0).item(), s.integral([0.0, 1.5])
    ('constant', 2.0, array([0., 3.]))
    """
    if isinstance(value, Schedule):
        return value
    try:
        return Schedule.constant(float(value))
    except (TypeError, ValueError, InvalidArgument):
        raise InvalidArgument(name, f"must be a Schedule or a real number; got {value!r}") from None

"""Conversion of the shared schedule specs into :class:`~lesde_analyzer.dynamics.Schedule`."""

from __future__ import annotations

from lesde.specs.simulation import ArraySchedule, ConstantSchedule, PowerSchedule

from ..dynamics import Schedule

__all__ = ["schedule_from_spec"]


def schedule_from_spec(spec: ConstantSchedule | PowerSchedule | ArraySchedule, *, step: float) -> Schedule:
    """The :class:`Schedule` described by a spec (array values are per step of length ``step``)."""
    if isinstance(spec, ConstantSchedule):
        return Schedule.constant(spec.value)
    if isinstance(spec, PowerSchedule):
        return Schedule.power(spec.scale, spec.exponent)
    return Schedule.array(spec.values, step=step)

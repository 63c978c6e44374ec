"""The dashboard's simulation form, its fields and bounds read from :class:`SimulationSpec`.

The form's ``min``/``max`` attributes come from the spec's own constraints, so the browser
stops an out-of-range value before it is sent and stays true when a bound changes; the
gateway still checks every value (422 naming the field and the range). ``alpha`` and
``beta`` are offered as constants only (the JSON API takes power and array schedules too).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from lesde_contract.specs.simulation import ConstantSchedule, SimulationSpec
from pydantic.fields import FieldInfo

#: form fields in display order, each with its label
LABELS = {
    "mode": "mode",
    "model": "model",
    "classes": "classes K",
    "samples_per_class": "samples per class",
    "alpha": "alpha (constant)",
    "beta": "beta (constant)",
    "sigma": "sigma (noise)",
    "step": "step size",
    "steps": "steps",
    "runs": "runs",
    "record_every": "record every (steps)",
    "seed": "seed",
}
SCHEDULES = ("alpha", "beta")  # sent as {"kind": "constant", "value": ...}


@dataclass(frozen=True)
class FormField:
    """One input: a ``select`` of ``choices`` or a ``number`` within ``[minimum, maximum]``."""

    name: str
    label: str
    default: object
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    schedule: bool = False  # the value is a constant schedule's

    @property
    def step(self) -> str:
        """The HTML ``step`` attribute: whole numbers, or any decimal."""
        return "1" if self.integer else "any"


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    """``(lower, upper)`` from the field's constraints (a strict bound is given as is: the server refuses the edge)."""
    lower = upper = None
    for rule in info.metadata:  # annotated_types' Ge, Gt, Le, Lt, read by their attribute
        lower = next((getattr(rule, name) for name in ("ge", "gt") if hasattr(rule, name)), lower)
        upper = next((getattr(rule, name) for name in ("le", "lt") if hasattr(rule, name)), upper)
    return lower, upper


def _field(name: str, label: str) -> FormField:
    if name in SCHEDULES:
        default = getattr(SimulationSpec.model_fields[name].default, "value", 0.0)
        lower, upper = _bounds(ConstantSchedule.model_fields["value"])
        return FormField(name, label, default, minimum=lower, maximum=upper, schedule=True)
    info = SimulationSpec.model_fields[name]
    if typing.get_origin(info.annotation) is typing.Literal:
        return FormField(name, label, info.default, choices=tuple(typing.get_args(info.annotation)))
    lower, upper = _bounds(info)
    return FormField(name, label, info.default, minimum=lower, maximum=upper, integer=info.annotation is int)


def simulation_fields() -> list[FormField]:
    """Every field of the form, in display order."""
    return [_field(name, label) for name, label in LABELS.items()]

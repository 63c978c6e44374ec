"""The base of every spec model: unknown fields refused, and no boolean taken for a number.

Pydantic's lax mode reads ``true`` as 1 for an int or float field; in a spec that is
always a mistake (``"seed": false``, ``"learning_rate": true``), so such a value is a 422
naming the field, like any other bad value. Booleans stay valid where a field allows them.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

__all__ = ["StrictSpec"]

_NUMBERS = (int, float)


def _bare(annotation: Any) -> Any:
    """``Annotated[T, ...]`` -> ``T``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _bool_where_number(annotation: Any, value: Any) -> bool:
    """Whether ``value`` holds a boolean where ``annotation`` allows only numbers (in lists and tuples too)."""
    annotation = _bare(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = [_bare(option) for option in typing.get_args(annotation) if option is not type(None)]
        if isinstance(value, bool):
            takes_bool = any(option in (bool, Any) or typing.get_origin(option) is typing.Literal for option in options)
            return not takes_bool and any(option in _NUMBERS for option in options)
        return any(_bool_where_number(option, value) for option in options)
    if origin in (list, tuple) and isinstance(value, list | tuple):
        args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
        if origin is tuple and len(args) == len(value):
            return any(_bool_where_number(arg, item) for arg, item in zip(args, value))
        return bool(args) and any(_bool_where_number(args[0], item) for item in value)
    return isinstance(value, bool) and annotation in _NUMBERS


class StrictSpec(BaseModel):
    """A spec model: ``extra="forbid"``, and a boolean never stands for a number."""

    model_config = ConfigDict(extra="forbid")

    # A model validator, not a field validator on "*": pydantic refuses 'before' validators on
    # the discriminator fields ('kind') of the schedule and grid unions.
    @model_validator(mode="before")
    @classmethod
    def _no_boolean_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            wrong = [
                InitErrorDetails(type=PydanticCustomError("bool_number", "must be a number, not true or false"), loc=(name,), input=value)
                for name, value in data.items()
                if name in cls.model_fields and _bool_where_number(cls.model_fields[name].annotation, value)
            ]
            if wrong:  # raised from a validator, pydantic prefixes each loc with the path to this model
                raise ValidationError.from_exception_data(cls.__name__, wrong)
        return data

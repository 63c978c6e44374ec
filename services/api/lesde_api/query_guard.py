"""422 for a query parameter the route does not take, or a non-finite float in one.

FastAPI ignores query parameters nobody declared, so a typo (``?max_point=10``) silently
means the default. This app-wide dependency compares the request's parameters with those
the matched route declares (its own and its dependencies', by alias) and names each
stranger, with the route's allowed names. ``nan`` and ``inf`` given to a float parameter
are refused here too, naming the parameter (a bounded float would only say "less than").
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from lesde_api.finite_json import NOT_FINITE


@dataclass(frozen=True)
class DeclaredQuery:
    names: frozenset[str]
    floats: frozenset[str]  # names whose type is a float (or an optional float)


def _takes_float(annotation: object) -> bool:
    if annotation is float:
        return True
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return any(_takes_float(argument) for argument in typing.get_args(annotation))
    return False


def declared_query(route: APIRoute) -> DeclaredQuery:
    """Every query parameter ``route`` and its dependencies declare (a walk of a few dozen
    fields, done only for requests that carry a query string)."""
    names, floats = set(), set()
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        for field in dependant.query_params:
            names.add(field.alias)
            if _takes_float(field.field_info.annotation):
                floats.add(field.alias)
        pending.extend(dependant.dependencies)
    return DeclaredQuery(frozenset(names), frozenset(floats))


def _non_finite(text: str) -> bool:
    try:
        return not math.isfinite(float(text))
    except ValueError:
        return False  # not a number at all: the parameter's own validation names it


def reject_unknown_query(request: Request) -> None:
    """App-wide dependency: 422 naming every undeclared query parameter and every non-finite float one."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    declared = declared_query(route)
    allowed = ", ".join(sorted(declared.names)) or "none"
    errors = []
    for name in dict.fromkeys(request.query_params.keys()):
        if name not in declared.names:
            errors.append(
                {"loc": ("query", name), "msg": f"unknown query parameter; this route takes: {allowed}", "type": "extra_forbidden"}
            )
        elif name in declared.floats and any(_non_finite(value) for value in request.query_params.getlist(name)):
            errors.append({"loc": ("query", name), "msg": NOT_FINITE, "type": "finite_number"})
    if errors:
        raise RequestValidationError(errors)

"""The OpenAPI schema as FastAPI builds it, with the one correction it needs to state the truth.

Pydantic's discriminated unions (a simulation's ``alpha``/``beta`` schedules, a phase
diagram's ``grid``) pick the member by its ``kind``, so ``kind`` must be sent; but each
member's ``kind`` has a default (``Literal["constant"] = "constant"``), so the generated
schema leaves it out of ``required`` and a client (or schemathesis) that omits it gets a
422 the schema did not announce. :func:`require_discriminators` adds every discriminator's
property to the ``required`` list of each member its mapping names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

REF_PREFIX = "#/components/schemas/"


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``node``, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def require_discriminators(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each discriminator's property required in the members it maps (in place)."""
    components = schema.get("components", {}).get("schemas", {})
    for node in list(_walk(schema)):
        discriminator = node.get("discriminator")
        if not isinstance(discriminator, dict) or "propertyName" not in discriminator:
            continue
        name = discriminator["propertyName"]
        for ref in discriminator.get("mapping", {}).values():
            member = components.get(ref.removeprefix(REF_PREFIX)) if ref.startswith(REF_PREFIX) else None
            if member is not None and name not in member.setdefault("required", []):
                member["required"].append(name)
    return schema


def install_schema_corrections(app: FastAPI) -> None:
    """Make ``app.openapi()`` (and so ``/openapi.json``) return the corrected schema, built once."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def corrected() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = require_discriminators(build())
        return app.openapi_schema

    app.openapi = corrected  # type: ignore[method-assign]  # FastAPI's documented way to replace the schema; its class declares a method

"""The error answers the OpenAPI schema documents on every route, and the Bearer scheme.

Every ``/v1`` route can answer each of these (an id that is missing or another owner's, a
job in the wrong state, a body over its cap, refused input, the owner's quota, a store or
broker that is down), always with :class:`~lesde_api.models.errors.ErrorBody`. 401 and the
security scheme are documented only where keys are configured: a gateway without keys
answers no 401 and its schema says so.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from fastapi.security import HTTPBearer

from lesde_api.models.errors import ErrorBody

_WHY = {
    400: "The body could not be read at all (not UTF-8 JSON, or a form that does not parse).",
    401: "No API key, or not a valid one (the server has keys). `WWW-Authenticate` says which.",
    404: "No such job, sub-resource or route; another owner's job answers the same.",
    409: "The job (or its analysis) is in a state that does not allow this yet, or any more.",
    413: "The request body is over this deployment's cap (LESDE_MAX_JSON_BODY_BYTES, or LESDE_MAX_IMPORT_BYTES for uploads).",
    422: "Refused input: each problem names its field and the allowed range.",
    429: "The owner has too many unfinished jobs; `Retry-After` says when to try again.",
    503: "The store or the broker is unreachable; `Retry-After` says when to try again.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "string"}}}
_HEADERS = {429: _RETRY_AFTER, 503: _RETRY_AFTER}


def error_responses(*, keys_configured: bool, extra: dict[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a ``/v1`` router: each status with :class:`ErrorBody`; ``extra`` adds statuses."""
    reasons = {status: why for status, why in _WHY.items() if keys_configured or status != 401} | (extra or {})
    answers: dict[int | str, dict[str, Any]] = {}
    for status, why in sorted(reasons.items()):
        answers[status] = {"model": ErrorBody, "description": why}
        if status in _HEADERS:
            answers[status]["headers"] = _HEADERS[status]
    return answers


# The scheme only documents: ApiKeyAuth (an ASGI middleware) checks the key before the route runs.
bearer_scheme = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>` (`lesde keys add OWNER`).")


def bearer_dependencies(*, keys_configured: bool) -> list[Any]:
    """The router dependencies that declare the Bearer scheme in the schema (none without keys)."""
    return [Depends(bearer_scheme)] if keys_configured else []

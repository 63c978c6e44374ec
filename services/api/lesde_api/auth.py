"""Who is calling: ``Authorization: Bearer <key>`` on every ``/v1`` route, before anything else.

An ASGI middleware rather than a FastAPI dependency: FastAPI reads a request's body before
it solves dependencies, so a dependency would let a caller without a key upload a whole
body before hearing 401. The caller is left in the request's state (:func:`caller_of`).

With no keys configured (:class:`~lesde_api.api_keys.KeyRing` ``configured`` false) the
gateway is open: every caller is ``LESDE_DEFAULT_OWNER`` and ownership is not enforced,
as before keys existed (the bind rule keeps such a gateway on loopback).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from lesde_api.api_keys import KeyRing
from lesde_api.models.errors import error_body

PROTECTED_PREFIX = "/v1"


@dataclass(frozen=True)
class Caller:
    owner: str
    enforced: bool  # whether ownership rules apply (keys are configured)


def caller_of(request: Request) -> Caller:
    """The caller :class:`ApiKeyAuth` identified; every ``/v1`` route has one."""
    caller = request.scope.get("state", {}).get("caller")
    if not isinstance(caller, Caller):  # a route outside /v1 asked: a programming error, never anonymous access
        raise RuntimeError(f"no authenticated caller for {request.url.path}: only /v1 routes have one")
    return caller


def _protected(path: str) -> bool:
    return path == PROTECTED_PREFIX or path.startswith(PROTECTED_PREFIX + "/")


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def unauthorized(missing: bool) -> JSONResponse:
    """401 in the project's one error shape, with the challenge RFC 6750 asks for."""
    if missing:
        detail, challenge = "an API key is required: send Authorization: Bearer <key>", 'Bearer realm="lesde"'
    else:
        detail, challenge = "the API key is not valid", 'Bearer realm="lesde", error="invalid_token"'
    return JSONResponse(status_code=401, content=error_body(detail), headers={"WWW-Authenticate": challenge})


class ApiKeyAuth:
    """Identify the caller of every ``/v1`` request (401 without a valid key when keys are configured)."""

    def __init__(self, app: ASGIApp, *, keyring: KeyRing, default_owner: str) -> None:
        self.app = app
        self.keyring = keyring
        self.default_owner = default_owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _protected(scope["path"]):
            await self.app(scope, receive, send)
            return
        if not self.keyring.configured:
            caller = Caller(owner=self.default_owner, enforced=False)
        else:
            token = bearer_token(Headers(scope=scope))
            owner = self.keyring.owner_of(token)
            if owner is None:
                await unauthorized(missing=token is None)(scope, receive, send)
                return
            caller = Caller(owner=owner, enforced=True)
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)

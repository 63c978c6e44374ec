"""413 for a request body over its cap, before the body is read whole.

A declared ``Content-Length`` over the cap is answered at once, without reading a byte;
a body without one (chunked) is counted as the application reads it, and the read that
crosses the cap ends the request with 413. Every route has the JSON cap
(``LESDE_MAX_JSON_BODY_BYTES``) except the upload routes, which name their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lesde_api.models.errors import error_body


@dataclass(frozen=True)
class BodyCap:
    """At most ``limit`` bytes; ``setting`` is the variable that sets it (named in the answer)."""

    limit: int
    setting: str

    def message(self) -> str:
        return f"the request body exceeds this deployment's limit of {self.limit:,} bytes ({self.setting})"


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when the streamed bytes cross the cap. An HTTPException, so
    FastAPI passes it through its body parsing (it turns other errors there into 400)."""

    def __init__(self, cap: BodyCap) -> None:
        super().__init__(status_code=413, detail=cap.message())


class BodyLimit:
    """Cap every HTTP request's body: ``caps_by_path`` for the paths listed there, ``caps_by_prefix``
    for paths under a listed prefix (ending in ``/``), ``default`` for the rest."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        default: BodyCap,
        caps_by_path: dict[str, BodyCap] | None = None,
        caps_by_prefix: dict[str, BodyCap] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.caps_by_path = caps_by_path or {}
        self.caps_by_prefix = caps_by_prefix or {}

    def cap_of(self, path: str) -> BodyCap:
        exact = self.caps_by_path.get(path.rstrip("/") or "/")
        if exact is not None:
            return exact
        return next((cap for prefix, cap in self.caps_by_prefix.items() if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_of(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > cap.limit:
            await JSONResponse(status_code=413, content=error_body(cap.message()))(scope, receive, send)
            return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            if received > cap.limit:
                raise BodyTooLarge(cap)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap.limit:
                    raise BodyTooLarge(cap)
            return message

        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as error:  # read outside FastAPI's body parsing (its handlers answer the rest)
            if started:
                raise
            await JSONResponse(status_code=413, content=error_body(error.detail))(scope, receive, send)

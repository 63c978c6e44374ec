"""422 for NaN and infinities anywhere in a JSON body, naming the field.

Python's JSON parser (FastAPI's) takes ``NaN``, ``Infinity`` and ``-Infinity``, and pydantic
lets them through any float field without bounds, and through free-form values such as a
sweep's grid; a bounded field refuses them only with a misleading "less than" message.
This middleware reads a JSON body once (after :mod:`lesde_api.body_limit` has capped it),
answers 422 naming each non-finite number's path, and otherwise hands the same bytes on.
A body that is not valid JSON is handed on untouched: the route answers it as before.
"""

from __future__ import annotations

import email.message
import json
import math
from collections.abc import Iterator
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lesde_api.errors import validation_problem

MAX_REPORTED = 10
NOT_FINITE = "Input should be a finite number; NaN and infinities are not allowed"


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI parses a body of ``content_type`` as JSON (``application/json`` or ``*/*+json``)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def non_finite_paths(document: Any) -> Iterator[tuple[str | int, ...]]:
    """The path of every NaN or infinite float in a parsed JSON document, depth first.
    Iterative: the parser bounds the depth, not this walk."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            yield path
        elif isinstance(value, dict):
            stack.extend((path + (key,), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((path + (index,), item) for index, item in reversed(list(enumerate(value))))


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body, and the messages it came in (to hand on unchanged)."""
    messages, parts = [], []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts), messages


class FiniteJson:
    """Refuse JSON bodies holding NaN or infinities (422 naming each field)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_json(Headers(scope=scope).get("content-type")):
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        problems = []
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):  # not JSON (or nested past the parser): the route answers it
            document = None
        for path in non_finite_paths(document):
            problems.append({"loc": ("body", *path), "msg": NOT_FINITE, "type": "finite_number"})
            if len(problems) == MAX_REPORTED:
                break
        if problems:
            await JSONResponse(status_code=422, content=validation_problem(problems))(scope, receive, send)
            return

        pending = iter(messages)

        async def replay() -> Message:
            message = next(pending, None)
            return message if message is not None else await receive()

        await self.app(scope, replay, send)

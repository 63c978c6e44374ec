"""Bind ``job_id`` and ``kind`` onto every line the gateway logs while it answers a request
about one job (``/v1/experiments/<id>/...``, simulations, sweeps): see :mod:`lesde_runtime.logs`.

Read from the raw path, before any route runs, so that lines of the route, its
dependencies and its store calls all carry them. The binding is a context variable, which
follows the request into the thread pool where FastAPI runs sync routes.
"""

from __future__ import annotations

import re

from lesde_runtime.logs import bound
from starlette.types import ASGIApp, Receive, Scope, Send

_JOB_PATH = re.compile(r"^/v1/(?P<kind>experiment|simulation|sweep)s/(?P<job_id>[a-z0-9]{8,40})(?:/|$)")


def job_of_path(path: str) -> tuple[str, str] | None:
    """``(kind, job_id)`` of a path about one job; None for any other path."""
    match = _JOB_PATH.match(path)
    return (match["kind"], match["job_id"]) if match else None


class JobLogContext:
    """ASGI middleware: the request's job fields, bound for as long as it is answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        job = job_of_path(scope.get("path", "")) if scope["type"] == "http" else None
        if job is None:
            await self.app(scope, receive, send)
            return
        kind, job_id = job
        with bound(job_id=job_id, kind=kind):
            await self.app(scope, receive, send)

"""The gateway's Prometheus metrics: every HTTP request, and ``GET /metrics`` that serves them.

``lesde_http_requests_total{method, route, status}`` and
``lesde_http_request_duration_seconds{method, route}`` (a histogram; a Server-Sent Events
stream counts until it closes) are labelled by the route's *template*
(``/v1/experiments/{job_id}``), never the raw path, so ids do not make a series each; a
request no route answered (an unknown path, or one a middleware answered first: 401
without a key, 413) is ``<unrouted>``. They are recorded by :class:`HttpMetrics`, the
outermost middleware, so answers of the key check (401) and the body cap (413) count too.
``/metrics`` adds the jobs by kind and status and the queue depths (:mod:`lesde_api.job_gauges`).
It needs no API key, as ``/healthz``: it tells counts, never ids or owners.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lesde_api.deps import StoreDep
from lesde_api.job_gauges import gauges_for

UNROUTED = "<unrouted>"
# From a cached read (a few ms) to a slow listing or upload; streams land in +Inf.
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter("lesde_http_requests", "HTTP requests answered, by method, route template and status.", ["method", "route", "status"])
LATENCY = Histogram(
    "lesde_http_request_duration_seconds",
    "Seconds from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=SECONDS_BUCKETS,
)


def route_template(scope: Scope) -> str:
    """The template of the route that answered (``/v1/experiments/{job_id}``); a mounted app's
    prefix plus ``/{path}``; :data:`UNROUTED` when none did (no route matches, or a middleware answered first: 401, 413)."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    if scope.get("endpoint") is not None and scope.get("root_path"):  # a mount (the dashboard's assets)
        return f"{scope['root_path']}/{{path}}"
    return UNROUTED


class HttpMetrics:
    """ASGI middleware: count and time every HTTP request by its route's template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500  # what the server answers when the app raises before it starts an answer

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route, method = route_template(scope), scope.get("method", "")
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - began)


router = APIRouter(tags=["operations"])


class _Exposition:
    """The process's metrics and the store's and broker's gauges, as one registry to render."""

    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


@router.get("/metrics", include_in_schema=False)
def metrics(store: StoreDep) -> Response:
    """Prometheus text format: HTTP requests, jobs by kind and status, queue depths."""
    return Response(generate_latest(_Exposition(REGISTRY, gauges_for(store))), media_type=CONTENT_TYPE_LATEST)

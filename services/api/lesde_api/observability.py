"""The gateway's logs and metrics, installed on the app in one call (docs/operations.md, "Metrics" and "Logs")."""

from __future__ import annotations

from fastapi import FastAPI
from lesde_runtime.logs import configure_logging

from lesde_api import gateway_metrics
from lesde_api.log_context import JobLogContext


def install_observability(app: FastAPI) -> None:
    """JSON or text logs at ``LESDE_LOG_LEVEL`` with the request's job fields bound, and
    ``GET /metrics``. Call it after the other middlewares: the metrics middleware must be the
    outermost, so that every answer (401, 413 included) is counted."""
    configure_logging("api")
    app.include_router(gateway_metrics.router)
    app.add_middleware(JobLogContext)
    app.add_middleware(gateway_metrics.HttpMetrics)

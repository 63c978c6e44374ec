"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from lesde_runtime import celery_app

from lesde_api.deps import StoreDep
from lesde_api.models.health import Health, Readiness
from lesde_api.redact import without_addresses

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> dict:
    """The process is alive (no dependency checked)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: the failed checks say why."}},
)
def readyz(store: StoreDep) -> JSONResponse:
    """Broker and storage reachable: 200, else 503 naming what is down."""
    checks: dict[str, str] = {}
    try:
        store.ping()
        checks["storage"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means not ready, and says which
        checks["storage"] = f"unreachable: {without_addresses(str(error))}"
    try:
        with celery_app.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
        checks["broker"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means not ready, and says which
        checks["broker"] = f"unreachable: {without_addresses(str(error))}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(status_code=200 if ready else 503, content={"status": "ok" if ready else "unavailable", **checks})

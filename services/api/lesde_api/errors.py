"""Map domain errors and validation errors to HTTP answers (never a 500 for bad input)."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from lesde.jobs import JobConflict, JobNotFound
from lesde.specs import WorkCapExceeded
from lesde.storage import StoreUnavailable


def _field(loc: tuple | list) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


_NAMED_VALUE_ERROR = re.compile(r"^(?:Value error, )?(?P<field>[A-Za-z_][\w.]*): (?P<msg>.+)$", re.S)


def _field_and_message(error: dict) -> tuple[str, str]:
    """Cross-field checks (model validators) report at the model's location; their messages
    start with the field they are about (``"dim: ..."``), so surface that as the field."""
    field, message = _field(error.get("loc", ())), error.get("msg", "")
    named = _NAMED_VALUE_ERROR.match(message) if error.get("type") == "value_error" else None
    if named:
        inner = named["field"]
        field = inner if field == "body" or inner.startswith(field + ".") else f"{field}.{inner}"
        message = named["msg"]
    return field, message


def validation_problem(errors: list[dict]) -> dict:
    """``{"detail": [...], "message": "field: reason; ..."}`` — pydantic's list plus one readable line."""
    clean = []
    for error in errors:
        field, message = _field_and_message(error)
        entry = {"loc": list(error.get("loc", ())), "field": field, "msg": message}
        entry["type"] = error.get("type", "value_error")
        if isinstance(error.get("ctx"), dict):
            entry["ctx"] = {key: str(value) for key, value in error["ctx"].items()}
        clean.append(entry)
    return {"detail": clean, "message": "; ".join(f"{entry['field']}: {entry['msg']}" for entry in clean)}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content=validation_problem(list(exc.errors())))

    @app.exception_handler(WorkCapExceeded)
    async def _work_cap(_request: Request, exc: WorkCapExceeded) -> JSONResponse:
        error = {"loc": ("body", *exc.field), "msg": str(exc), "type": "work_cap", "ctx": {"le": exc.cap}}
        return JSONResponse(status_code=422, content=validation_problem([error]))

    @app.exception_handler(JobNotFound)
    async def _not_found(_request: Request, exc: JobNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(JobConflict)
    async def _conflict(_request: Request, exc: JobConflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(StoreUnavailable)
    async def _store_down(_request: Request, exc: StoreUnavailable) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

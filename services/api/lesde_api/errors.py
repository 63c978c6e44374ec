"""Map domain errors and validation errors to HTTP answers (never a 500 for bad input).

Every error answers one shape, :class:`~lesde_api.models.errors.ErrorBody`
(``{message, field, detail}``), whoever raised it: a domain error, FastAPI's validation,
Starlette's 404/405, or the middlewares (401, 413, 422 for non-finite numbers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from lesde_contract.csv_layout import ImportRejected
from lesde_contract.object_store import StoreUnavailable
from lesde_contract.specs import SweepRejected, WorkCapExceeded
from lesde_contract.specs.uploaded import DatasetMismatch
from lesde_contract.sweep_children import SweepNotFound
from lesde_runtime.job_repository import JobConflict, JobNotFound
from starlette.exceptions import HTTPException as StarletteHTTPException

from lesde_api.models.errors import error_body
from lesde_api.operations.analysis import FigurePending
from lesde_api.operations.event_hub import StreamLimitReached
from lesde_api.operations.exports import FormatUnavailable
from lesde_api.operations.job_views import ResourceMissing
from lesde_api.operations.queueing import BrokerUnavailable
from lesde_api.operations.quota import QuotaExceeded
from lesde_api.operations.run_imports import ChunkRejected
from lesde_api.operations.uploads import ImportTooLarge
from lesde_api.redact import without_addresses


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
    """``{"message": "field: reason; ...", "field": first field, "detail": [...]}`` — pydantic's list plus one readable line."""
    clean = []
    for error in errors:
        field, message = _field_and_message(error)
        entry: dict[str, Any] = {"loc": list(error.get("loc", ())), "field": field, "msg": message}
        entry["type"] = error.get("type", "value_error")
        if isinstance(error.get("ctx"), dict):
            entry["ctx"] = {key: str(value) for key, value in error["ctx"].items()}
        clean.append(entry)
    message = "; ".join(f"{entry['field']}: {entry['msg']}" for entry in clean)
    return error_body(message, field=clean[0]["field"] if clean else None, problems=clean)


def csv_layout_problem(field: str, message: str, *, row: int | None = None, column: str | None = None) -> JSONResponse:
    """422 in the validation shape, plus the CSV ``row`` (1 = header) and ``column``."""
    problem = {"loc": ["body", field], "field": field, "msg": message, "type": "csv_layout", "row": row, "column": column}
    return JSONResponse(status_code=422, content=error_body(f"{field}: {message}", field=field, problems=[problem]))


def error_response(status: int, message: str, *, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """``status`` with the plain error body (``detail`` repeats ``message``)."""
    return JSONResponse(status_code=status, content=error_body(message), headers=headers)


# Errors whose answer is their status and the plain error body of their message.
PLAIN_STATUS: dict[type[Exception], int] = {
    JobNotFound: 404,
    ResourceMissing: 404,
    SweepNotFound: 404,
    JobConflict: 409,
    ImportTooLarge: 413,
    FormatUnavailable: 501,
}

# A dependency that is down: 503, a hint when to try again, and a message that names
# what failed without the address of the broker or store.
UNAVAILABLE = (BrokerUnavailable, StoreUnavailable)
RETRY_AFTER_S = 5


def install_error_handlers(app: FastAPI) -> None:
    """Each domain error mapped once, so route handlers only validate, call and return."""

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content=validation_problem(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Starlette's 404 (no route) and 405 (with its Allow header), the body limit's 413, and
        route-raised HTTPExceptions (a list ``detail`` is a list of validation problems)."""
        if isinstance(exc.detail, list):
            return JSONResponse(status_code=exc.status_code, content=validation_problem(exc.detail), headers=exc.headers)
        return error_response(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(WorkCapExceeded)
    async def _work_cap(_request: Request, exc: WorkCapExceeded) -> JSONResponse:
        error = {"loc": ("body", *exc.field), "msg": str(exc), "type": "work_cap", "ctx": {"le": exc.cap}}
        return JSONResponse(status_code=422, content=validation_problem([error]))

    @app.exception_handler(DatasetMismatch)
    async def _dataset_mismatch(_request: Request, exc: DatasetMismatch) -> JSONResponse:
        error = {"loc": ("body", *exc.field.split(".")), "msg": str(exc).split(": ", 1)[1], "type": "dataset"}
        return JSONResponse(status_code=422, content=validation_problem([error]))

    @app.exception_handler(SweepRejected)
    async def _sweep_rejected(_request: Request, exc: SweepRejected) -> JSONResponse:
        errors = [{"loc": ("body", field), "msg": message, "type": "sweep_grid"} for field, message in exc.problems]
        return JSONResponse(status_code=422, content=validation_problem(errors))

    @app.exception_handler(ImportRejected)
    async def _import_rejected(_request: Request, exc: ImportRejected) -> JSONResponse:
        field = "classes" if exc.column == "classes" else "file"
        return csv_layout_problem(field, str(exc), row=exc.row, column=exc.column)

    @app.exception_handler(ChunkRejected)
    async def _chunk_rejected(_request: Request, exc: ChunkRejected) -> JSONResponse:
        error = {"loc": ("body" if exc.field == "body" else "path", exc.field), "msg": str(exc), "type": "chunk"}
        return JSONResponse(status_code=422, content=validation_problem([error]))

    @app.exception_handler(FigurePending)
    async def _figure_pending(_request: Request, exc: FigurePending) -> JSONResponse:
        return error_response(202, str(exc), headers={"Retry-After": "2"})

    @app.exception_handler(QuotaExceeded)
    @app.exception_handler(StreamLimitReached)
    async def _quota(_request: Request, exc: QuotaExceeded | StreamLimitReached) -> JSONResponse:
        return error_response(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)})

    async def _plain(_request: Request, exc: Exception) -> JSONResponse:
        status = next(PLAIN_STATUS[kind] for kind in type(exc).__mro__ if kind in PLAIN_STATUS)  # a subclass maps as its parent
        return error_response(status, str(exc))

    for error_type in PLAIN_STATUS:
        app.add_exception_handler(error_type, _plain)

    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        return error_response(503, without_addresses(str(exc)), headers={"Retry-After": str(RETRY_AFTER_S)})

    for error_type in UNAVAILABLE:
        app.add_exception_handler(error_type, _unavailable)

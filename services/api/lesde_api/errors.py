"""Map domain errors and validation errors to HTTP answers (never a 500 for bad input)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from lesde.jobs import JobConflict, JobNotFound
from lesde.specs import WorkCapExceeded
from lesde.storage import StoreUnavailable


def _field(loc: tuple | list) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_problem(errors: list[dict]) -> dict:
    """``{"detail": [...], "message": "field: reason; ..."}`` — pydantic's list plus one readable line."""
    clean = []
    for error in errors:
        entry = {"loc": list(error.get("loc", ())), "field": _field(error.get("loc", ())), "msg": error.get("msg", "")}
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

"""Answer a stored analysis result as its typed model, or as it is stored when it no longer fits.

The routes of analysis results declare the contract's models (with the gateway's links) as
their ``response_model``, so the OpenAPI schema documents every field. A result stored by
an older analyzer may miss a field that is now required or hold one that is gone; such a
result is still the user's result, so it is answered as it is stored (NaN as ``null``),
with a warning in the log, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from lesde_contract.analysis_results import finite_json
from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

__all__ = ["typed_or_as_stored"]

Model = TypeVar("Model", bound=BaseModel)


def typed_or_as_stored(model: type[Model], body: dict[str, Any], *, what: str) -> Model | JSONResponse:
    """``body`` parsed as ``model``; where it does not fit, ``body`` as a JSON response (the stored shape)."""
    try:
        return model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        log.warning(
            "%s does not fit %s (stored by an older analyzer?), answered as stored: %d problem(s), first at %s: %s",
            what, model.__name__, error.error_count(), where, first["msg"],
        )  # fmt: skip
        return JSONResponse(content=finite_json(body))

"""The one error body every 4xx and 5xx of the gateway answers: ``{message, field, detail}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Problem(BaseModel):
    """One reason a request was refused (422): where, what, and the rule's parameters."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description="Where: 'body', 'query', 'path' or 'header', then the field's path.")
    field: str = Field(description="The field's dotted path ('training.iterations'), or 'body' for the whole body.")
    msg: str = Field(description="Why the value was refused, with the allowed range where there is one.")
    type: str = Field(
        description="Kind of problem: pydantic's error type, or finite_number, work_cap, sweep_grid, csv_layout, extra_forbidden."
    )
    ctx: dict[str, str] | None = Field(default=None, description="The rule's parameters as text (e.g. {'le': '1000000'}).")
    row: int | None = Field(default=None, description="CSV uploads: the row at fault (1 = the header).")
    column: str | None = Field(default=None, description="CSV uploads: the column at fault.")


class ErrorBody(BaseModel):
    """Every error answer: a readable line, the field at fault, and the details."""

    message: str = Field(description="One readable line; for refused input 'field: reason; field: reason'.")
    field: str | None = Field(
        default=None, description="The (first) request field at fault, dotted; null when the error is not about one field."
    )
    detail: str | list[Problem] = Field(
        description="422: every problem, one per field; other statuses: the message again (older clients read it)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "message": "training.iterations: Input should be less than or equal to 1000000",
                    "field": "training.iterations",
                    "detail": [
                        {
                            "loc": ["body", "training", "iterations"],
                            "field": "training.iterations",
                            "msg": "Input should be less than or equal to 1000000",
                            "type": "less_than_equal",
                            "ctx": {"le": "1000000"},
                        }
                    ],
                },
                {"message": "experiment 0123abcd not found", "field": None, "detail": "experiment 0123abcd not found"},
            ]
        }
    )


def error_body(message: str, *, field: str | None = None, problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON of :class:`ErrorBody`: ``detail`` is ``problems`` when given, else ``message``."""
    return {"message": message, "field": field, "detail": problems if problems is not None else message}

"""Answers of the liveness and readiness probes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Health(BaseModel):
    """The process answers (no dependency checked)."""

    status: Literal["ok"] = Field(description="Always 'ok' when the gateway answers at all.")


class Readiness(BaseModel):
    """Whether the gateway can serve: 200 with every check 'ok', else 503 with the failed ones."""

    status: Literal["ok", "unavailable"] = Field(description="'ok' when every dependency is reachable.")
    storage: str = Field(description="'ok', or 'unreachable: <reason>' (addresses left out).")
    broker: str = Field(description="'ok', or 'unreachable: <reason>' (addresses left out).")

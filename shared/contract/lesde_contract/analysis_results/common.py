"""What every analysis-result model shares: the base that refuses unknown keys, and small parts.

Every structure the analyzer stores is a :class:`ResultModel`: a key the model does not
name is refused, so a field the analyzer adds without adding it here fails its tests (and
its run) instead of drifting apart from what the gateway documents. Numbers an analysis
could not compute (NaN, infinities) are ``null`` in the stored JSON, so every float that
can be undefined is ``float | None`` here (:func:`lesde_contract.analysis_results.encode.encode`
turns NaN into ``None`` when storing).

A field with a default is one the stored JSON may leave out: it is written only where it
applies (``Curves.final`` without eval records) or it is newer than some stored results
(``Verdict.band``). :func:`~lesde_contract.analysis_results.encode.encode` writes the fields that
were set, so a left-out field stays left out.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ResultModel", "MeanStd", "RecordSpan"]


class ResultModel(BaseModel):
    """Base of every stored analysis structure: unknown keys refused (drift is an error, not a pass-through)."""

    model_config = ConfigDict(extra="forbid")


class MeanStd(ResultModel):
    """A number measured on every trial: its mean and spread over the trials."""

    mean: float | None = Field(description="Mean over trials (null when no trial has a finite value).")
    std: float | None = Field(description="Standard deviation over trials (ddof 0; null when no trial has a finite value).")


class RecordSpan(ResultModel):
    """A window of records, counted in records and in iterations."""

    records: int = Field(description="Records in the window.")
    iterations: float = Field(description="The same window in iterations (records x the record spacing).")

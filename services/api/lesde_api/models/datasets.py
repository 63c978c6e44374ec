"""A data set as the API answers it."""

from __future__ import annotations

from typing import Any

from lesde_contract.records import JobPublic
from pydantic import Field


class DatasetPublic(JobPublic):
    """An uploaded data set: a job record (its validation) plus what the validation found."""

    info: dict[str, Any] | None = Field(
        default=None,
        description="Once validated: shape [C, H, W], class_names, train_counts and val_counts (per class), sha256 "
        "and bytes of the file. None before.",
    )

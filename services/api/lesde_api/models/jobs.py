"""A job as the API answers it, with its spec typed by kind (the stored spec is the posted one, dumped)."""

from __future__ import annotations

from typing import Literal

from lesde_contract.records import JobPublic
from lesde_contract.specs import ExperimentSpec
from lesde_contract.specs.simulation import PhaseDiagramSpec, SimulationSpec
from pydantic import BaseModel, ConfigDict, Field


class ImportSource(BaseModel):
    """The uploaded file an imported experiment came from."""

    format: Literal["authors-csv"] = Field(description="The layout of the upload (the authors' long CSV).")
    filename: str = Field(description="The upload's file name as sent.")
    bytes: int = Field(description="Its size in bytes.")


class ImportedDataset(BaseModel):
    """The classes of an imported experiment (its samples are the CSV's rows)."""

    name: Literal["imported"] = Field(description="Always 'imported'.")
    classes: list[str] = Field(description="Class names in label order (from the form, else '0'..'K-1').")


class ImportSpec(BaseModel):
    """The spec recorded for a CSV import (``POST /v1/imports``)."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["import"] = Field(description="Always 'import': tells an import from a trained experiment.")
    name: str | None = Field(default=None, description="The name given with the upload.")
    source: ImportSource = Field(description="The uploaded file.")
    dataset: ImportedDataset = Field(description="The classes of the imported logits.")


class ExperimentPublic(JobPublic):
    """An experiment (trained, or imported from a CSV) as the API answers it."""

    estimated_seconds: float | None = Field(
        default=None,
        description="In the 202 answer to a POST only: an estimate of the training time on the reference machine "
        "(2 CPU cores; the work of the spec at the rates bench/train.py measured there, see docs/operations.md). "
        "Another machine or a GPU differs; None where there is no reference rate (models other than lenet, "
        "per_class batching).",
    )

    # narrows JobPublic.spec (a dict) to the typed spec; stays a JobPublic for the routes (type[JobPublic])
    spec: ExperimentSpec | ImportSpec | None = Field(  # type: ignore[assignment]
        default=None, description="The posted spec (defaults filled in), or an import's; left out of listings."
    )


class SimulationPublic(JobPublic):
    """A simulation or phase diagram as the API answers it."""

    # narrows JobPublic.spec (a dict) to the typed spec; stays a JobPublic for the routes (type[JobPublic])
    spec: SimulationSpec | PhaseDiagramSpec | None = Field(  # type: ignore[assignment]
        default=None, description="The posted spec (defaults filled in); a phase diagram's has 'grid'. Left out of listings."
    )

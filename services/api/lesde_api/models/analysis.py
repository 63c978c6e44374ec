"""The analysis answers of experiments, simulations and sweeps: the contract's results plus the gateway's links.

What the analyzer stores is defined once, in :mod:`lesde_contract.analysis_results`; each answer
here is a subclass that adds what the gateway adds when it serves a stored result: the
figures as links (``{name: URL}`` instead of the stored names), ``series_url`` and
``table_url``, the state of a newer run of the same option set, and the thinned series.
Numbers the analysis could not compute are ``null``. A stored result that no longer fits
these models (written by an older analyzer) is answered as it is stored
(:mod:`lesde_api.operations.stored_answers`).
"""

from __future__ import annotations

from typing import Literal

from lesde_contract.analysis_results import ExperimentAnalysis as StoredExperimentAnalysis
from lesde_contract.analysis_results import PhaseDiagramAnalysis, SimulationAnalysis
from lesde_contract.analysis_results import SweepAnalysis as StoredSweepAnalysis
from lesde_contract.records import AnalysisState
from lesde_contract.specs.analysis import AnalysisOptions
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AnalysisRequested", "ExperimentAnalysis", "LatestRequest", "SeriesGroup", "SeriesGroups", "SimulationRun",
    "PhaseDiagramResult", "SweepAnalysis",
]  # fmt: skip

#: one thinned series: a number per record, or nested lists of them (records first), null where undefined
SeriesValues = (
    float | None | list[float | None] | list[list[float | None]] | list[list[list[float | None]]] | list[list[list[list[float | None]]]]
)

#: figure name -> URL of its PNG (this option set's, for an experiment)
FigureLinks = dict[str, str]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class AnalysisRequested(_Open):
    """``POST /v1/experiments/{id}/analysis``: where the run's result will be, and its state."""

    job_id: str = Field(description="The experiment.")
    options_key: str = Field(description="Key of the option set, for ?options_key= on the result routes.")
    options: AnalysisOptions = Field(description="The option set, defaults filled in.")
    links: dict[str, str] = Field(description="analysis, series and figures ({name} stands for a figure) of this option set.")
    state: Literal["queued", "running", "succeeded"] = Field(description="The run's state.")
    cached: bool = Field(description="True when a complete result was already stored (200).")
    partial: bool | None = Field(default=None, description="On a new run: whether the experiment is still training.")


class LatestRequest(BaseModel):
    """The state of the newest run of an option set, when it is not the answered result (pending or failed)."""

    # written by lesde_runtime.analysis_state, which owns the state's format: a key it adds later passes through
    model_config = ConfigDict(extra="allow")

    state: AnalysisState = Field(description="The run's state: queued, running or failed.")
    error: str | None = Field(default=None, description="Why it failed (null unless it did).")
    options: dict[str, object] = Field(
        description="The options as requested (JSON); a set the analyzer refused is kept as sent, and error says why."
    )
    options_key: str = Field(description="The option set's key.")
    updated_at: str = Field(description="When the state was written (ISO 8601, UTC).")


class SeriesGroup(BaseModel):
    """One group of series on a shared time axis ``t``, thinned to at most max_points records."""

    # the arrays of a group are named by the analysis (A_L, leode_mean_I, nc1_std, ...): each is typed as SeriesValues
    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, SeriesValues]

    records: int = Field(description="Records of the group at full length (the NPZ at series_url holds them all).")
    returned: int = Field(description="Records returned here (evenly spaced, first and last included).")


class SeriesGroups(BaseModel):
    """Every series group the analysis stored (a stream not recorded has none)."""

    model_config = ConfigDict(extra="forbid")

    estimates: SeriesGroup | None = Field(
        default=None, description="On the estimators' time axis: xbar, A_*, B_*, Gamma_*, alpha_*, beta_*, drift_*, leode_*."
    )
    eval: SeriesGroup | None = Field(
        default=None, description="Evaluations: mean, std and quartiles over trials of each loss and accuracy."
    )
    features: SeriesGroup | None = Field(
        default=None, description="Penultimate features: neural-collapse metrics and separability per record."
    )
    probe: SeriesGroup | None = Field(default=None, description="Probe set: Xbar, neural-collapse metrics and separability per record.")
    sampled: SeriesGroup | None = Field(default=None, description="Sampled stream: Xbar, counts and training loss per iteration.")


class ExperimentAnalysis(StoredExperimentAnalysis):
    """``GET /v1/experiments/{id}/analysis``: every number of one option set's analysis, with its links."""

    figures: FigureLinks = Field(description="Figure name -> URL of its PNG for this option set.")  # type: ignore[assignment]  # the stored names, as links
    series_url: str = Field(description="URL of every series at full length (NPZ).")
    latest_request: LatestRequest | None = Field(
        default=None, description="Present when a newer run of this option set is pending or failed: its state."
    )
    series: SeriesGroups | None = Field(
        default=None, description="Per group: 'records', 'returned' and each array thinned to max_points (absent with series=false)."
    )


class SimulationRun(SimulationAnalysis):
    """``GET /v1/simulations/{id}/analysis`` of a simulation: trajectories, separability and estimates, with links."""

    figures: FigureLinks = Field(description="Figure name -> URL of its PNG.")  # type: ignore[assignment]  # the stored names, as links


class PhaseDiagramResult(PhaseDiagramAnalysis):
    """``GET /v1/simulations/{id}/analysis`` of a phase diagram: separable fraction over the grid, with links."""

    figures: FigureLinks = Field(description="Figure name -> URL of its PNG.")  # type: ignore[assignment]  # the stored names, as links


class SweepAnalysis(StoredSweepAnalysis):
    """``GET /v1/sweeps/{id}/analysis``: results across the sweep's children (partial while some run), with links."""

    figures: FigureLinks = Field(description="Figure name -> URL of its PNG.")  # type: ignore[assignment]  # the stored names, as links
    table_url: str = Field(description="URL of the table as CSV.")

"""The analysis JSON of experiments, simulations and sweeps, typed to its top level and main objects.

The analyzer writes these (``lesde_analyzer.*.summary``); the gateway adds links. Deeper
objects (per-model estimates, imitation fits, neural-collapse geometry) are free-form
here and described in the README; every model allows keys it does not name, so a newer
analyzer's additions pass through. Numbers the analysis could not compute are ``null``
(NaN and infinities never reach JSON).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lesde.specs.analysis import AnalysisOptions


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class SampledStream(_Open):
    records: int = Field(description="Logged iterations of the sampled logits.")
    first: int = Field(description="First logged iteration.")
    last: int = Field(description="Last logged iteration.")


class StreamCounts(_Open):
    """What the analysis read of each stored stream (null: the experiment has none)."""

    sampled: SampledStream = Field(description="The per-iteration sampled logits.")
    probe: dict[str, int] | None = Field(default=None, description="Probe-set logits: records and per_class.")
    features: dict[str, int] | None = Field(default=None, description="Penultimate features: records and dimension.")
    eval: dict[str, int] | None = Field(default=None, description="Validation evaluations: records.")


class Verdict(_Open):
    """Whether training is on the separating side (r of Gamma against 1, with its standard error)."""

    label: str = Field(description="The verdict in words.")
    separable: bool | None = Field(default=None, description="True, False, or null when not decided.")
    r_gamma: float | None = Field(default=None, description="Tail exponent of Gamma.")
    se: float | None = Field(default=None, description="Standard error of r_gamma.")
    reason: str | None = Field(default=None, description="Why this verdict (or why none).")


class TailIndices(_Open):
    """Tail exponents of the integrals A, B and Gamma (each an object of fit results)."""

    A: dict[str, Any] | None = Field(default=None, description="Fit of the tail of A(t).")
    B: dict[str, Any] | None = Field(default=None, description="Fit of the tail of B(t).")
    Gamma: dict[str, Any] | None = Field(default=None, description="Fit of the tail of Gamma(t).")
    verdict: Verdict | None = Field(default=None, description="The verdict drawn from Gamma's exponent.")


class Separability(_Open):
    """Linear separability of one record stream at the first and last record."""

    initial: float | None = Field(default=None, description="Fraction of trials separable at the first record.")
    final: float | None = Field(default=None, description="Fraction of trials separable at the last record.")
    initial_baseline: float | None = Field(default=None, description="The same for shuffled labels (chance level).")
    final_baseline: float | None = Field(default=None, description="The same for shuffled labels (chance level).")


class ExperimentAnalysis(_Open):
    """``GET /v1/experiments/{id}/analysis``: every number of one option set's analysis."""

    version: int = Field(description="Format version of this JSON.")
    job_id: str = Field(description="The experiment.")
    partial: bool = Field(description="True when computed while the experiment was still training.")
    iterations_done: int = Field(description="Iterations the analysis covered.")
    options: AnalysisOptions = Field(description="The option set this result was computed with.")
    options_key: str = Field(description="The option set's key ('default' or a hash).")
    classes: list[str] = Field(description="Class names in label order.")
    iterations: int = Field(description="Iterations in the sampled stream.")
    trials: int = Field(description="Independent trials.")
    streams: StreamCounts = Field(description="What was read of each stored stream.")
    source: str = Field(description="Which class means the estimates were computed from ('sampled' or 'probe').")
    estimates: dict[str, Any] = Field(description="alpha-hat, beta-hat per model, drift regression and more (see the README).")
    tail_indices: TailIndices = Field(description="Tail exponents of the chosen estimator's integrals.")
    verdict: Verdict = Field(description="The separability verdict.")
    separability: dict[str, Separability] = Field(description="Per stream ('probe', 'features').")
    neural_collapse: dict[str, Any] = Field(description="Per stream: geometry of the class means over time.")
    imitation: dict[str, Any] = Field(description="Per model ('I', 'L'): how well the LE-ODE imitates the class means.")
    curves: dict[str, Any] = Field(description="Loss and accuracy at the start and the end.")
    class_means: dict[str, Any] = Field(description="Class means at the start and the end, per stream.")
    notes: dict[str, str] = Field(description="How each number was made, in words.")
    final: dict[str, Any] | None = Field(default=None, description="Accuracies and losses at the last evaluation.")
    figures: dict[str, str] = Field(description="Figure name -> URL of its PNG.")
    series_url: str = Field(description="URL of every series at full length (NPZ).")
    latest_request: dict[str, Any] | None = Field(
        default=None, description="Present when a newer run of this option set is pending or failed: its state."
    )
    series: dict[str, dict[str, Any]] | None = Field(
        default=None, description="Per group: 'records', 'returned' and each array thinned to max_points (absent with series=false)."
    )


class AnalysisRequested(_Open):
    """``POST /v1/experiments/{id}/analysis``: where the run's result will be, and its state."""

    job_id: str = Field(description="The experiment.")
    options_key: str = Field(description="Key of the option set, for ?options_key= on the result routes.")
    options: AnalysisOptions = Field(description="The option set, defaults filled in.")
    links: dict[str, str] = Field(description="analysis, series and figures ({name} stands for a figure) of this option set.")
    state: Literal["queued", "running", "succeeded"] = Field(description="The run's state.")
    cached: bool = Field(description="True when a complete result was already stored (200).")
    partial: bool | None = Field(default=None, description="On a new run: whether the experiment is still training.")


class SimulationRun(_Open):
    """``GET /v1/simulations/{id}/analysis`` of a simulation: trajectories, separability and estimates."""

    mode: str = Field(description="discrete, sde or ode.")
    model: str = Field(description="I or L.")
    classes: int = Field(description="Number of classes K.")
    dim: int = Field(description="Dimension of each sample's state.")
    runs: int = Field(description="Independent runs.")
    times: list[float | None] = Field(description="Recorded times (R,).")
    separable_fraction: list[float | None] = Field(description="Fraction of runs separable at separable_times (S,).")
    final_separable_fraction: float | None = Field(description="That fraction at the final time.")
    figures: dict[str, str] = Field(description="Figure name -> URL of its PNG.")


class PhaseDiagramResult(_Open):
    """``GET /v1/simulations/{id}/analysis`` of a phase diagram: separable fraction over the grid."""

    grid_kind: str = Field(description="alpha_beta, gap or exponent.")
    grid: list[Any] = Field(description="The grid's points as posted.")
    x: list[float | None] = Field(description="The plotted coordinate of each point.")
    x_label: str = Field(description="What x is.")
    separable_fraction: list[float | None] = Field(description="Fraction of runs separable at the final time, per point.")
    final_time: float = Field(description="steps x step.")
    runs: int = Field(description="Runs per point.")
    figures: dict[str, str] = Field(description="Figure name -> URL of its PNG.")


class SweepAnalysis(_Open):
    """``GET /v1/sweeps/{id}/analysis``: results across the sweep's children (partial while some run)."""

    version: int = Field(description="Format version of this JSON.")
    sweep_id: str = Field(description="The sweep.")
    name: str | None = Field(default=None, description="The sweep's name.")
    axes: list[str] = Field(description="The dotted field paths the grid varies.")
    primary_axis: str | None = Field(default=None, description="The axis plotted first (null before any child is analysed).")
    partial: bool = Field(description="True while some children have not finished.")
    counts: dict[str, Any] = Field(description="children, in_curves, and children by_status and by_analysis.")
    children: list[dict[str, Any]] = Field(description="Each child: index, experiment_id, point, status, analysis, in_curves.")
    columns: list[str] = Field(description="Columns of rows (and of table.csv).")
    rows: list[dict[str, Any]] = Field(description="One row per child: grid values and its result numbers.")
    curves: dict[str, Any] = Field(description="Per plotted axis: the result numbers along it.")
    flip: dict[str, Any] | None = Field(default=None, description="Where r of Gamma crosses 1 along the primary axis.")
    notes: list[str] = Field(description="What the numbers say, in words.")
    figures: dict[str, str] = Field(description="Figure name -> URL of its PNG.")
    table_url: str = Field(description="URL of the table as CSV.")

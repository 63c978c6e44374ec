"""The analysis of one experiment for one option set, as the analyzer stores it (``analysis/summary.json``).

The gateway serves it at ``GET /v1/experiments/{id}/analysis`` (adding links),
``lesde.analyze`` returns it in process (``AnalysisResult.summary``; typed:
``AnalysisResult.typed``), and sweeps, exports and the dashboard read it. Times are in
iterations (SGD updates), rates per iteration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from lesde_contract.analysis_results.common import MeanStd, ResultModel
from lesde_contract.analysis_results.estimates import Estimates
from lesde_contract.analysis_results.geometry import GeometryByStream, SeparabilityByStream
from lesde_contract.analysis_results.imitation import ImitationByModel
from lesde_contract.analysis_results.tail import Figure4c, TailIndices, Verdict
from lesde_contract.specs.analysis import AnalysisOptions

__all__ = [
    "EXPERIMENT_FORMAT_VERSION", "SampledStream", "ProbeStream", "FeaturesStream", "EvalStream", "StreamCounts", "LabelsUsed",
    "VerdictByModel", "NumberByModel", "GroupingComputed", "GroupingNotComputed", "LabelGroupings", "EvalRecord", "Curves",
    "SampledClassMeans", "ProbeClassMeans", "ClassMeans", "AnalysisNotes", "Sampling", "ExperimentAnalysis",
]  # fmt: skip

#: ``version`` of the stored experiment analysis
EXPERIMENT_FORMAT_VERSION = 2

#: what the gateway adds to a stored summary when it serves it (figures become {name: URL})
SERVED_ADDITIONS = ("series_url", "latest_request", "series")

#: a K x K matrix of logits (rows: classes in ``classes`` order), null where undefined
LogitMatrix = list[list[float | None]]


class SampledStream(ResultModel):
    """What the analysis read of the per-iteration sampled logits."""

    records: int = Field(description="Logged iterations.")
    first: int = Field(description="First logged iteration.")
    last: int = Field(description="Last logged iteration.")


class ProbeStream(ResultModel):
    """What the analysis read of the probe-set logits."""

    records: int = Field(description="Probe records (every probe_every iterations and at the end).")
    per_class: int = Field(description="Probe samples per class.")


class FeaturesStream(ResultModel):
    """What the analysis read of the penultimate-layer features."""

    records: int = Field(description="Feature records.")
    dimension: int = Field(description="Dimension of the features.")


class EvalStream(ResultModel):
    """What the analysis read of the evaluations."""

    records: int = Field(description="Evaluation records.")


class StreamCounts(ResultModel):
    """What the analysis read of each stored stream (null: the experiment has none)."""

    sampled: SampledStream = Field(description="The per-iteration sampled logits.")
    probe: ProbeStream | None = Field(description="The probe-set logits (null when not recorded).")
    features: FeaturesStream | None = Field(description="The penultimate features (null when not recorded).")
    eval: EvalStream | None = Field(description="Validation and training evaluations (null when not recorded).")


class LabelsUsed(ResultModel):
    """Which label grouping every number used."""

    option: Literal["trained", "true"] = Field(description="The labels option the analysis ran under.")
    xbar_estimates_verdict_imitation: str = Field(description="The grouping of Xbar(t), the estimates, the verdict and the imitation.")
    separability: str = Field(description="The grouping of separability.")
    neural_collapse: str = Field(description="The grouping of neural collapse.")
    samples_figure: str = Field(description="The grouping of the samples figure.")
    true_labels_stored: bool = Field(description="Whether the sampled stream stores each point's true class.")
    groupings_differ: bool = Field(description="Whether grouping by true and by trained label differ (some label was corrupted).")


class VerdictByModel(ResultModel):
    """The verdict of each model under one label grouping."""

    I: Verdict = Field(description="I-model.")  # noqa: E741 - the paper's name
    L: Verdict = Field(description="L-model.")


class NumberByModel(ResultModel):
    """One number of each model under one label grouping (null where undefined)."""

    I: float | None = Field(description="I-model.")  # noqa: E741 - the paper's name
    L: float | None = Field(description="L-model.")


class GroupingComputed(ResultModel):
    """The verdict and the Figure 4c number with Xbar grouped one way."""

    computed: Literal[True] = Field(description="Always true: computed.")
    verdict: VerdictByModel = Field(description="The verdict of each model.")
    r_gamma: NumberByModel = Field(description="r_slope of Gamma on the deciding window, per model (dimensionless).")
    figure_4c: Figure4c = Field(description="The paper's Figure 4c number and ours.")
    A_end: NumberByModel = Field(description="A-hat at the last record, per model.")
    B_end: NumberByModel = Field(description="B-hat at the last record, per model.")
    Gamma_end: NumberByModel = Field(description="Gamma at the last record, per model.")


class GroupingNotComputed(ResultModel):
    """A grouping that was not computed, and why."""

    computed: Literal[False] = Field(description="Always false: not computed.")
    reason: str = Field(description="Why (the probe set, no true labels stored, or identical to the other grouping).")


class LabelGroupings(ResultModel):
    """Both label groupings of the sampled logits: each one's verdict, or why it was not computed."""

    trained: GroupingComputed | GroupingNotComputed = Field(description="Grouped by the label each network trained on (the authors').")
    true: GroupingComputed | GroupingNotComputed = Field(description="Grouped by each sample's true class.")


class EvalRecord(ResultModel):
    """Accuracies and losses of one evaluation record, mean and std over trials."""

    iteration: int = Field(description="Time of the record, in iterations.")
    train_accuracy: MeanStd = Field(description="Training accuracy (a fraction).")
    validation_accuracy: MeanStd = Field(description="Validation accuracy (a fraction).")
    train_loss: MeanStd = Field(description="Training loss (cross-entropy, nats).")
    validation_loss: MeanStd = Field(description="Validation loss (cross-entropy, nats).")


class Curves(ResultModel):
    """Loss and accuracy: the sampled training loss at the end, and the first and last evaluation."""

    sampled_loss_end: float | None = Field(description="Sampled training loss (nats) averaged over the last 100 records.")
    initial: EvalRecord | None = Field(default=None, description="The first evaluation (before any update); absent without evaluations.")
    final: EvalRecord | None = Field(default=None, description="The last evaluation; absent without evaluations.")


class SampledClassMeans(ResultModel):
    """Xbar at the start and the end from the sampled stream."""

    labels: Literal["trained", "true"] = Field(description="The label grouping of the sampled logits.")
    window: int = Field(description="Records averaged at each end (count-weighted).")
    start: LogitMatrix = Field(description="Xbar averaged over the first window: row k, column j = mean logit j of class k.")
    end: LogitMatrix = Field(description="Xbar averaged over the last window.")


class ProbeClassMeans(ResultModel):
    """Xbar at the first and the last probe record."""

    start_iteration: int = Field(description="Time of the first probe record, in iterations.")
    end_iteration: int = Field(description="Time of the last probe record, in iterations.")
    start: LogitMatrix = Field(description="Probe Xbar at the first record: row k, column j = mean logit j of class k.")
    end: LogitMatrix = Field(description="Probe Xbar at the last record.")


class ClassMeans(ResultModel):
    """Xbar (class-mean logits) at the start and the end of the run."""

    note: str = Field(description="How to read the matrices.")
    sampled: SampledClassMeans = Field(description="From the sampled stream.")
    probe: ProbeClassMeans | None = Field(default=None, description="From the probe set; absent when not recorded.")


class AnalysisNotes(ResultModel):
    """What each number of the analysis means, with the settings it was computed with, in words."""

    time: str = Field(description="What t counts.")
    unit: str = Field(description="Units of rates and windows.")
    xbar_sampled: str = Field(description="How Xbar is made from the sampled logits.")
    xbar_probe: str = Field(description="How Xbar is made from the probe set.")
    rates: str = Field(description="How alpha-hat, beta-hat are made.")
    tail_indices: str = Field(description="How the tail indices and their standard errors are made.")
    verdict: str = Field(description="How the verdict is decided.")
    drift_regression: str = Field(description="How the drift regression is made.")
    neural_collapse: str = Field(description="How the neural-collapse metrics are made.")
    separability: str = Field(description="How separability and its chance level are tested.")
    imitation: str | None = Field(default=None, description="How the LE-ODE imitation is made; absent when no model was imitated.")
    sampling: str | None = Field(default=None, description="Which class sampling the drift regression assumed; absent from older results.")


class Sampling(ResultModel):
    """The class sampling the drift regression assumed."""

    class_weights: list[float] | None = Field(description="Probability that a step trains each class (null: 1/K).")
    model: Literal["balanced", "imbalanced"] = Field(description="'balanced' (1/K per class) or 'imbalanced' (class_weights).")


class ExperimentAnalysis(ResultModel):
    """Every number of one experiment's analysis for one option set."""

    version: int = Field(description="Format version of this JSON.")
    job_id: str = Field(description="The experiment.")
    partial: bool = Field(description="True when computed while the experiment was still training.")
    iterations_done: int = Field(description="Iterations committed when the analysis ran (it covers these).")
    options: AnalysisOptions = Field(description="The option set this result was computed with (every default filled in).")
    options_key: str = Field(description="The option set's key ('default' or a hash).")
    classes: list[str] = Field(description="Class names in label order.")
    iterations: int = Field(description="Iterations in the sampled stream (last logged iteration + 1).")
    trials: int = Field(description="Independent trials.")
    streams: StreamCounts = Field(description="What was read of each stored stream.")
    source: Literal["sampled", "probe"] = Field(description="The stream Xbar(t) of the estimates came from.")
    labels: LabelsUsed | None = Field(default=None, description="Which label grouping every number used (absent from older results).")
    label_groupings: LabelGroupings | None = Field(
        default=None, description="The verdict under each label grouping (absent from older results)."
    )
    estimates: Estimates = Field(description="A-hat, B-hat, rates and tail indices per model, drift regression and imitation.")
    figure_4c: Figure4c = Field(description="The paper's Figure 4c number (I-model) and ours (L-model).")
    tail_indices: TailIndices = Field(description="Tail indices of the chosen estimator's A, B and Gamma, with the verdict.")
    verdict: Verdict = Field(description="The separability verdict (Theorem 3.1) of the chosen estimator.")
    separability: SeparabilityByStream = Field(description="Linear separability per recorded stream ('probe', 'features').")
    neural_collapse: GeometryByStream = Field(description="Neural-collapse geometry per recorded stream ('probe', 'features').")
    imitation: ImitationByModel = Field(description="How well the LE-ODE imitates the class means, per model ('I', 'L').")
    curves: Curves = Field(description="Loss and accuracy at the start and the end.")
    class_means: ClassMeans = Field(description="Class-mean logits at the start and the end, per stream.")
    notes: AnalysisNotes = Field(description="How each number was made, in words.")
    sampling: Sampling | None = Field(default=None, description="The class sampling assumed (absent from older results).")
    final: EvalRecord | None = Field(default=None, description="The last evaluation (as curves.final); absent without evaluations.")
    figures: list[str] = Field(default_factory=list, description="Names of the stored figures (absent until the figures are rendered).")

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> ExperimentAnalysis:
        """The typed result of a summary as stored, or as the gateway serves it: its additions
        (``series_url``, ``latest_request``, the thinned ``series``) left out, figure links back to names."""
        stored = {key: value for key, value in summary.items() if key not in SERVED_ADDITIONS}
        if isinstance(stored.get("figures"), Mapping):
            stored["figures"] = list(stored["figures"])
        return cls.model_validate(stored)

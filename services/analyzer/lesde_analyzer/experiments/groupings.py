"""Both label groupings of a label-noise run: which one each number used, and the verdict under the other.

The authors group the sampled logits by the label each network trained on (corrupted
where label noise moved it); the paper's model and the clean validation set speak of the
true class. Grouping by the trained label dilutes the class difference by about
``1 - K p / (K - 1)`` (``1 - 3p/2`` for K = 3), so at ``p = (K-1)/K`` the trained-label
Gamma is flat by construction. The analysis runs under ``options.labels``; this module
adds the verdict and the Figure 4c number under the other grouping, and says which
grouping every number used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from lesde_contract.analysis_results.estimates import Estimates
from lesde_contract.analysis_results.experiment import (
    GroupingComputed,
    GroupingNotComputed,
    LabelGroupings,
    LabelsUsed,
    NumberByModel,
    VerdictByModel,
)
from lesde_contract.analysis_results.tail import TailIndices
from lesde_contract.specs.analysis import AnalysisOptions

from lesde_analyzer.estimation import estimate_integrals
from lesde_analyzer.experiments.streams import ProbeData, SampledData
from lesde_analyzer.experiments.verdicts import figure_4c, model_tail_indices, replicate_integrals, tail_result
from lesde_analyzer.experiments.xbar import analysis_xbar, fill_over_time

__all__ = ["GROUPINGS", "labels_used", "grouping_verdicts"]

GROUPINGS = ("trained", "true")
TRUE_CLASS = "true (probe set and features, grouped by each sample's class)"


def labels_used(sampled: SampledData, options: AnalysisOptions, source: str) -> LabelsUsed:
    """Which grouping every number used."""
    xbar = options.labels if source == "sampled" else "true (the probe set is grouped by each sample's class)"
    return LabelsUsed(
        option=options.labels,
        xbar_estimates_verdict_imitation=xbar,
        separability=TRUE_CLASS,
        neural_collapse=TRUE_CLASS,
        samples_figure="trained (the sampled points' labels)",
        true_labels_stored=sampled.true_labels_stored,
        groupings_differ=_differ(sampled),
    )


def _differ(sampled: SampledData) -> bool:
    trained, true = sampled.groupings["trained"], sampled.groupings["true"]
    return not np.array_equal(trained.counts, true.counts) or not np.array_equal(trained.xbar, true.xbar, equal_nan=True)


def grouping_verdicts(
    sampled: SampledData, probe: ProbeData | None, options: AnalysisOptions, estimates: Estimates, source: str
) -> LabelGroupings:
    """Per grouping: the verdict (every window) and the Figure 4c number of each model.

    The chosen grouping's entries are those of ``estimates``; the other is computed here (for
    the sampled stream only; on the probe stream both are the true label).
    """
    chosen = _Models(
        tails={m: getattr(estimates.models, m).tail_indices for m in ("I", "L")},
        A_end={m: getattr(estimates.models, m).A_end for m in ("I", "L")},
        B_end={m: getattr(estimates.models, m).B_end for m in ("I", "L")},
        Gamma_end={m: getattr(estimates.models, m).Gamma_end for m in ("I", "L")},
    )
    entries: dict[str, GroupingComputed | GroupingNotComputed] = {}
    for name in GROUPINGS:
        if name == options.labels:
            entries[name] = chosen.entry()
        elif source != "sampled":
            entries[name] = GroupingNotComputed(
                computed=False, reason="the estimates use the probe set, which is grouped by the true class"
            )
        elif not sampled.true_labels_stored:
            entries[name] = GroupingNotComputed(computed=False, reason="this stream stores no true labels (an import, or an older run)")
        elif not _differ(sampled):
            entries[name] = GroupingNotComputed(computed=False, reason=f"identical to '{options.labels}': no label was corrupted")
        else:
            entries[name] = _under(sampled, probe, options, name).entry()
    return LabelGroupings(trained=entries["trained"], true=entries["true"])


@dataclass(frozen=True)
class _Models:
    """Each model's tail indices and integrals at the end under one grouping (keys "I" and "L")."""

    tails: dict[str, TailIndices]
    A_end: dict[str, float | None]
    B_end: dict[str, float | None]
    Gamma_end: dict[str, float | None]

    def entry(self) -> GroupingComputed:
        """The grouping's verdicts, r of Gamma, Figure 4c number and integrals at the end, per model."""
        return GroupingComputed(
            computed=True,
            verdict=VerdictByModel(I=self.tails["I"].verdict, L=self.tails["L"].verdict),
            r_gamma=NumberByModel(I=self.tails["I"].Gamma.r_slope, L=self.tails["L"].Gamma.r_slope),
            figure_4c=figure_4c(self.tails["I"], self.tails["L"]),
            A_end=NumberByModel(**self.A_end),
            B_end=NumberByModel(**self.B_end),
            Gamma_end=NumberByModel(**self.Gamma_end),
        )


def _under(sampled: SampledData, probe: ProbeData | None, options: AnalysisOptions, labels: str) -> _Models:
    """The models' integrals, tail indices and verdicts with Xbar grouped by ``labels``."""
    x = analysis_xbar(sampled, probe, options, labels=labels)
    t, xbar = x.t, x.xbar
    K = xbar.shape[1]
    ref = min(options.reference_window, t.size)
    tails: dict[str, TailIndices] = {}
    A_end: dict[str, float | None] = {}
    B_end: dict[str, float | None] = {}
    Gamma_end: dict[str, float | None] = {}
    for model in ("I", "L"):
        est = estimate_integrals(xbar, model=model, reference_window=ref)
        A, B = fill_over_time(est.A), fill_over_time(est.B)
        reps = replicate_integrals(x.replicates, model=model, reference_window=ref, fill=fill_over_time)
        tails[model] = tail_result(model_tail_indices(A, B, t, model=model, K=K, options=options, replicates=reps))
        gamma = np.minimum(A - B, A + (K - 1) * B) if model == "I" else np.minimum(A - B, A + B / (K - 1))
        A_end[model], B_end[model], Gamma_end[model] = float(A[-1]), float(B[-1]), float(gamma[-1])
    return _Models(tails=tails, A_end=A_end, B_end=B_end, Gamma_end=Gamma_end)

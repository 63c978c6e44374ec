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

import numpy as np

from lesde.specs.analysis import AnalysisOptions
from lesde_analyzer.estimation import estimate_integrals
from lesde_analyzer.experiments import compute
from lesde_analyzer.experiments.streams import ProbeData, SampledData
from lesde_analyzer.experiments.verdicts import figure_4c, model_tail_indices, replicate_integrals, tail_json

GROUPINGS = ("trained", "true")


def labels_json(sampled: SampledData, options: AnalysisOptions, source: str) -> dict:
    """Which grouping every number used."""
    xbar = options.labels if source == "sampled" else "true (the probe set is grouped by each sample's class)"
    return {
        "option": options.labels,
        "xbar_estimates_verdict_imitation": xbar,
        "separability": "true (probe set and features, grouped by each sample's class)",
        "neural_collapse": "true (probe set and features, grouped by each sample's class)",
        "samples_figure": "trained (the sampled points' labels)",
        "true_labels_stored": sampled.true_labels_stored,
        "groupings_differ": _differ(sampled),
    }


def _differ(sampled: SampledData) -> bool:
    trained, true = sampled.groupings["trained"], sampled.groupings["true"]
    return not np.array_equal(trained.counts, true.counts) or not np.array_equal(trained.xbar, true.xbar, equal_nan=True)


def grouping_verdicts(sampled: SampledData, probe: ProbeData | None, options: AnalysisOptions, estimates: dict, source: str) -> dict:
    """Per grouping: the verdict (every window) and the Figure 4c number of each model.

    The chosen grouping's entries are those of ``estimates``; the other is computed here (for
    the sampled stream only; on the probe stream both are the true label).
    """
    out: dict = {}
    for name in GROUPINGS:
        if name == options.labels:
            out[name] = _entry(estimates)
        elif source != "sampled":
            out[name] = {"computed": False, "reason": "the estimates use the probe set, which is grouped by the true class"}
        elif not sampled.true_labels_stored:
            out[name] = {"computed": False, "reason": "this stream stores no true labels (an import, or an older run)"}
        elif not _differ(sampled):
            out[name] = {"computed": False, "reason": f"identical to '{options.labels}': no label was corrupted"}
        else:
            out[name] = _entry(_under(sampled, probe, options, name))
    return out


def _entry(estimates: dict) -> dict:
    models = {m: estimates["models"][m]["tail_indices"] for m in ("I", "L")}
    return {
        "computed": True,
        "verdict": {m: models[m]["verdict"] for m in ("I", "L")},
        "r_gamma": {m: models[m]["Gamma"]["r_slope"] for m in ("I", "L")},
        "figure_4c": figure_4c(models),
        "A_end": {m: estimates["models"][m]["A_end"] for m in ("I", "L")},
        "B_end": {m: estimates["models"][m]["B_end"] for m in ("I", "L")},
        "Gamma_end": {m: estimates["models"][m]["Gamma_end"] for m in ("I", "L")},
    }


def _under(sampled: SampledData, probe: ProbeData | None, options: AnalysisOptions, labels: str) -> dict:
    """The models' integrals, tail indices and verdicts with Xbar grouped by ``labels``."""
    t, xbar, _, _, replicates = compute.analysis_xbar(sampled, probe, options, labels=labels)
    K = xbar.shape[1]
    ref = min(options.reference_window, t.size)
    models = {}
    for model in ("I", "L"):
        est = estimate_integrals(xbar, model=model, reference_window=ref)
        A, B = compute.fill_over_time(est.A), compute.fill_over_time(est.B)
        reps = replicate_integrals(replicates, model=model, reference_window=ref, fill=compute.fill_over_time)
        tail = model_tail_indices(A, B, t, model=model, K=K, options=options, replicates=reps)
        gamma = np.minimum(A - B, A + (K - 1) * B) if model == "I" else np.minimum(A - B, A + B / (K - 1))
        models[model] = {"tail_indices": tail_json(tail), "A_end": float(A[-1]), "B_end": float(B[-1]), "Gamma_end": float(gamma[-1])}
    return {"models": models}

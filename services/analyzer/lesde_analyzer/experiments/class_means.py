"""Xbar at the start and the end of an experiment (kept from the first summary format).

The sampled stream (grouped by the ``labels`` option) averaged over its first and last
:data:`~lesde_analyzer.experiments.curves.EDGE_WINDOW` records, and the probe set at its
first and last record.
"""

from __future__ import annotations

from typing import Literal

from lesde_contract.analysis_results.experiment import ClassMeans, ProbeClassMeans, SampledClassMeans
from lesde_contract.json_safe import finite_lists

from lesde_analyzer.estimation.class_means import weighted_window_mean
from lesde_analyzer.experiments.curves import EDGE_WINDOW
from lesde_analyzer.experiments.streams import ProbeData, SampledData

__all__ = ["class_means"]

NOTE = "xbar[k][j]: mean logit j of samples of class k; rows follow 'classes'"


def class_means(sampled: SampledData, probe: ProbeData | None, *, labels: Literal["trained", "true"] = "trained") -> ClassMeans:
    """Xbar at the start and the end; the sampled stream grouped by ``labels`` (the probe set left out when not recorded)."""
    grouping = sampled.groupings[labels]
    T = len(sampled.t)
    edge = min(EDGE_WINDOW, T)
    from_sampled = SampledClassMeans(
        labels=labels,
        window=edge,
        start=finite_lists(weighted_window_mean(grouping.xbar, grouping.counts, slice(0, edge))),
        end=finite_lists(weighted_window_mean(grouping.xbar, grouping.counts, slice(T - edge, None))),
    )
    if probe is None:
        return ClassMeans(note=NOTE, sampled=from_sampled)
    means = probe.grouped.mean(axis=(1, 3))
    from_probe = ProbeClassMeans(
        start_iteration=int(probe.t[0]), end_iteration=int(probe.t[-1]), start=finite_lists(means[0]), end=finite_lists(means[-1])
    )
    return ClassMeans(note=NOTE, sampled=from_sampled, probe=from_probe)

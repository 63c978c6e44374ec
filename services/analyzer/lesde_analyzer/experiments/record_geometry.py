"""Separability (with its chance level) and neural collapse of a recorded stream (probe set or features).

Per record: the neural-collapse metrics per trial (then mean and std over trials), the
ETF distance of the trial-averaged means, and the fraction of trials whose classes are
pairwise strictly linearly separable, checked on up to ``max_records`` records; its
chance level on at most :data:`BASELINE_RECORDS` of them.
"""

from __future__ import annotations

import warnings

import numpy as np
from lesde_contract.analysis_results.geometry import GeometryRecord, RecordGeometry, Separability, SeparabilityTest
from lesde_contract.json_safe import finite_or_none

from lesde_analyzer.experiments.streams import ProbeData
from lesde_analyzer.geometry import etf_distance, nc_metrics, separability_series

__all__ = ["BASELINE_RECORDS", "geometry", "separability"]

BASELINE_RECORDS = 12  # records on which the relabelling baseline of separability is drawn
NC_METRICS = ("nc1", "equinorm", "equiangularity", "etf_distance")


def geometry(data: ProbeData, *, max_records: int, seed: int = 0) -> tuple[RecordGeometry, dict[str, np.ndarray]]:
    """Separability (with its chance baseline) and neural-collapse metrics per record (mean over trials), and their series."""
    S = len(data.t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nc = nc_metrics(data.grouped)  # each (S, R)
        means = data.grouped.mean(axis=(1, 3))  # (S, K, p) over trials and samples
        series = {"t": data.t}
        for name in NC_METRICS:
            value = getattr(nc, name)
            series[name] = np.nanmean(value, axis=1)
            series[f"{name}_std"] = np.nanstd(value, axis=1)
        series["etf_distance_of_means"] = etf_distance(means, normalize=True)
    picked = np.unique(np.linspace(0, S - 1, min(S, max_records)).round().astype(int))
    fraction = np.full(S, np.nan)
    baseline = np.full(S, np.nan)
    checked = separability_series(data.grouped[picked], seed=seed, baseline_draws=0)
    fraction[picked] = checked.fraction
    # The chance level needs an LP for every relabelled pair (none passes the cheap
    # projection test), so it is drawn on at most BASELINE_RECORDS records, evenly spread
    # and always with the first and last: it was most of the analysis time at 100 records.
    few = picked[np.unique(np.linspace(0, picked.size - 1, min(picked.size, BASELINE_RECORDS)).round().astype(int))]
    chance = separability_series(data.grouped[few], seed=seed)
    baseline[few] = chance.baseline_fraction
    series["separable_fraction"] = fraction
    series["separable_fraction_baseline"] = baseline

    def at(s: int) -> GeometryRecord:
        return GeometryRecord(
            t=int(data.t[s]),
            **{name: finite_or_none(series[name][s]) for name in (*NC_METRICS, "etf_distance_of_means")},
            separable_fraction=finite_or_none(fraction[s]),
            separable_fraction_baseline=finite_or_none(baseline[s]),
        )

    test = SeparabilityTest(
        **checked.plan.as_dict(), baseline_draws=chance.baseline_draws, baseline_records=int(few.size), seed=checked.seed
    )
    result = RecordGeometry(
        records=S,
        trials=int(data.grouped.shape[1]),
        per_class=int(data.grouped.shape[3]),
        dimension=int(data.grouped.shape[4]),
        separability_records_checked=int(picked.size),
        separability_test=test,
        initial=at(0),
        final=at(S - 1),
    )
    return result, series


def separability(stream: RecordGeometry) -> Separability:
    """The separability of a stream at its first and last record, read off its geometry."""
    return Separability(
        initial=stream.initial.separable_fraction,
        final=stream.final.separable_fraction,
        initial_baseline=stream.initial.separable_fraction_baseline,
        final_baseline=stream.final.separable_fraction_baseline,
        test=stream.separability_test,
        records_checked=stream.separability_records_checked,
    )

"""The Xbar(t) the estimators run on, and the record arithmetic every estimate shares.

Xbar(t) is the class-mean logits over time: from the sampled training logits (grouped by
the ``labels`` option, smoothed if asked) or from the probe set (grouped by the true
class), with the standard error per record where the stream gives one and the jackknife's
leave-one-group-out means. Times are iterations; records are equally spaced.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from lesde_contract.specs.analysis import AnalysisOptions

from lesde_analyzer.estimation.class_means import moving_average
from lesde_analyzer.estimation.jackknife import leave_one_out_means, trial_groups
from lesde_analyzer.experiments.streams import ProbeData, SampledData

__all__ = ["AnalysisXbar", "analysis_xbar", "fill_over_time", "record_spacing", "uniform_records", "odd_records"]


@dataclass(frozen=True)
class AnalysisXbar:
    """The Xbar(t) the estimators run on.

    Attributes
    ----------
    t : ndarray of shape (T,)
        Record times in iterations.
    xbar : ndarray of shape (T, K, p)
        Class-mean logits.
    source : {"sampled", "probe"}
        The stream they came from.
    record_se : ndarray of shape (T, K) or None
        Standard error of each class mean per record (RMS over coordinates) where the stream
        lets us compute it (the probe set: spread over trials and samples); None for the
        sampled stream, where the imitation estimates it from its window.
    replicates : ndarray of shape (G, T, K, p) or None
        Xbar with each group of trials left out in turn (the jackknife); None below 3 groups.
    """

    t: np.ndarray
    xbar: np.ndarray
    source: Literal["sampled", "probe"]
    record_se: np.ndarray | None
    replicates: np.ndarray | None


def fill_over_time(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over axis 0 of every non-finite entry (edges: nearest finite value)."""
    flat = np.array(x, dtype=np.float64).reshape(len(x), -1)
    t = np.arange(len(x))
    for j in range(flat.shape[1]):
        ok = np.isfinite(flat[:, j])
        if not ok.all() and ok.any():
            flat[:, j] = np.interp(t, t[ok], flat[ok, j])
    return flat.reshape(np.shape(x))


def record_spacing(t: np.ndarray) -> float:
    """The spacing ``h`` (iterations) of equally spaced record times ``t`` of shape (T,)."""
    if t.size < 2:
        return 1.0
    steps = np.diff(t)
    if not np.allclose(steps, steps[0]):
        raise ValueError(f"records are not equally spaced in time (spacings {np.unique(steps)[:5]})")
    return float(steps[0])


def uniform_records(t: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Drop a last record that breaks equal spacing (the probe record at the final iteration).

    The probe stream is recorded every ``probe_every`` iterations and once more at the end
    of training; when the run length is not a multiple of ``probe_every`` that last record
    is closer, and the Savitzky-Golay derivative and the exact LE-ODE step need one spacing.
    """
    if t.size >= 3 and not np.isclose(t[-1] - t[-2], t[1] - t[0]):
        return (t[:-1], *(a[:-1] for a in arrays))
    return (t, *arrays)


def odd_records(iterations: float, h: float, *, minimum: int = 1) -> int:
    """The odd number of records nearest to ``iterations / h``, at least ``minimum``."""
    n = max(int(minimum), int(round(iterations / h)))
    return n if n % 2 else n + 1


def analysis_xbar(sampled: SampledData, probe: ProbeData | None, options: AnalysisOptions, *, labels: str | None = None) -> AnalysisXbar:
    """The Xbar(t) of ``options.source`` (:class:`AnalysisXbar`).

    ``labels`` (default ``options.labels``) picks the sampled stream's grouping; the probe
    set is always grouped by the true class. Replicates are None when fewer than 3 groups
    of trials exist or ``options.jackknife_groups`` is 0 or 1.
    """
    if options.source == "probe" and probe is not None:
        return _probe_xbar(probe, options.jackknife_groups)
    grouping = sampled.groupings[labels or options.labels]
    xbar = grouping.xbar
    has_groups = options.jackknife_groups >= 3 and grouping.group_sums.shape[1] >= 3
    reps = leave_one_out_means(grouping.group_sums, grouping.group_counts) if has_groups else None
    if options.smoothing > 1:
        xbar = moving_average(xbar, grouping.counts, window=options.smoothing)
        if reps is not None:
            rest = grouping.counts[None] - np.moveaxis(grouping.group_counts, 1, 0)
            reps = np.stack([moving_average(x, c, window=options.smoothing) for x, c in zip(reps, rest)])
    # A class no trial trained on at t has no mean there (NaN); with few trials that is
    # common, also at t0 (the estimators' reference), so fill from neighbouring iterations.
    return AnalysisXbar(t=sampled.t.astype(np.float64), xbar=fill_over_time(xbar), source="sampled", record_se=None, replicates=reps)


def _probe_xbar(probe: ProbeData, groups: int) -> AnalysisXbar:
    """Xbar of the probe set: mean over trials and samples, its SE per record, the jackknife's replicates."""
    g = probe.grouped  # (S, R, K, m, p)
    n = g.shape[1] * g.shape[3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.sqrt(np.mean(g.var(axis=(1, 3), ddof=1), axis=-1) / n) if n > 1 else np.zeros(g.shape[:3:2])
    reps = _probe_replicates(g, groups)
    t, xbar, se = uniform_records(probe.t.astype(np.float64), g.mean(axis=(1, 3)), se)
    if reps is not None:
        reps = reps[:, : t.size]
    return AnalysisXbar(t=t, xbar=xbar, source="probe", record_se=se, replicates=reps)


def _probe_replicates(g: np.ndarray, groups: int) -> np.ndarray | None:
    """Leave-one-group-out probe means (G, S, K, p) from probe records (S, R, K, m, p); None below 3 groups."""
    R = g.shape[1]
    if groups < 3 or R < 3:
        return None
    group = trial_groups(R, groups)
    sums = np.stack([g[:, group == k].sum(axis=(1, 3)) for k in range(group.max() + 1)], axis=1)  # (S, G, K, p)
    counts = np.stack(
        [np.full(g.shape[:1] + g.shape[2:3], float(np.count_nonzero(group == k) * g.shape[3])) for k in range(group.max() + 1)], axis=1
    )
    return leave_one_out_means(sums, counts)

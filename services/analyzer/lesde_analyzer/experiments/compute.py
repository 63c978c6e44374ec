"""Every number of the paper from the reduced streams: estimates, rates, tail indices,
verdict, separability, neural collapse, LE-ODE imitation and the training curves.

Pure functions: reduced arrays in, ``(summary, series)`` out, where ``summary`` is the
JSON-ready dict of numbers and ``series`` maps ``"group/name"`` to full-length arrays
(each group shares its time axis ``"group/t"``), stored as NPZ beside the JSON.
"""

from __future__ import annotations

import warnings

import numpy as np

from lesde.json_safe import finite_lists, finite_or_none
from lesde.specs.analysis import AnalysisOptions
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import (
    RateEstimate,
    drift_regression,
    drift_regression_series,
    estimate_integrals,
    gamma_integral,
    savgol_rates,
)
from lesde_analyzer.estimation.jackknife import leave_one_out_means, trial_groups
from lesde_analyzer.geometry import etf_distance, nc_metrics, separability_series
from lesde_analyzer.imitation import default_window, imitate, imitate_authors, signal_onset
from lesde_analyzer.estimation.class_means import moving_average, weighted_window_mean
from lesde_analyzer.experiments.streams import ProbeData, SampledData
from lesde_analyzer.experiments.verdicts import figure_4c, model_tail_indices, replicate_integrals, tail_json

EDGE_WINDOW = 100  # records averaged for "Xbar at start / end"


def fill_over_time(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over axis 0 of every non-finite entry (edges: nearest finite value)."""
    flat = np.array(x, dtype=np.float64).reshape(len(x), -1)
    t = np.arange(len(x))
    for j in range(flat.shape[1]):
        ok = np.isfinite(flat[:, j])
        if not ok.all() and ok.any():
            flat[:, j] = np.interp(t, t[ok], flat[ok, j])
    return flat.reshape(np.shape(x))


def _stats(values: np.ndarray) -> dict[str, float | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {"mean": finite_or_none(np.nanmean(values)), "std": finite_or_none(np.nanstd(values))}


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


def analysis_xbar(
    sampled: SampledData, probe: ProbeData | None, options: AnalysisOptions, *, labels: str | None = None
) -> tuple[np.ndarray, np.ndarray, str, np.ndarray | None, np.ndarray | None]:
    """The Xbar(t) the estimators run on: times (T,) in iterations, means (T, K, p), source,
    per-record SE, and the jackknife's leave-one-group-out means (G, T, K, p) or None.

    The per-record SE is the standard error of each class mean per record, shape (T, K) (RMS
    over coordinates), when the stream lets us compute it (the probe set: spread over trials
    and samples); None for the sampled stream, where the imitation estimates it from its
    window. ``labels`` (default ``options.labels``) picks the sampled stream's grouping; the
    probe set is always grouped by the true class. Replicates are None when fewer than 3
    groups of trials exist or ``options.jackknife_groups`` is 0 or 1.
    """
    groups = options.jackknife_groups
    if options.source == "probe" and probe is not None:
        g = probe.grouped  # (S, R, K, m, p)
        n = g.shape[1] * g.shape[3]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.sqrt(np.mean(g.var(axis=(1, 3), ddof=1), axis=-1) / n) if n > 1 else np.zeros(g.shape[:3:2])
        reps = _probe_replicates(g, groups)
        t, xbar, se = uniform_records(probe.t.astype(np.float64), g.mean(axis=(1, 3)), se)
        if reps is not None:
            reps = reps[:, : t.size]
        return t, xbar, "probe", se, reps
    grouping = sampled.groupings[labels or options.labels]
    xbar = grouping.xbar
    reps = leave_one_out_means(grouping.group_sums, grouping.group_counts) if groups >= 3 and grouping.group_sums.shape[1] >= 3 else None
    if options.smoothing > 1:
        xbar = moving_average(xbar, grouping.counts, window=options.smoothing)
        if reps is not None:
            rest = grouping.counts[None] - np.moveaxis(grouping.group_counts, 1, 0)
            reps = np.stack([moving_average(x, c, window=options.smoothing) for x, c in zip(reps, rest)])
    # A class no trial trained on at t has no mean there (NaN); with few trials that is
    # common, also at t0 (the estimators' reference), so fill from neighbouring iterations.
    return sampled.t.astype(np.float64), fill_over_time(xbar), "sampled", None, reps


def _probe_replicates(g: np.ndarray, groups: int) -> np.ndarray | None:
    """Leave-one-group-out probe means (G, S, K, p) from probe records (S, R, K, m, p); None below 3 groups."""
    R = g.shape[1]
    if groups < 3 or R < 3:
        return None
    group = trial_groups(R, groups)
    sums = np.stack([g[:, group == k].sum(axis=(1, 3)) for k in range(group.max() + 1)], axis=1)  # (S, G, K, p)
    counts = np.stack([np.full(g.shape[:1] + g.shape[2:3], float(np.count_nonzero(group == k) * g.shape[3])) for k in range(group.max() + 1)], axis=1)
    return leave_one_out_means(sums, counts)


def _rates(A: np.ndarray, B: np.ndarray, *, window: int, polyorder: int, step: float):  # noqa: ANN202
    """Savitzky-Golay rates per iteration; all-NaN rates where an integral has no finite value at all."""
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        nan = np.full(A.shape, np.nan)
        w = min(window, A.size if A.size % 2 else A.size - 1)
        return RateEstimate(alpha=nan, beta=nan, window=w, polyorder=polyorder)
    return savgol_rates(A, B, window=window, polyorder=polyorder, step=step)


def _tail_mask(t: np.ndarray, span: float) -> np.ndarray:
    """Records in the last ``span`` iterations (at least one)."""
    mask = t >= t[-1] - span
    mask[-1] = True
    return mask


def estimates(
    t: np.ndarray, xbar: np.ndarray, options: AnalysisOptions, *, record_se: np.ndarray | None = None, replicates: np.ndarray | None = None,
    class_weights: list[float] | None = None,
) -> tuple[dict, dict]:
    """Ahat, Bhat (I, L), alpha-hat, beta-hat, tail indices, verdict, drift regression, imitation.

    Parameters
    ----------
    t : ndarray of shape (T,)
        Record times in iterations, equally spaced by ``h``.
    xbar : ndarray of shape (T, K, K)
        Class-mean logits.
    record_se : ndarray of shape (T, K), optional
        Standard error of each class mean per record (for the imitation's start ensemble).
    replicates : ndarray of shape (G, T, K, K), optional
        Xbar with each group of trials left out in turn: the tail indices' jackknife.
    class_weights : K floats, optional
        Probability that a step trains each class (``lesde.specs.sampling``); the drift
        regression weights the blocks by them (None: 1/K).

    Every rate is per iteration and every window is given (and reported) in iterations,
    whatever the spacing of the records (section 4 of the science issue).
    """
    T, K, _ = xbar.shape
    h = record_spacing(t)
    filled = fill_over_time(xbar)
    ref = min(options.reference_window, T)
    polyorder = options.savgol_polyorder
    sg = min(odd_records(options.savgol_window, h, minimum=polyorder + 2), T if T % 2 else T - 1)
    late = _tail_mask(t, options.tail_window)
    series: dict[str, np.ndarray] = {"xbar": xbar}
    summary: dict = {
        "records": T,
        "record_spacing": h,
        "unit": "per iteration",
        "reference_window": ref,
        "savgol_window": {"iterations": sg * h, "records": sg},
        "models": {},
    }
    integrals = {}
    for model in ("I", "L"):
        est = estimate_integrals(xbar, model=model, reference_window=ref)
        A, B = fill_over_time(est.A), fill_over_time(est.B)
        integrals[model] = (A, B)
        rates = _rates(A, B, window=sg, polyorder=polyorder, step=h)
        reps = replicate_integrals(replicates, model=model, reference_window=ref, fill=fill_over_time)
        tail = model_tail_indices(A, B, t, model=model, K=K, options=options, replicates=reps)
        gamma = gamma_integral(A, B, model=model, K=K).values
        series |= {f"A_{model}": A, f"B_{model}": B, f"Gamma_{model}": gamma, f"alpha_{model}": rates.alpha, f"beta_{model}": rates.beta}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            summary["models"][model] = {
                "A_end": finite_or_none(A[-1]),
                "B_end": finite_or_none(B[-1]),
                "Gamma_end": finite_or_none(gamma[-1]),
                "savgol_window": rates.window * h,
                "savgol_polyorder": rates.polyorder,
                "alpha_tail_mean": finite_or_none(np.mean(rates.alpha[late])),
                "beta_tail_mean": finite_or_none(np.mean(rates.beta[late])),
                "gamma_tail_mean": finite_or_none(np.mean(rates.alpha[late] - rates.beta[late])),
                "tail_span": options.tail_window,
                "tail_indices": tail_json(tail),
            }
    chosen = summary["models"][options.estimator]
    summary["estimator"] = options.estimator
    summary["tail_indices"] = chosen["tail_indices"]
    summary["verdict"] = chosen["tail_indices"]["verdict"]
    summary["figure_4c"] = figure_4c({m: summary["models"][m]["tail_indices"] for m in ("I", "L")})
    summary["drift_regression"], drift_series = _drift(t, filled, options, weights=class_weights)
    series |= drift_series
    summary["imitation"], imitation_series = _imitations(t, filled, integrals, options, record_se=record_se)
    series |= imitation_series
    return summary, series


def _drift(t: np.ndarray, filled: np.ndarray, options: AnalysisOptions, *, weights: list[float] | None = None) -> tuple[dict, dict]:
    """The drift regression over the late window, or the reason it was not reported."""
    h = record_spacing(t)
    smooth = odd_records(options.drift_smoothing, h) * h
    # H >= 2 w (the smoothed noise must not be shared by the increment and its regressor),
    # a whole number of records
    horizon = options.drift_horizon or 2 * smooth
    horizon = float(np.ceil(horizon / h) * h)
    settings = {"model": options.estimator, "smoothing": smooth, "horizon": horizon, "unit": "per iteration",
                "class_weights": None if weights is None else [float(w) for w in weights]}
    if not np.isfinite(filled).all():
        return {**settings, "reported": False, "reason": "Xbar has no finite value for some class"}, {}
    try:
        fit = drift_regression(filled, t, model=options.estimator, smooth=smooth, horizon=horizon, weights=weights)
        along = drift_regression_series(filled, t, model=options.estimator, smooth=smooth, horizon=horizon, weights=weights)
    except InvalidArgument as error:
        return {**settings, "reported": False, "reason": f"not enough records: {error}"}, {}
    out = {
        **settings,
        "reported": bool(fit.reliable),
        "alpha": finite_or_none(fit.alpha) if fit.reliable else None,
        "beta": finite_or_none(fit.beta) if fit.reliable else None,
        "alpha_se": finite_or_none(fit.alpha_se),
        "beta_se": finite_or_none(fit.beta_se),
        "window": [float(fit.start), float(fit.end)],
        "blocks": int(fit.blocks),
        "reason": fit.reason or None,
        "unreliable_estimate": None if fit.reliable else {"alpha": finite_or_none(fit.alpha), "beta": finite_or_none(fit.beta)},
    }
    series = {
        "drift_t": along.times,
        "drift_alpha": along.alpha,
        "drift_beta": along.beta,
        "drift_alpha_se": along.alpha_se,
        "drift_beta_se": along.beta_se,
        "drift_reliable": along.reliable.astype(np.int8),
    }
    return out, series


def _onset(filled: np.ndarray, model: str, window: int, snr: float):  # noqa: ANN202
    """Where the model's modes stand clear of their noise (None: start at the first record, as asked)."""
    return None if snr == 0 else signal_onset(filled, model=model, window=window, snr=snr)


def _onset_json(onset, snr: float, t: np.ndarray) -> dict:  # noqa: ANN001
    if onset is None:
        return {"snr": 0.0, "record": 0, "iteration": finite_or_none(t[0]), "reached": None}
    return {"snr": snr, "record": onset.record, "iteration": finite_or_none(t[onset.record]), "reached": onset.reached}


def _imitations(t: np.ndarray, filled: np.ndarray, integrals: dict, options: AnalysisOptions, *, record_se: np.ndarray | None) -> tuple[dict, dict]:
    """The LE-ODE imitation with each model's own rates and dynamics (or the authors' procedure)."""
    T = len(t)
    h = record_spacing(t)
    sg = min(odd_records(options.imitation_window, h, minimum=options.savgol_polyorder + 2), T if T % 2 else T - 1)
    start = default_window(T) if options.imitation_start_window == 0 else odd_records(options.imitation_start_window, h)
    start = min(start, T if T % 2 else T - 1)
    summary: dict = {}
    series: dict = {}
    for model in ("I", "L"):
        A, B = integrals[model]
        rates = _rates(A, B, window=sg, polyorder=options.savgol_polyorder, step=h)
        if not (np.isfinite(rates.alpha).all() and np.isfinite(rates.beta).all()):
            summary[model] = {"skipped": "no finite alpha-hat, beta-hat (degenerate class means)"}
            continue
        onset = None
        if options.imitation == "authors":
            sim = imitate_authors(filled, alpha_hat=rates.alpha, beta_hat=rates.beta, times=t, runs=options.imitation_runs, seed=options.seed)
        else:
            onset = _onset(filled, model, start, options.imitation_onset_snr)
            if onset is not None and not onset.reached:
                summary[model] = {
                    "failed": (
                        f"the {model}-model's modes never stand {options.imitation_onset_snr:g} times clear of their "
                        f"per-record noise (best {np.nanmax(onset.snr):.2f}): no onset to start the LE-ODE from "
                        "(imitation_onset_snr: 0 starts at the first record anyway)"
                    ),
                    "onset": _onset_json(onset, options.imitation_onset_snr, t),
                }
                continue
            first = onset.record if onset is not None else 0
            window = slice(first, first + start)
            se = None if record_se is None else np.sqrt(np.nanmean(record_se[window] ** 2, axis=0) / start)
            sim = imitate(
                filled, times=t, alpha_hat=rates.alpha, beta_hat=rates.beta, model=model, start_window=start, first_record=first, initial_se=se
            )
        series |= {f"leode_mean_{model}": sim.mean, f"leode_std_{model}": sim.std}
        summary[model] = {
            "procedure": options.imitation,
            "procedure_description": sim.procedure,
            "model": sim.model,
            "nrmse": finite_or_none(sim.nrmse),
            "nrmse_per_class": [finite_or_none(v) for v in sim.nrmse_per_class],
            "nrmse_hold": finite_or_none(sim.nrmse_hold),
            "skill": finite_or_none(sim.skill),
            "scored_share": finite_or_none(sim.scored_share),
            "order_agrees": sim.order_agrees.tolist(),
            "all_orders_agree": sim.all_orders_agree,
            "orthogonal_share": [finite_or_none(v) for v in sim.orthogonal_share],
            "t0": finite_or_none(sim.t0),
            "onset": None if options.imitation == "authors" else _onset_json(onset, options.imitation_onset_snr, t),
            "start_window": {"records": sim.start_window, "iterations": sim.start_window * h},
            "end_window": {"records": sim.end_window, "iterations": sim.end_window * h},
            "initial_se": [finite_or_none(v) for v in np.atleast_1d(sim.initial_se)],
            "step": sim.step,
            "step_kind": sim.step_kind,
            "interval_rate": sim.interval_rate,
            "runs": sim.runs,
            "scale": finite_or_none(sim.scale),
            "savgol_window": rates.window * h,
        }
    return summary, series


BASELINE_RECORDS = 12  # records on which the relabelling baseline of separability is drawn


def geometry(data: ProbeData, *, max_records: int, seed: int = 0) -> tuple[dict, dict]:
    """Separability (with its chance baseline) and neural-collapse metrics per record (mean over trials)."""
    S = len(data.t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        nc = nc_metrics(data.grouped)  # each (S, R)
        means = data.grouped.mean(axis=(1, 3))  # (S, K, p) over trials and samples
        series = {"t": data.t}
        for name in ("nc1", "equinorm", "equiangularity", "etf_distance"):
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

    def at(s: int) -> dict:
        return {
            "t": int(data.t[s]),
            **{name: finite_or_none(series[name][s]) for name in ("nc1", "equinorm", "equiangularity", "etf_distance", "etf_distance_of_means")},
            "separable_fraction": finite_or_none(fraction[s]),
            "separable_fraction_baseline": finite_or_none(baseline[s]),
        }

    summary = {
        "records": S,
        "trials": int(data.grouped.shape[1]),
        "per_class": int(data.grouped.shape[3]),
        "dimension": int(data.grouped.shape[4]),
        "separability_records_checked": int(picked.size),
        "separability_test": checked.plan.as_dict() | {"baseline_draws": chance.baseline_draws, "baseline_records": int(few.size), "seed": checked.seed},
        "initial": at(0),
        "final": at(S - 1),
    }
    return summary, series


def curves(sampled: SampledData, evals: dict | None) -> tuple[dict, dict]:
    """Loss and accuracy: sampled training loss per iteration, eval records (mean and std over trials),
    and the first and last eval record (``initial``, ``final``)."""
    summary: dict = {"sampled_loss_end": finite_or_none(np.nanmean(sampled.loss[-min(EDGE_WINDOW, len(sampled.loss)) :]))}
    series: dict = {}
    if evals is not None:
        series["t"] = evals["iteration"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for name in ("val_loss", "val_acc", "train_loss", "train_acc"):
                series[f"{name}_mean"] = np.nanmean(evals[name], axis=1)
                series[f"{name}_std"] = np.nanstd(evals[name], axis=1)
                # trials that have learned and trials that have not yet make a bimodal spread,
                # which a mean +- std band misdraws (below 0 loss, above 1 accuracy)
                series[f"{name}_q25"], series[f"{name}_q75"] = np.nanpercentile(evals[name], [25, 75], axis=1)
        # the first record is before any update (validation loss near log K): a sweep marks it
        summary["initial"] = _eval_record(evals, 0)
        summary["final"] = _eval_record(evals, -1)
    return summary, series


def _eval_record(evals: dict, row: int) -> dict:
    """Iteration, accuracies and losses (mean and std over trials) of eval record ``row``."""
    return {
        "iteration": int(evals["iteration"][row]),
        "train_accuracy": _stats(evals["train_acc"][row]),
        "validation_accuracy": _stats(evals["val_acc"][row]),
        "train_loss": _stats(evals["train_loss"][row]),
        "validation_loss": _stats(evals["val_loss"][row]),
    }


def class_means_json(sampled: SampledData, probe: ProbeData | None, *, labels: str = "trained") -> dict:
    """Xbar at the start and the end (kept from the first summary format); the sampled stream grouped by ``labels``."""
    grouping = sampled.groupings[labels]
    T = len(sampled.t)
    edge = min(EDGE_WINDOW, T)
    out = {
        "note": "xbar[k][j]: mean logit j of samples of class k; rows follow 'classes'",
        "sampled": {
            "labels": labels,
            "window": edge,
            "start": finite_lists(weighted_window_mean(grouping.xbar, grouping.counts, slice(0, edge))),
            "end": finite_lists(weighted_window_mean(grouping.xbar, grouping.counts, slice(T - edge, None))),
        },
    }
    if probe is not None:
        means = probe.grouped.mean(axis=(1, 3))
        out["probe"] = {
            "start_iteration": int(probe.t[0]),
            "end_iteration": int(probe.t[-1]),
            "start": finite_lists(means[0]),
            "end": finite_lists(means[-1]),
        }
    return out

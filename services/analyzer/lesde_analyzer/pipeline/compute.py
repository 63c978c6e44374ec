"""Every number of the paper from the reduced streams: estimates, rates, tail indices,
verdict, separability, neural collapse, LE-ODE imitation and the training curves.

Pure functions: reduced arrays in, ``(summary, series)`` out, where ``summary`` is the
JSON-ready dict of numbers and ``series`` maps ``"group/name"`` to full-length arrays
(each group shares its time axis ``"group/t"``), stored as NPZ beside the JSON.
"""

from __future__ import annotations

import warnings

import numpy as np

from lesde.specs.analysis import AnalysisOptions
from lesde_analyzer.estimation import RateEstimate, drift_regression, estimate_integrals, savgol_rates, tail_indices
from lesde_analyzer.geometry import etf_distance, nc_metrics, pairwise_separable
from lesde_analyzer.imitation import imitate
from lesde_analyzer.pipeline.class_means import moving_average, weighted_window_mean
from lesde_analyzer.pipeline.streams import ProbeData, SampledData

EDGE_WINDOW = 100  # records averaged for "Xbar at start / end"


def finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def listify(array: np.ndarray) -> list:
    """Nested lists with NaN/inf as None (valid JSON)."""
    a = np.asarray(array, dtype=np.float64).round(8)
    return np.where(np.isfinite(a), a, None).tolist()


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


def _tail_json(tail) -> dict:  # noqa: ANN001
    def one(index) -> dict:  # noqa: ANN001
        return {
            "r": finite_or_none(index.r),
            "slope": finite_or_none(index.slope),
            "r_slope": finite_or_none(index.r_slope),
            "flipped": index.flipped,
            "window": [finite_or_none(v) for v in index.window],
            "n_points": index.n_points,
        }

    verdict = tail.verdict
    return {
        "A": one(tail.A),
        "B": one(tail.B),
        "Gamma": one(tail.Gamma),
        "r_min_alpha_beta": finite_or_none(np.nanmin([tail.A.r, tail.B.r])) if np.isfinite([tail.A.r, tail.B.r]).any() else None,
        "verdict": {
            "separable": verdict.separable,
            "label": verdict.label,
            "r_gamma": finite_or_none(verdict.r_gamma),
            "tolerance": verdict.tolerance,
        },
    }


def analysis_xbar(sampled: SampledData, probe: ProbeData | None, options: AnalysisOptions) -> tuple[np.ndarray, np.ndarray, str]:
    """The Xbar(t) the estimators run on, its times and its source name."""
    if options.source == "probe" and probe is not None:
        return probe.t.astype(np.float64), probe.grouped.mean(axis=(1, 3)), "probe"
    xbar = sampled.xbar
    if options.smoothing > 1:
        xbar = moving_average(xbar, sampled.counts, window=options.smoothing)
    # A class no trial trained on at t has no mean there (NaN); with few trials that is
    # common, also at t0 (the estimators' reference), so fill from neighbouring iterations.
    return sampled.t.astype(np.float64), fill_over_time(xbar), "sampled"


def _rates(A: np.ndarray, B: np.ndarray, *, window: int, polyorder: int):  # noqa: ANN202
    """Savitzky-Golay rates; all-NaN rates where an integral has no finite value at all."""
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        nan = np.full(A.shape, np.nan)
        w = min(window, A.size if A.size % 2 else A.size - 1)
        return RateEstimate(alpha=nan, beta=nan, window=w, polyorder=polyorder)
    return savgol_rates(A, B, window=window, polyorder=polyorder)


def estimates(t: np.ndarray, xbar: np.ndarray, options: AnalysisOptions) -> tuple[dict, dict]:
    """Ahat, Bhat (I, L, drift regression), alpha-hat, beta-hat, tail indices, verdict, imitation."""
    T, K, _ = xbar.shape
    filled = fill_over_time(xbar)
    ref = min(options.reference_window, T)
    series: dict[str, np.ndarray] = {"xbar": xbar}
    summary: dict = {"records": T, "reference_window": ref, "models": {}}
    integrals = {}
    for model in ("I", "L"):
        est = estimate_integrals(xbar, model=model, reference_window=ref)
        A, B = fill_over_time(est.A), fill_over_time(est.B)
        integrals[model] = (A, B)
        rates = _rates(A, B, window=options.savgol_window, polyorder=options.savgol_polyorder)
        tail = tail_indices(A, B, times=t, last=min(options.tail_window, T), tolerance=options.verdict_tolerance)
        series |= {f"A_{model}": A, f"B_{model}": B, f"alpha_{model}": rates.alpha, f"beta_{model}": rates.beta}
        edge = slice(max(0, T - min(options.tail_window, T)), None)
        summary["models"][model] = {
            "A_end": finite_or_none(A[-1]),
            "B_end": finite_or_none(B[-1]),
            "savgol_window": rates.window,
            "savgol_polyorder": rates.polyorder,
            "alpha_tail_mean": finite_or_none(np.mean(rates.alpha[edge])),
            "beta_tail_mean": finite_or_none(np.mean(rates.beta[edge])),
            "gamma_tail_mean": finite_or_none(np.mean(rates.alpha[edge] - rates.beta[edge])),
            "tail_indices": _tail_json(tail),
        }
    chosen = summary["models"][options.estimator]
    summary["estimator"] = options.estimator
    summary["tail_indices"] = chosen["tail_indices"]
    summary["verdict"] = chosen["tail_indices"]["verdict"]

    drift_window = min(options.drift_window, T - 1 if (T - 1) % 2 == 1 else T - 2)
    if drift_window >= 1 and np.isfinite(filled).all():
        drift = drift_regression(filled, model=options.estimator, window=drift_window)
        series |= {"drift_alpha": drift.alpha, "drift_beta": drift.beta, "drift_alpha_se": drift.alpha_se, "drift_beta_se": drift.beta_se}
        edge = slice(max(0, T - min(options.tail_window, T)), None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            summary["drift_regression"] = {
                "model": options.estimator,
                "window": drift.window,
                "alpha_tail_median": finite_or_none(np.nanmedian(drift.alpha[edge])),
                "beta_tail_median": finite_or_none(np.nanmedian(drift.beta[edge])),
                "note": "alpha, beta regressed directly from increments of Xbar (ours, not in the paper)",
            }

    summary["imitation"] = {}
    if np.isfinite(filled[0]).all():
        for model in ("I", "L"):
            A, B = integrals[model]
            rates = _rates(A, B, window=options.imitation_window, polyorder=options.savgol_polyorder)
            if not (np.isfinite(rates.alpha).all() and np.isfinite(rates.beta).all()):
                summary["imitation"][model] = {"skipped": "no finite alpha-hat, beta-hat (degenerate class means)"}
                continue
            sim = imitate(
                filled, alpha_hat=rates.alpha, beta_hat=rates.beta, runs=options.imitation_runs, seed=options.seed
            )
            series |= {f"leode_mean_{model}": sim.mean, f"leode_std_{model}": sim.std}
            summary["imitation"][model] = {
                "nrmse": finite_or_none(sim.nrmse),
                "scale": finite_or_none(sim.scale),
                "order_agrees": sim.order_agrees.tolist(),
                "all_orders_agree": sim.all_orders_agree,
                "runs": sim.runs,
                "savgol_window": rates.window,
            }
    return summary, series


def geometry(data: ProbeData, *, max_records: int) -> tuple[dict, dict]:
    """Separable fraction of trials and neural-collapse metrics per record (mean over trials)."""
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
    for s in picked:
        fraction[s] = pairwise_separable(data.grouped[s]).mean()
    series["separable_fraction"] = fraction

    def at(s: int) -> dict:
        return {
            "t": int(data.t[s]),
            **{name: finite_or_none(series[name][s]) for name in ("nc1", "equinorm", "equiangularity", "etf_distance", "etf_distance_of_means")},
            "separable_fraction": finite_or_none(fraction[s]),
        }

    summary = {
        "records": S,
        "trials": int(data.grouped.shape[1]),
        "per_class": int(data.grouped.shape[3]),
        "dimension": int(data.grouped.shape[4]),
        "separability_records_checked": int(picked.size),
        "initial": at(0),
        "final": at(S - 1),
    }
    return summary, series


def curves(sampled: SampledData, evals: dict | None) -> tuple[dict, dict]:
    """Loss and accuracy: sampled training loss per iteration, eval records (mean and std over trials)."""
    summary: dict = {"sampled_loss_end": finite_or_none(np.nanmean(sampled.loss[-min(EDGE_WINDOW, len(sampled.loss)) :]))}
    series: dict = {}
    if evals is not None:
        series["t"] = evals["iteration"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for name in ("val_loss", "val_acc", "train_loss", "train_acc"):
                series[f"{name}_mean"] = np.nanmean(evals[name], axis=1)
                series[f"{name}_std"] = np.nanstd(evals[name], axis=1)
        summary["final"] = {
            "iteration": int(evals["iteration"][-1]),
            "train_accuracy": _stats(evals["train_acc"][-1]),
            "validation_accuracy": _stats(evals["val_acc"][-1]),
            "train_loss": _stats(evals["train_loss"][-1]),
            "validation_loss": _stats(evals["val_loss"][-1]),
        }
    return summary, series


def class_means_json(sampled: SampledData, probe: ProbeData | None) -> dict:
    """Xbar at the start and the end (kept from the first summary format)."""
    T = len(sampled.t)
    edge = min(EDGE_WINDOW, T)
    out = {
        "note": "xbar[k][j]: mean logit j of samples of class k; rows follow 'classes'",
        "sampled": {
            "window": edge,
            "start": listify(weighted_window_mean(sampled.xbar, sampled.counts, slice(0, edge))),
            "end": listify(weighted_window_mean(sampled.xbar, sampled.counts, slice(T - edge, None))),
        },
    }
    if probe is not None:
        means = probe.grouped.mean(axis=(1, 3))
        out["probe"] = {
            "start_iteration": int(probe.t[0]),
            "end_iteration": int(probe.t[-1]),
            "start": listify(means[0]),
            "end": listify(means[-1]),
        }
    return out

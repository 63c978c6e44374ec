"""The analysis of one stored experiment: read the streams, compute, assemble the JSON.

``analyse_experiment`` returns ``(summary, series)``; :mod:`.run` stores them and the
figures. Experiments still training are analysed up to the manifest's
``iterations_done`` and marked ``"partial": true``.
"""

from __future__ import annotations

import numpy as np

from lesde.specs.analysis import AnalysisOptions, options_key
from lesde.storage import ObjectStore
from lesde_analyzer.pipeline import compute
from lesde_analyzer.pipeline.reader import read_manifest
from lesde_analyzer.pipeline.streams import read_eval, read_probe, read_sampled

FORMAT_VERSION = 2


def analysis_notes(est: dict, options: AnalysisOptions) -> dict[str, str]:
    """What each number of the summary means, with the settings it was computed with."""
    h = est["record_spacing"]
    chosen = est["models"][options.estimator]["tail_indices"]
    drift = est["drift_regression"]
    imitation = next((v for v in est["imitation"].values() if "procedure" in v), None)
    notes = {
        "time": "t counts SGD updates; sampled logits at t are from the forward pass before update t, "
        "probe/eval/features records at t describe the models after t updates",
        "unit": f"every rate is per iteration and every window is in iterations; the estimates' records are {h:g} "
        "iteration(s) apart and the Savitzky-Golay derivative is taken with that spacing",
        "xbar_sampled": "mean over trials of the sampled logits grouped by trained label (the authors' way)",
        "xbar_probe": "mean over trials and probe samples of each true class",
        "rates": f"alpha-hat, beta-hat: Savitzky-Golay first derivative (window {est['savgol_window']['iterations']:g} "
        f"iterations, order {options.savgol_polyorder}) of Ahat, Bhat; *_tail_mean: mean over the last {options.tail_window} iterations",
        "tail_indices": f"Gamma = {chosen['gamma_definition']}. r_slope: the tail index r of a fit "
        "F(t) = F0 + c((1+t)^(1-r) - 1)/(1-r) over the verdict window (the slope of log|F - F_inf| against log t, "
        "free of the constant factor), with a HAC standard error; r_plain_slope: 1 - slope of log|F| (tends to 1 "
        f"from below whenever r > 1); r_hat: the authors' 1 - mean log|F|/log(1+t) over the last {options.tail_window} "
        "iterations (biased by a constant factor); r_min_alpha_beta: min of the authors' r_hat of A and B (their Figure 4c)",
        "verdict": "Theorem 3.1 from r_slope of Gamma: separable when r < 1 and not separable when r > 1, each beyond the "
        f"band max(2 SE, {options.verdict_tolerance}); inconclusive inside it; not separable when Gamma decreases "
        "(gamma < 0: no local elasticity)",
        "drift_regression": f"alpha, beta regressed on Xbar smoothed over {drift['smoothing']:g} iterations: increments over "
        f"H = {drift['horizon']:g} iterations on the integrated regressors, one fit over the late window, standard errors "
        "from overlapping batch means; reported only when its blocks and standard error make it reliable (ours, not in the paper)",
        "neural_collapse": "per trial on the probe features, then mean over trials; "
        "etf_distance_of_means: ETF distance of the normalised trial-averaged class means (Proposition 3.4)",
        "separability": "fraction of trials whose classes are pairwise strictly linearly separable (exact LP test), only "
        "where the points can refute it: in the full dimension when a random labelling of one pair is separable with "
        "probability below 5% (Cover's count), else on one fixed random projection to the largest dimension that meets "
        "it ('test' says which); *_baseline: the same test on the same points randomly relabelled within each pair",
    }
    if imitation is not None and imitation["procedure"] != "authors":
        notes["imitation"] = (
            "LE-ODE of each model with its own rates (I: I-model dynamics and estimates; L: L-model), started from the "
            f"genuine Xbar averaged over the first {imitation['start_window']['iterations']:g} iterations and placed at the "
            f"window's centre t0 = {imitation['t0']:g}; each record interval ({h:g} iterations) is stepped exactly "
            "(exp(lambda h) on each mode, the rate of the interval the mean of its end rates); no rescaling. mean: the "
            "solution from Xbar(t0); std: spread from the start state's standard error. nrmse = sqrt(mean (X_sim - "
            "Xbar)^2)/sqrt(mean Xbar^2) over t >= t0, classes and logits; order_agrees: the K logits of each class rank "
            "alike at the end; orthogonal_share: share of each class's centred end-logit energy orthogonal to d_k, "
            "which an LE-ODE moving class k along d_k cannot reach. The I-model keeps the direction of each class's "
            "offset from the class average at t0, which the random initialisation sets, so its nrmse can exceed 1"
        )
    elif imitation is not None:
        notes["imitation"] = (
            "THE AUTHORS' PROCEDURE (imitation = 'authors'), kept to reproduce their Figure 5: runs from N(0, "
            "(|Xbar(0)|/sqrt K)^2), forward Euler, the mean multiplied by one signed factor fitted to the data. It is "
            "ill-posed (the mean of the runs is Monte-Carlo noise around 0): do not read its nrmse as a fit"
        )
    return notes


def analyse_experiment(
    store: ObjectStore, job_id: str, *, options: AnalysisOptions, class_names: list[str] | None = None
) -> tuple[dict, dict[str, np.ndarray]]:
    """Compute every number of the analysis of ``job_id``.

    Returns
    -------
    summary : dict
        JSON-ready numbers (outline in the README / the report).
    series : dict of str to ndarray
        ``"group/name"`` -> full-length arrays; groups ``estimates`` (time axis of the chosen
        source), ``sampled``, ``probe``, ``features``, ``eval``, ``samples``.
    """
    manifest = read_manifest(store, job_id)
    sampled = read_sampled(store, job_id, manifest=manifest)
    K = sampled.xbar.shape[1]
    names = list(class_names) if class_names and len(class_names) == K else [str(k) for k in range(K)]
    probe = read_probe(store, job_id, "probe", manifest=manifest, classes=K)
    features = read_probe(store, job_id, "features", manifest=manifest, classes=K)
    evals = read_eval(store, job_id, manifest=manifest)

    t, xbar, source, record_se = compute.analysis_xbar(sampled, probe, options)
    est_summary, est_series = compute.estimates(t, xbar, options, record_se=record_se)
    curve_summary, curve_series = compute.curves(sampled, evals)

    series: dict[str, np.ndarray] = {"estimates/t": t}
    series |= {f"estimates/{name}": value for name, value in est_series.items()}
    series |= {
        "sampled/t": sampled.t,
        "sampled/xbar": sampled.xbar,
        "sampled/counts": sampled.counts,
        "sampled/loss": sampled.loss,
        "samples/t": sampled.sample_t,
        "samples/label": sampled.sample_label,
        "samples/logits": sampled.sample_logits,
    }
    if probe is not None:
        series |= {"probe/t": probe.t, "probe/xbar": probe.grouped.mean(axis=(1, 3))}
    series |= {f"eval/{name}": value for name, value in curve_series.items()}

    geometry = {}
    for name, data in (("probe", probe), ("features", features)):
        if data is not None:
            geo_summary, geo_series = compute.geometry(data, max_records=options.max_separability_records, seed=options.seed)
            geometry[name] = geo_summary
            series |= {f"{name}/{key}": value for key, value in geo_series.items()}

    done = manifest.iterations_done
    summary = {
        "version": FORMAT_VERSION,
        "job_id": job_id,
        "partial": not manifest.complete,
        "iterations_done": done,
        "options": options.model_dump(mode="json"),
        "options_key": options_key(options),
        "classes": names,
        "iterations": int(sampled.t[-1]) + 1,
        "trials": sampled.trials,
        "streams": {
            "sampled": {"records": len(sampled.t), "first": int(sampled.t[0]), "last": int(sampled.t[-1])},
            "probe": None if probe is None else {"records": len(probe.t), "per_class": int(probe.grouped.shape[3])},
            "features": None if features is None else {"records": len(features.t), "dimension": int(features.grouped.shape[4])},
            "eval": None if evals is None else {"records": int(len(evals["iteration"]))},
        },
        "source": source,
        "estimates": est_summary,
        "tail_indices": est_summary["tail_indices"],
        "verdict": est_summary["verdict"],
        "separability": {
            name: {
                "initial": g["initial"]["separable_fraction"],
                "final": g["final"]["separable_fraction"],
                "initial_baseline": g["initial"]["separable_fraction_baseline"],
                "final_baseline": g["final"]["separable_fraction_baseline"],
                "test": g["separability_test"],
                "records_checked": g["separability_records_checked"],
            }
            for name, g in geometry.items()
        },
        "neural_collapse": geometry,
        "imitation": est_summary["imitation"],
        "curves": curve_summary,
        "class_means": compute.class_means_json(sampled, probe),
        "notes": analysis_notes(est_summary, options),
    }
    if "final" in curve_summary:
        summary["final"] = curve_summary["final"]
    return summary, series

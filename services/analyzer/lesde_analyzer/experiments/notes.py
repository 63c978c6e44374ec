"""What each number of an experiment's analysis means, with the settings it was computed with.

Stored beside the numbers (``summary["notes"]``): a reader of the JSON has no code beside it.
"""

from __future__ import annotations

from lesde_contract.analysis_results.estimates import Estimates
from lesde_contract.analysis_results.experiment import AnalysisNotes
from lesde_contract.analysis_results.imitation import ImitationFit
from lesde_contract.specs.analysis import AnalysisOptions

__all__ = ["analysis_notes"]


def analysis_notes(est: Estimates, options: AnalysisOptions, *, sampling: str) -> AnalysisNotes:
    """What each number of the summary means, with the settings it was computed with; ``sampling``
    says which class sampling the drift regression assumed."""
    h = est.record_spacing
    chosen = getattr(est.models, options.estimator).tail_indices
    drift = est.drift_regression
    imitation = next((fit for fit in (est.imitation.I, est.imitation.L) if isinstance(fit, ImitationFit)), None)
    notes = {
        "time": "t counts SGD updates; sampled logits at t are from the forward pass before update t, "
        "probe/eval/features records at t describe the models after t updates",
        "unit": f"every rate is per iteration and every window is in iterations; the estimates' records are {h:g} "
        "iteration(s) apart and the Savitzky-Golay derivative is taken with that spacing",
        "xbar_sampled": f"mean over trials of the sampled logits grouped by {options.labels} label"
        + (
            " (the authors' way)"
            if options.labels == "trained"
            else " (the class before label noise; the authors group by the trained label)"
        ),
        "xbar_probe": "mean over trials and probe samples of each true class",
        "rates": f"alpha-hat, beta-hat: Savitzky-Golay first derivative (window {est.savgol_window.iterations:g} "
        f"iterations, order {options.savgol_polyorder}) of Ahat, Bhat; *_tail_mean: mean over the last {options.tail_window} iterations",
        "tail_indices": f"Gamma = {chosen.gamma_definition}. r_slope: the tail index r of a weighted least-squares fit "
        "of F(t) = F0 + c((1+t)^(1-r) - 1)/(1-r) to the medians of F in 40 log-time bins of the window (free of the "
        "constant offset and factor); standard errors: "
        + (
            f"a jackknife over {options.jackknife_groups} groups of trials (each left out in turn, Xbar and the fit recomputed)"
            if options.jackknife_groups >= 3
            else "time series (Newey-West on the binned residuals)"
        )
        + "; se_method names what each used. A fit at its search bound is no estimate (r_slope null, at_bound true). "
        "r_plain_slope: 1 - slope of log|F| (tends to 1 from below whenever r > 1); r_hat: the authors' 1 - mean "
        f"log|F|/log(1+t) over the last {options.tail_window} iterations (biased by a constant factor); "
        "figure_4c: min(r_hat of A, r_hat of B) of the I-model, the paper's Figure 4c number (the L-model's beside it, ours)",
        "verdict": "Theorem 3.1 from r_slope of Gamma on the deciding window, checked on [T/20, T], [T/10, T] and "
        "[T/5, T]: separable when r < 1 and not separable when r > 1, each beyond the band max(2 SE, "
        f"{options.verdict_tolerance}) on every window; inconclusive inside the band or where the windows disagree "
        "('why' says which); not separable when Gamma decreases (gamma < 0: no local elasticity)",
        "drift_regression": f"alpha, beta regressed on Xbar smoothed over {drift.smoothing:g} iterations: increments over "
        f"H = {drift.horizon:g} iterations on the integrated regressors, one fit over the late window, standard errors "
        "from overlapping batch means; reported only when its blocks and standard error make it reliable (ours, not in the paper)",
        "neural_collapse": "per trial on the probe features, then mean over trials; "
        "etf_distance_of_means: ETF distance of the normalised trial-averaged class means (Proposition 3.4)",
        "separability": "fraction of trials whose classes are pairwise strictly linearly separable (exact LP test), only "
        "where the points can refute it: in the full dimension when a random labelling of one pair is separable with "
        "probability below 5% (Cover's count), else on one fixed random projection to the largest dimension that meets "
        "it ('test' says which); *_baseline: the same test on the same points randomly relabelled within each pair "
        "(the chance level), drawn on up to 12 records evenly spread",
    }
    if imitation is not None and imitation.procedure != "authors":
        notes["imitation"] = (
            "LE-ODE of each model with its own rates (I: I-model dynamics and estimates; L: L-model), started from the "
            f"genuine Xbar of {imitation.start_window.iterations:g} iterations from the onset, each record carried by the "
            f"LE-ODE to the window's centre t0 = {imitation.t0:g} and averaged there. The onset is the first window where "
            "the model's modes are imitation_onset_snr times their per-record noise (RMS over components; noise from the "
            "median second difference): rates are derivatives of log-ratios, and log|noise| is biased upward, so rates read "
            "off noise-dominated records under-grow the simulation ('onset.reached' false: the means never clear their noise, "
            f"the run starts at the first record and its nrmse says little). Each record interval ({h:g} iterations) is stepped exactly "
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
    return AnalysisNotes(**notes, sampling=sampling)

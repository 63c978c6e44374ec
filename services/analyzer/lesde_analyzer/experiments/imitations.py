"""The LE-ODE imitation of an experiment's class means, with each model's own rates and dynamics.

Our exact procedure starts from the genuine Xbar where the model's modes stand clear of
their noise (:func:`lesde_analyzer.imitation.signal_onset`); the authors' procedure
(``imitation = 'authors'``) is kept to reproduce their Figure 5. Each model gets a fit, a
failure saying why (no onset) or a skip (no finite rates).
"""

from __future__ import annotations

import numpy as np
from lesde_contract.analysis_results.common import RecordSpan
from lesde_contract.analysis_results.imitation import Imitation, ImitationByModel, ImitationFailed, ImitationFit, ImitationSkipped, Onset
from lesde_contract.json_safe import finite_or_none
from lesde_contract.specs.analysis import AnalysisOptions

from lesde_analyzer.estimation import RateEstimate
from lesde_analyzer.experiments.rates import rates
from lesde_analyzer.experiments.xbar import odd_records, record_spacing
from lesde_analyzer.imitation import default_window, imitate, imitate_authors, signal_onset
from lesde_analyzer.imitation.onset import Onset as OnsetSearch

__all__ = ["imitations"]

#: each model's integrals (A, B), each of shape (T,)
Integrals = dict[str, tuple[np.ndarray, np.ndarray]]


def imitations(
    t: np.ndarray, filled: np.ndarray, integrals: Integrals, options: AnalysisOptions, *, record_se: np.ndarray | None
) -> tuple[ImitationByModel, dict[str, np.ndarray]]:
    """Each model's imitation of Xbar (``filled``: (T, K, K), gaps filled) and the series ``leode_mean_*``, ``leode_std_*``.

    ``record_se`` (T, K): standard error of each class mean per record (None: the
    imitation estimates it from its start window).
    """
    T = len(t)
    h = record_spacing(t)
    sg = min(odd_records(options.imitation_window, h, minimum=options.savgol_polyorder + 2), T if T % 2 else T - 1)
    start = default_window(T) if options.imitation_start_window == 0 else odd_records(options.imitation_start_window, h)
    start = min(start, T if T % 2 else T - 1)
    results: dict[str, Imitation] = {}
    series: dict[str, np.ndarray] = {}
    for model in ("I", "L"):
        A, B = integrals[model]
        model_rates = rates(A, B, window=sg, polyorder=options.savgol_polyorder, step=h)
        results[model], model_series = _imitation(t, filled, model, model_rates, options, start=start, record_se=record_se)
        series |= model_series
    return ImitationByModel(I=results["I"], L=results["L"]), series


def _imitation(
    t: np.ndarray,
    filled: np.ndarray,
    model: str,
    model_rates: RateEstimate,
    options: AnalysisOptions,
    *,
    start: int,
    record_se: np.ndarray | None,
) -> tuple[Imitation, dict[str, np.ndarray]]:
    """One model's imitation (or why there is none) and its series."""
    h = record_spacing(t)
    if not (np.isfinite(model_rates.alpha).all() and np.isfinite(model_rates.beta).all()):
        return ImitationSkipped(skipped="no finite alpha-hat, beta-hat (degenerate class means)"), {}
    onset = None
    if options.imitation == "authors":
        sim = imitate_authors(
            filled, alpha_hat=model_rates.alpha, beta_hat=model_rates.beta, times=t, runs=options.imitation_runs, seed=options.seed
        )
    else:
        onset = (
            None if options.imitation_onset_snr == 0 else signal_onset(filled, model=model, window=start, snr=options.imitation_onset_snr)
        )
        if onset is not None and not onset.reached:
            failed = (
                f"the {model}-model's modes never stand {options.imitation_onset_snr:g} times clear of their "
                f"per-record noise (best {np.nanmax(onset.snr):.2f}): no onset to start the LE-ODE from "
                "(imitation_onset_snr: 0 starts at the first record anyway)"
            )
            return ImitationFailed(failed=failed, onset=_onset(onset, options.imitation_onset_snr, t)), {}
        first = onset.record if onset is not None else 0
        window = slice(first, first + start)
        se = None if record_se is None else np.sqrt(np.nanmean(record_se[window] ** 2, axis=0) / start)
        sim = imitate(
            filled,
            times=t,
            alpha_hat=model_rates.alpha,
            beta_hat=model_rates.beta,
            model=model,
            start_window=start,
            first_record=first,
            initial_se=se,
        )
    fit = ImitationFit(
        procedure=options.imitation,
        procedure_description=sim.procedure,
        model=sim.model,
        nrmse=finite_or_none(sim.nrmse),
        nrmse_per_class=[finite_or_none(v) for v in sim.nrmse_per_class],
        nrmse_hold=finite_or_none(sim.nrmse_hold),
        skill=finite_or_none(sim.skill),
        scored_share=finite_or_none(sim.scored_share),
        order_agrees=[bool(v) for v in sim.order_agrees],
        all_orders_agree=bool(sim.all_orders_agree),
        orthogonal_share=[finite_or_none(v) for v in sim.orthogonal_share],
        t0=finite_or_none(sim.t0),
        onset=None if options.imitation == "authors" else _onset(onset, options.imitation_onset_snr, t),
        start_window=RecordSpan(records=sim.start_window, iterations=sim.start_window * h),
        end_window=RecordSpan(records=sim.end_window, iterations=sim.end_window * h),
        initial_se=[finite_or_none(v) for v in np.atleast_1d(sim.initial_se)],
        step=sim.step,
        step_kind=sim.step_kind,
        interval_rate=sim.interval_rate,
        runs=sim.runs,
        scale=finite_or_none(sim.scale),
        savgol_window=model_rates.window * h,
    )
    return fit, {f"leode_mean_{model}": sim.mean, f"leode_std_{model}": sim.std}


def _onset(onset: OnsetSearch | None, snr: float, t: np.ndarray) -> Onset:
    """Where the imitation started (None: at the first record, as asked with snr 0)."""
    if onset is None:
        return Onset(snr=0.0, record=0, iteration=finite_or_none(t[0]), reached=None)
    return Onset(snr=snr, record=onset.record, iteration=finite_or_none(t[onset.record]), reached=onset.reached)

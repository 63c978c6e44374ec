"""The estimates of an experiment's analysis: A-hat, B-hat (I and L), their rates, tail indices,
verdict, drift regression and LE-ODE imitation, as the contract's :class:`Estimates`.

Every rate is per iteration and every window is given (and reported) in iterations,
whatever the spacing of the records (section 4 of the science issue).
"""

from __future__ import annotations

import warnings

import numpy as np
from lesde_contract.analysis_results.estimates import Estimates, EstimatesByModel, ModelEstimates, SavgolWindow
from lesde_contract.json_safe import finite_or_none
from lesde_contract.specs.analysis import AnalysisOptions

from lesde_analyzer.estimation import estimate_integrals, gamma_integral
from lesde_analyzer.experiments.drift import drift
from lesde_analyzer.experiments.imitations import imitations
from lesde_analyzer.experiments.rates import rates
from lesde_analyzer.experiments.verdicts import figure_4c, model_tail_indices, replicate_integrals, tail_result
from lesde_analyzer.experiments.xbar import fill_over_time, odd_records, record_spacing

__all__ = ["estimates"]


def _tail_mask(t: np.ndarray, span: float) -> np.ndarray:
    """Records in the last ``span`` iterations (at least one)."""
    mask = t >= t[-1] - span
    mask[-1] = True
    return mask


def _mean(values: np.ndarray) -> float | None:
    """The mean of ``values`` (None when undefined)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return finite_or_none(np.mean(values))


def estimates(
    t: np.ndarray,
    xbar: np.ndarray,
    options: AnalysisOptions,
    *,
    record_se: np.ndarray | None = None,
    replicates: np.ndarray | None = None,
    class_weights: list[float] | None = None,
) -> tuple[Estimates, dict[str, np.ndarray]]:
    """Ahat, Bhat (I, L), alpha-hat, beta-hat, tail indices, verdict, drift regression, imitation; and their series.

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
        Probability that a step trains each class (``lesde_contract.specs.sampling``); the drift
        regression weights the blocks by them (None: 1/K).

    Returns
    -------
    Estimates
    series : dict of str to ndarray
        Full-length arrays on the time axis ``t``: ``xbar``, ``A_*``, ``B_*``, ``Gamma_*``,
        ``alpha_*``, ``beta_*`` per model, the drift regression's and the imitation's.
    """
    T, K, _ = xbar.shape
    h = record_spacing(t)
    filled = fill_over_time(xbar)
    ref = min(options.reference_window, T)
    polyorder = options.savgol_polyorder
    sg = min(odd_records(options.savgol_window, h, minimum=polyorder + 2), T if T % 2 else T - 1)
    late = _tail_mask(t, options.tail_window)
    series: dict[str, np.ndarray] = {"xbar": xbar}
    models: dict[str, ModelEstimates] = {}
    integrals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for model in ("I", "L"):
        est = estimate_integrals(xbar, model=model, reference_window=ref)
        A, B = fill_over_time(est.A), fill_over_time(est.B)
        integrals[model] = (A, B)
        model_rates = rates(A, B, window=sg, polyorder=polyorder, step=h)
        reps = replicate_integrals(replicates, model=model, reference_window=ref, fill=fill_over_time)
        tail = model_tail_indices(A, B, t, model=model, K=K, options=options, replicates=reps)
        gamma = gamma_integral(A, B, model=model, K=K).values
        series |= {
            f"A_{model}": A,
            f"B_{model}": B,
            f"Gamma_{model}": gamma,
            f"alpha_{model}": model_rates.alpha,
            f"beta_{model}": model_rates.beta,
        }
        models[model] = ModelEstimates(
            A_end=finite_or_none(A[-1]),
            B_end=finite_or_none(B[-1]),
            Gamma_end=finite_or_none(gamma[-1]),
            savgol_window=model_rates.window * h,
            savgol_polyorder=model_rates.polyorder,
            alpha_tail_mean=_mean(model_rates.alpha[late]),
            beta_tail_mean=_mean(model_rates.beta[late]),
            gamma_tail_mean=_mean(model_rates.alpha[late] - model_rates.beta[late]),
            tail_span=options.tail_window,
            tail_indices=tail_result(tail),
        )
    chosen = models[options.estimator].tail_indices
    drift_result, drift_series = drift(t, filled, options, weights=class_weights)
    imitation, imitation_series = imitations(t, filled, integrals, options, record_se=record_se)
    result = Estimates(
        records=T,
        record_spacing=h,
        unit="per iteration",
        reference_window=ref,
        savgol_window=SavgolWindow(iterations=sg * h, records=sg),
        models=EstimatesByModel(I=models["I"], L=models["L"]),
        estimator=options.estimator,
        tail_indices=chosen,
        verdict=chosen.verdict,
        figure_4c=figure_4c(models["I"].tail_indices, models["L"].tail_indices),
        drift_regression=drift_result,
        imitation=imitation,
    )
    return result, series | drift_series | imitation_series

"""The drift regression of an experiment's analysis: alpha and beta regressed on Xbar over the late window.

Ours, not in the paper: the increments of Xbar smoothed over a window, over a horizon
H, on the integrated regressors, one fit over the late window with standard errors from
overlapping batch means, reported only where reliable (:mod:`lesde_analyzer.estimation`).
"""

from __future__ import annotations

import numpy as np
from lesde_contract.analysis_results.estimates import DriftRegression, DriftRegressionUnavailable, DriftSettings, UnreliableDrift
from lesde_contract.json_safe import finite_or_none
from lesde_contract.specs.analysis import AnalysisOptions

from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import drift_regression, drift_regression_series
from lesde_analyzer.experiments.xbar import odd_records, record_spacing

__all__ = ["drift"]


def drift(
    t: np.ndarray, filled: np.ndarray, options: AnalysisOptions, *, weights: list[float] | None = None
) -> tuple[DriftRegression | DriftRegressionUnavailable, dict[str, np.ndarray]]:
    """The drift regression over the late window (or why it could not run) and its series along the run.

    ``filled`` is Xbar (T, K, K) with gaps filled; ``weights`` the class sampling
    probabilities (None: 1/K). Series: ``drift_t`` and the moving fit's ``drift_*``.
    """
    h = record_spacing(t)
    smooth = odd_records(options.drift_smoothing, h) * h
    # H >= 2 w (the smoothed noise must not be shared by the increment and its regressor),
    # a whole number of records
    horizon = options.drift_horizon or 2 * smooth
    horizon = float(np.ceil(horizon / h) * h)
    settings = DriftSettings(
        model=options.estimator, smoothing=smooth, horizon=horizon, unit="per iteration",
        class_weights=None if weights is None else [float(w) for w in weights],
    )  # fmt: skip
    if not np.isfinite(filled).all():
        return _unavailable(settings, "Xbar has no finite value for some class"), {}
    try:
        fit = drift_regression(filled, t, model=options.estimator, smooth=smooth, horizon=horizon, weights=weights)
        along = drift_regression_series(filled, t, model=options.estimator, smooth=smooth, horizon=horizon, weights=weights)
    except InvalidArgument as error:
        return _unavailable(settings, f"not enough records: {error}"), {}
    result = DriftRegression(
        **dict(settings),
        reported=bool(fit.reliable),
        alpha=finite_or_none(fit.alpha) if fit.reliable else None,
        beta=finite_or_none(fit.beta) if fit.reliable else None,
        alpha_se=finite_or_none(fit.alpha_se),
        beta_se=finite_or_none(fit.beta_se),
        window=[float(fit.start), float(fit.end)],
        blocks=int(fit.blocks),
        reason=fit.reason or None,
        unreliable_estimate=None if fit.reliable else UnreliableDrift(alpha=finite_or_none(fit.alpha), beta=finite_or_none(fit.beta)),
    )
    series = {
        "drift_t": along.times,
        "drift_alpha": along.alpha,
        "drift_beta": along.beta,
        "drift_alpha_se": along.alpha_se,
        "drift_beta_se": along.beta_se,
        "drift_reliable": along.reliable.astype(np.int8),
    }
    return result, series


def _unavailable(settings: DriftSettings, reason: str) -> DriftRegressionUnavailable:
    return DriftRegressionUnavailable(**dict(settings), reported=False, reason=reason)

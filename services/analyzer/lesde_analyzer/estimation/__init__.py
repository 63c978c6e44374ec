"""Estimators of A, B, alpha, beta and tail indices from class means (any K)."""

from .class_means import moving_average, weighted_window_mean
from .drift_regression import DriftFit, DriftSeries, drift_regression, drift_regression_series
from .integrals import IntegralEstimate, estimate_integrals, i_model_integrals, l_model_integrals, log_ratio_inputs
from .rates import RateEstimate, savgol_derivative, savgol_rates
from .tail import (
    CAVEAT,
    GammaIntegral,
    TailIndex,
    TailIndices,
    Verdict,
    gamma_integral,
    separability_verdict,
    tail_index,
    tail_indices,
)

__all__ = [
    "moving_average",
    "weighted_window_mean",
    "IntegralEstimate",
    "estimate_integrals",
    "i_model_integrals",
    "l_model_integrals",
    "log_ratio_inputs",
    "DriftFit",
    "DriftSeries",
    "drift_regression",
    "drift_regression_series",
    "RateEstimate",
    "savgol_rates",
    "savgol_derivative",
    "GammaIntegral",
    "gamma_integral",
    "TailIndex",
    "TailIndices",
    "Verdict",
    "tail_index",
    "tail_indices",
    "separability_verdict",
    "CAVEAT",
]

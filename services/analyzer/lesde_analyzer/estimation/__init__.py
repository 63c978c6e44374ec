"""Estimators of A, B, alpha, beta and tail indices from class means (any K)."""

from .drift_regression import DriftFit, drift_regression
from .integrals import IntegralEstimate, estimate_integrals, i_model_integrals, l_model_integrals
from .rates import RateEstimate, savgol_derivative, savgol_rates
from .tail import CAVEAT, TailIndex, TailIndices, Verdict, separability_verdict, tail_index, tail_indices

__all__ = [
    "IntegralEstimate",
    "estimate_integrals",
    "i_model_integrals",
    "l_model_integrals",
    "DriftFit",
    "drift_regression",
    "RateEstimate",
    "savgol_rates",
    "savgol_derivative",
    "TailIndex",
    "TailIndices",
    "Verdict",
    "tail_index",
    "tail_indices",
    "separability_verdict",
    "CAVEAT",
]

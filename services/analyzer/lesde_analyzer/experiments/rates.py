"""alpha-hat, beta-hat: the Savitzky-Golay rates of an experiment's integrals, per iteration."""

from __future__ import annotations

import numpy as np

from lesde_analyzer.estimation import RateEstimate, savgol_rates

__all__ = ["rates"]


def rates(A: np.ndarray, B: np.ndarray, *, window: int, polyorder: int, step: float) -> RateEstimate:
    """Savitzky-Golay rates of ``A``, ``B`` (T,) per iteration (``step``: record spacing in
    iterations); all-NaN rates where an integral has no finite value at all."""
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        nan = np.full(A.shape, np.nan)
        w = min(window, A.size if A.size % 2 else A.size - 1)
        return RateEstimate(alpha=nan, beta=nan, window=w, polyorder=polyorder)
    return savgol_rates(A, B, window=window, polyorder=polyorder, step=step)

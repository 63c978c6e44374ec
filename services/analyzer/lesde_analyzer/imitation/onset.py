"""Where genuine class means stand clear of their noise: the imitation's start.

Networks start with logits near zero, so the first records of Xbar(t) are mostly noise
(per-iteration means over a few trials). The rate estimators take log-ratios of the
model's modes (I-model ``m``, ``D``; L-model ``S``, ``q``), and the log of a
noise-dominated value is biased upward (``E log|eps| = log sigma - 0.64`` for Gaussian
noise), so rates integrated from such a start grow a simulation started from the
denoised state too little: the imitation then misses the genuine scale by a factor of
several (nrmse near 1) for reasons that have nothing to do with the LE-ODE. Starting
where every mode's level is a few times its per-record noise (bias ``~ sigma^2 / 2
level^2``) removes that artefact and keeps the rest of the run to be imitated.

Noise per record, per component of the two modes: the median absolute second difference
over the run divided by ``0.6745 * sqrt 6`` (second differences cancel a locally linear
drift, so they measure the noise while the means grow; the median ignores the stretches
where fast growth still shows, and the jumps).
Level at record ``f``: the mean over records ``[f, f + w)``. The ratio is the RMS level
over the RMS noise, all components of both modes pooled.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_choice, check_int, check_real
from ..errors import InvalidArgument
from ..estimation import log_ratio_inputs

__all__ = ["Onset", "signal_onset"]

_MAD_TO_SIGMA = 0.6745 * np.sqrt(6.0)  # median |second difference| of white noise of std s is 0.6745 sqrt(6) s


@dataclass(frozen=True)
class Onset:
    """The first record whose window stands clear of the noise, and how clear every record is.

    Attributes
    ----------
    record : int
        Index of the first record of the start window (0 when the run is clear from its start,
        or never clear: see ``reached``).
    reached : bool
        Whether any window reaches the signal-to-noise threshold.
    snr : ndarray of shape (T - w + 1,)
        Per window start, the RMS level of the modes' components over their RMS per-record noise.
    """

    record: int
    reached: bool
    snr: np.ndarray


def _window_means(z: np.ndarray, w: int) -> np.ndarray:
    """Mean over records ``[f, f + w)`` for every ``f``; (T - w + 1, n), NaN-aware."""
    ok = np.isfinite(z)
    sums = np.concatenate([np.zeros((1, z.shape[1])), np.cumsum(np.where(ok, z, 0.0), axis=0)])
    counts = np.concatenate([np.zeros((1, z.shape[1])), np.cumsum(ok, axis=0)])
    n = counts[w:] - counts[:-w]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums[w:] - sums[:-w]) / n


def _level_to_noise(z: np.ndarray, w: int) -> np.ndarray:
    """RMS window level over the RMS per-record noise of the columns of ``z`` (T, n), per window start; (T - w + 1,)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        noise = np.nanmedian(np.abs(np.diff(z, n=2, axis=0)), axis=0) / _MAD_TO_SIGMA  # (n,)
        level = np.sqrt(np.nanmean(_window_means(z, w) ** 2, axis=1))
        rms_noise = np.sqrt(np.nanmean(noise**2))
    if not np.isfinite(rms_noise) or rms_noise == 0.0:
        return np.full(level.shape, np.inf)  # noiseless: every window is clear
    return level / rms_noise


def signal_onset(xbar: ArrayLike, *, model: str = "L", window: int = 1, snr: float = 3.0) -> Onset:
    """The first record from which the ``model``'s modes, averaged over ``window`` records,
    are at least ``snr`` times their per-record noise (RMS over their components).

    Parameters
    ----------
    xbar : array_like of shape (T, K, p)
        Genuine class means (``p = K`` for the L-model); NaN entries are ignored.
    model : {'L', 'I'}
    window : int
        Records averaged into the start state (the imitation's start window), ``1 <= w <= T``.
    snr : float
        Threshold on level / noise, ``> 0`` (3: log bias about 5%).

    Returns
    -------
    Onset

    Examples
    --------
    Means growing as ``0.01 e^{0.05 t}`` under noise of std 0.05 stand clear (3 times the
    noise) from record 49:

    >>> t = np.arange(201.0)
    >>> signal = 0.01 * np.exp(0.05 * t)[:, None, None] * np.diag([2.0, 1.0, 1.0])
    >>> noisy = signal + 0.05 * np.random.default_rng(0).standard_normal(signal.shape)
    >>> onset = signal_onset(noisy)
    >>> onset.record, onset.reached, onset.snr.shape
    (49, True, (201,))
    >>> bool(onset.snr[48] < 3.0 <= onset.snr[49])
    True
    """
    x = as_float_array(xbar, "xbar", ndim=3, finite=False)
    model = check_choice(model, "model", ("L", "I"))
    if model == "L" and x.shape[1] != x.shape[2]:
        raise InvalidArgument("xbar", f"the L-model needs p = K logits; got shape {x.shape}")
    w = check_int(window, "window", low=1, high=x.shape[0])
    threshold = check_real(snr, "snr", low=0.0, low_open=True)
    # Both modes' components pooled: a mode that stays near zero all run (the L-model's q when
    # the classes move alike) weighs little in the state, and little in the imitation's error.
    modes = np.concatenate([z.reshape(z.shape[0], -1) for z in log_ratio_inputs(x, model)], axis=1)
    ratio = _level_to_noise(modes, w)
    clear = np.flatnonzero(ratio >= threshold)
    if clear.size == 0:
        return Onset(record=0, reached=False, snr=ratio)
    return Onset(record=int(clear[0]), reached=True, snr=ratio)

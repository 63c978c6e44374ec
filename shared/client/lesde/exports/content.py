"""What every export of an analysis carries: named scalar curves, single numbers, figures.

Both exports (:mod:`lesde.exports.mlflow_export`, :mod:`lesde.exports.tensorboard_export`)
log the same curves under the same names, so a run looks alike in either tool:

===========================  ==========================================================
name                         what (step: the iteration)
===========================  ==========================================================
``I/A`` ... ``L/beta``       the per-model estimate series ``estimates/<q>_<model>``
                             (A, B, Gamma, alpha, beta for the I and L models)
``drift/alpha`` (``_se``)    the drift regression's alpha and beta with their SE, at the
``drift/beta`` (``_se``)     centre of each regression window
``eval/val_acc`` ...         the evaluation curves, mean over trials (val/train acc/loss)
===========================  ==========================================================

and single numbers, each logged once at the run's last iteration (:func:`final_step`):
``final/<train|validation>_<accuracy|loss>`` (mean over trials), ``verdict/r_gamma`` and
``verdict/r_gamma_se`` (Theorem 3.1's tail index of Gamma), ``imitation/<model>/<nrmse|
nrmse_hold|skill>`` (the LE-ODE imitation), ``tail/<model>/<A|B|Gamma>/<r|r_se|r_hat|r_hat_se>``
(the tail indices of each model). A number the summary lacks (None, NaN) is left out.

The figures are the service's own (:meth:`lesde.results.AnalysisResult.figure_png`), drawn
here from the series; they need the analysis extra, and an export without it carries none
and says so (:func:`figure_pngs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lesde.results import reliable_drift

if TYPE_CHECKING:
    from lesde.results import AnalysisResult

MODELS = ("I", "L")
INTEGRALS = ("A", "B", "Gamma", "alpha", "beta")  # as lesde.results.INTEGRALS
DRIFT_QUANTITIES = ("alpha", "alpha_se", "beta", "beta_se")
EVAL_CURVES = ("val_acc", "val_loss", "train_acc", "train_loss")
FINAL_NUMBERS = ("validation_accuracy", "train_accuracy", "validation_loss", "train_loss")
IMITATION_NUMBERS = ("nrmse", "nrmse_hold", "skill")  # the imitation dict has no Pearson r
TAIL_QUANTITIES = ("A", "B", "Gamma")
# tail index entry key -> the name it is logged under: the slope fit (the verdict's r) and the authors' r-hat
TAIL_NUMBERS = {"r_slope": "r", "r_slope_se": "r_se", "r_hat": "r_hat", "r_hat_se": "r_hat_se"}


@dataclass(frozen=True)
class ScalarCurve:
    """One named curve.

    Attributes
    ----------
    name : str
        The tracker's key, e.g. ``"I/alpha"``.
    steps : ndarray of int64, shape (n,)
        Iterations, increasing. Half-integer times (the drift windows' centres, e.g. 489.5)
        are rounded to the nearest integer: trackers take integer steps.
    values : ndarray of float64, shape (n,)
        Finite values only; points where the series is NaN or infinite are left out.
    """

    name: str
    steps: np.ndarray
    values: np.ndarray


def _number(value: object) -> float | None:
    """``float(value)`` for a finite int or float (not a bool), else None."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        value = float(value)
        return value if math.isfinite(value) else None
    return None


def _curve(name: str, times: np.ndarray, values: np.ndarray) -> ScalarCurve:
    times = np.asarray(times, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(values) & np.isfinite(times)
    return ScalarCurve(name, np.rint(times[keep]).astype(np.int64), values[keep])


def scalar_curves(result: AnalysisResult) -> list[ScalarCurve]:
    """Every curve in the table of this module that ``result.series`` holds, at full length."""
    s = result.series
    curves: list[ScalarCurve] = []
    if "estimates/t" in s:
        for model in MODELS:
            for quantity in INTEGRALS:
                key = f"estimates/{quantity}_{model}"
                if key in s:
                    curves.append(_curve(f"{model}/{quantity}", s["estimates/t"], s[key]))
    if "estimates/drift_t" in s:
        reliable = reliable_drift(s)  # windows the analysis did not report are not numbers to log
        for quantity in DRIFT_QUANTITIES:
            key = f"estimates/drift_{quantity}"
            if key in s:
                curves.append(_curve(f"drift/{quantity}", s["estimates/drift_t"][reliable], s[key][reliable]))
    if "eval/t" in s:
        for quantity in EVAL_CURVES:
            key = f"eval/{quantity}_mean"
            if key in s:
                curves.append(_curve(f"eval/{quantity}", s["eval/t"], s[key]))
    return [curve for curve in curves if len(curve.steps)]


def final_step(result: AnalysisResult) -> int:
    """The iteration the single numbers are logged at: the final evaluation's, else the run's length, else 0."""
    final = result.summary.get("final") or {}
    for candidate in (final.get("iteration"), result.summary.get("iterations_done"), result.summary.get("iterations")):
        number = _number(candidate)
        if number is not None:
            return int(number)
    return 0


def headline_numbers(result: AnalysisResult) -> dict[str, float]:
    """The single numbers of the summary by tracker key (see the module docstring), finite ones only."""
    summary = result.summary
    found: dict[str, object] = {}
    final = summary.get("final") or {}
    for key in FINAL_NUMBERS:
        found[f"final/{key}"] = (final.get(key) or {}).get("mean")
    verdict = result.verdict
    found["verdict/r_gamma"] = verdict.get("r_gamma")
    found["verdict/r_gamma_se"] = verdict.get("se")
    for model, fit in sorted(result.imitation.items()):
        if isinstance(fit, dict):
            for key in IMITATION_NUMBERS:
                found[f"imitation/{model}/{key}"] = fit.get(key)
    models = (result.estimates.get("models") or {}) if isinstance(result.estimates, dict) else {}
    for model in MODELS:
        tails = (models.get(model) or {}).get("tail_indices") or {}
        for quantity in TAIL_QUANTITIES:
            entry = tails.get(quantity) or {}
            for key, label in TAIL_NUMBERS.items():
                found[f"tail/{model}/{quantity}/{label}"] = entry.get(key)
    numbers = {name: _number(value) for name, value in found.items()}
    return {name: value for name, value in numbers.items() if value is not None}


def figure_pngs(result: AnalysisResult) -> tuple[dict[str, bytes], str | None]:
    """Every figure of ``result`` as PNG bytes by name, and None; or ``({}, why)`` when they
    cannot be drawn here (the analyzer's figure code or matplotlib is not installed).

    Drawing is most of an export's time (about 0.3 s a figure; the first drawing also imports
    matplotlib). A figure that fails for another reason raises, before anything is written.
    """
    try:
        names = result.figure_names
        return {name: result.figure_png(name) for name in names}, None
    except ImportError as error:
        return {}, f"figures not drawn: they need the analysis extra, pip install 'lesde[analysis]' ({error})"

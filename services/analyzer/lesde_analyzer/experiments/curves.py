"""Loss and accuracy of an experiment: the sampled training loss, and the evaluations over time.

Summary: the sampled loss at the end and the first and last evaluation (mean and std
over trials); series: every evaluation's mean, std and quartiles over trials.
"""

from __future__ import annotations

import warnings

import numpy as np
from lesde_contract.analysis_results.common import MeanStd
from lesde_contract.analysis_results.experiment import Curves, EvalRecord
from lesde_contract.json_safe import finite_or_none

from lesde_analyzer.experiments.streams import SampledData

__all__ = ["EDGE_WINDOW", "curves"]

EDGE_WINDOW = 100  # records averaged for "at the start / at the end"
EVAL_NAMES = ("val_loss", "val_acc", "train_loss", "train_acc")


def curves(sampled: SampledData, evals: dict[str, np.ndarray] | None) -> tuple[Curves, dict[str, np.ndarray]]:
    """Loss and accuracy: sampled training loss per iteration, eval records (mean and std over trials),
    and the first and last eval record (``initial``, ``final``; left out without evaluations)."""
    loss_end = finite_or_none(np.nanmean(sampled.loss[-min(EDGE_WINDOW, len(sampled.loss)) :]))
    if evals is None:
        return Curves(sampled_loss_end=loss_end), {}
    series: dict[str, np.ndarray] = {"t": evals["iteration"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in EVAL_NAMES:
            series[f"{name}_mean"] = np.nanmean(evals[name], axis=1)
            series[f"{name}_std"] = np.nanstd(evals[name], axis=1)
            # trials that have learned and trials that have not yet make a bimodal spread,
            # which a mean +- std band misdraws (below 0 loss, above 1 accuracy)
            series[f"{name}_q25"], series[f"{name}_q75"] = np.nanpercentile(evals[name], [25, 75], axis=1)
    # the first record is before any update (validation loss near log K): a sweep marks it
    return Curves(sampled_loss_end=loss_end, initial=_eval_record(evals, 0), final=_eval_record(evals, -1)), series


def _stats(values: np.ndarray) -> MeanStd:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return MeanStd(mean=finite_or_none(np.nanmean(values)), std=finite_or_none(np.nanstd(values)))


def _eval_record(evals: dict[str, np.ndarray], row: int) -> EvalRecord:
    """Iteration, accuracies and losses (mean and std over trials) of eval record ``row``."""
    return EvalRecord(
        iteration=int(evals["iteration"][row]),
        train_accuracy=_stats(evals["train_acc"][row]),
        validation_accuracy=_stats(evals["val_acc"][row]),
        train_loss=_stats(evals["train_loss"][row]),
        validation_loss=_stats(evals["val_loss"][row]),
    )

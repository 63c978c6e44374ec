"""One row per child: the numbers a sweep compares, picked out of the child's analysis summary.

The row is the table's line (CSV) and the input of the curves. A number the child's
summary does not have (no summary yet, an older summary format, a stream not recorded)
is None, never a stand-in value.
"""

from __future__ import annotations

from typing import Any

from lesde_analyzer.sweeps.reader import ChildResult

__all__ = ["NUMBER_COLUMNS", "columns", "child_row"]

#: the numeric columns of a row after the grid values, with what each one is
NUMBER_COLUMNS: dict[str, str] = {
    "classes": "K, the number of classes",
    "trials": "independent trials of the child",
    "iterations": "SGD iterations of each trial",
    "train_accuracy_mean": "final training accuracy, mean over trials",
    "train_accuracy_std": "final training accuracy, std over trials",
    "validation_accuracy_mean": "final validation accuracy, mean over trials",
    "validation_accuracy_std": "final validation accuracy, std over trials",
    "validation_loss_mean": "final validation loss, mean over trials",
    "validation_loss_std": "final validation loss, std over trials",
    "validation_loss_initial": "validation loss of the first eval record (before training), mean over trials",
    "r_gamma": "r_slope of Gamma (offset power-law fit), the verdict's tail index",
    "r_gamma_se": "standard error of r_slope of Gamma",
    "r_hat_gamma": "the authors' r-hat of Gamma",
    "r_gamma_at_bound": "whether the slope fit stopped at an end of its search range (then r_gamma is that bound, not an estimate)",
    "nrmse_L": "LE-ODE imitation error of the L-model",
    "nrmse_I": "LE-ODE imitation error of the I-model",
    "alpha_hat_late": "alpha-hat of the chosen model, mean over the late window",
    "beta_hat_late": "beta-hat of the chosen model, mean over the late window",
    "separable_fraction_final": "fraction of trials whose probe logits are linearly separable at the end",
    "nc1_initial": "NC1 = tr(Sigma_W Sigma_B^+)/K at the first record (within/between variability)",
    "nc1_final": "NC1 at the last record",
}


def columns(axes: list[str]) -> list[str]:
    """The table's header: index, experiment id, one column per axis (its dotted path), status, numbers."""
    return ["index", "experiment_id", *axes, "status", "analysis", "verdict", *NUMBER_COLUMNS, "nc1_stream"]


def _get(tree: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def child_row(child: ChildResult, axes: list[str]) -> dict[str, Any]:
    """The row of ``child`` (keys in :func:`columns` order)."""
    row: dict[str, Any] = {"index": child.index, "experiment_id": child.experiment_id}
    row |= {axis: child.point.get(axis) for axis in axes}
    row |= {"status": child.status, "analysis": child.analysis}
    s = child.summary or {}
    classes = _get(s, "classes") or _get(child.spec, "dataset", "classes")
    estimator = _get(s, "estimates", "estimator")
    late = _get(s, "estimates", "models", estimator) if estimator else None
    gamma = _get(s, "tail_indices", "Gamma")
    nc_stream = next((name for name in ("features", "probe") if _get(s, "neural_collapse", name)), None)
    nc = _get(s, "neural_collapse", nc_stream) if nc_stream else None
    final = _get(s, "curves", "final")
    row |= {
        "verdict": _get(s, "verdict", "label"),
        "classes": len(classes) if classes else None,
        "trials": _get(s, "trials") or _get(child.spec, "training", "trials"),
        "iterations": _get(s, "iterations") or _get(child.spec, "training", "iterations"),
        "train_accuracy_mean": _get(final, "train_accuracy", "mean"),
        "train_accuracy_std": _get(final, "train_accuracy", "std"),
        "validation_accuracy_mean": _get(final, "validation_accuracy", "mean"),
        "validation_accuracy_std": _get(final, "validation_accuracy", "std"),
        "validation_loss_mean": _get(final, "validation_loss", "mean"),
        "validation_loss_std": _get(final, "validation_loss", "std"),
        "validation_loss_initial": _get(s, "curves", "initial", "validation_loss", "mean"),
        "r_gamma": _get(gamma, "r_slope"),
        "r_gamma_se": _get(gamma, "r_slope_se"),
        "r_hat_gamma": _get(gamma, "r_hat"),
        "r_gamma_at_bound": _get(gamma, "at_bound"),
        "nrmse_L": _get(s, "imitation", "L", "nrmse"),
        "nrmse_I": _get(s, "imitation", "I", "nrmse"),
        "alpha_hat_late": _get(late, "alpha_tail_mean"),
        "beta_hat_late": _get(late, "beta_tail_mean"),
        "separable_fraction_final": _get(s, "separability", "probe", "final"),
        "nc1_initial": _get(nc, "initial", "nc1"),
        "nc1_final": _get(nc, "final", "nc1"),
        "nc1_stream": nc_stream,
    }
    return row

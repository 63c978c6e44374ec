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
    "labels": "the label grouping of the main numbers: trained (the authors') or true",
    "r_gamma": "r_slope of Gamma (offset power-law fit to binned levels) on the deciding window; empty at the fit's bound",
    "r_gamma_se": "its standard error (jackknife over groups of trials)",
    "r_gamma_at_bound": "whether the fit stopped at an end of its search range (no estimate: r_gamma is empty)",
    "r_gamma_T20": "r_slope of Gamma on [T/20, T]",
    "r_gamma_T10": "r_slope of Gamma on [T/10, T]",
    "r_gamma_T5": "r_slope of Gamma on [T/5, T]",
    "gamma_rate": "mean growth rate of Gamma over the deciding window, per iteration",
    "gamma_rate_se": "its standard error",
    "verdict_trained": "the verdict with Xbar grouped by the trained (possibly corrupted) label",
    "verdict_true": "the verdict with Xbar grouped by the true label",
    "r_gamma_true": "r_slope of Gamma on the deciding window with Xbar grouped by the true label",
    "figure_4c": "the paper's Figure 4c: min(r-hat_alpha, r-hat_beta), authors' formula, I-model, trained labels",
    "figure_4c_true": "the same with Xbar grouped by the true label",
    "r_hat_alpha": "the authors' r-hat of A (I-model)",
    "r_hat_beta": "the authors' r-hat of B (I-model)",
    "figure_4c_L": "ours: min(r-hat_alpha, r-hat_beta) of the L-model",
    "nrmse_L": "LE-ODE imitation error of the L-model",
    "nrmse_I": "LE-ODE imitation error of the I-model",
    "skill_L": "1 - nrmse / nrmse of holding Xbar(t0), L-model",
    "skill_I": "1 - nrmse / nrmse of holding Xbar(t0), I-model",
    "onset_L": "iteration where the L-model imitation starts (its modes clear of their noise)",
    "scored_share_L": "share of the run the L-model imitation is scored on",
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
        "labels": _get(s, "labels", "option"),
        "r_gamma": _get(gamma, "r_slope"),
        "r_gamma_se": _get(gamma, "r_slope_se"),
        "r_gamma_at_bound": _get(gamma, "at_bound"),
        **_windows(s),
        "gamma_rate": _get(gamma, "rate_mean"),
        "gamma_rate_se": _get(gamma, "rate_mean_se"),
        **_groupings(s, estimator),
        "r_hat_alpha": _get(s, "figure_4c", "r_hat_alpha"),
        "r_hat_beta": _get(s, "figure_4c", "r_hat_beta"),
        "figure_4c_L": _get(s, "figure_4c", "L_model", "r_hat_min"),
        "nrmse_L": _get(s, "imitation", "L", "nrmse"),
        "nrmse_I": _get(s, "imitation", "I", "nrmse"),
        "skill_L": _get(s, "imitation", "L", "skill"),
        "skill_I": _get(s, "imitation", "I", "skill"),
        "onset_L": _get(s, "imitation", "L", "onset", "iteration"),
        "scored_share_L": _get(s, "imitation", "L", "scored_share"),
        "alpha_hat_late": _get(late, "alpha_tail_mean"),
        "beta_hat_late": _get(late, "beta_tail_mean"),
        "separable_fraction_final": _get(s, "separability", "probe", "final"),
        "nc1_initial": _get(nc, "initial", "nc1"),
        "nc1_final": _get(nc, "final", "nc1"),
        "nc1_stream": nc_stream,
    }
    return row


#: the verdict's windows by where they start, as fractions of the last record's time
WINDOW_COLUMNS = {"r_gamma_T20": 0.05, "r_gamma_T10": 0.1, "r_gamma_T5": 0.2}


def _windows(s: dict) -> dict[str, Any]:
    """r of Gamma on each default window (None at the fit's bound or where that window was not fitted)."""
    windows = _get(s, "verdict", "windows") or []
    out: dict[str, Any] = dict.fromkeys(WINDOW_COLUMNS)
    if not windows:
        return out
    last = max(w["window"][1] for w in windows)
    for name, fraction in WINDOW_COLUMNS.items():
        # the window's first record is the first at or after fraction * T (within one record spacing)
        near = min(windows, key=lambda w: abs(w["window"][0] - fraction * last))
        if abs(near["window"][0] - fraction * last) <= 0.01 * last:
            out[name] = near.get("r")
    return out


def _groupings(s: dict, estimator: str | None) -> dict[str, Any]:
    """Verdict and Figure 4c number under both label groupings (the same where no label was corrupted)."""
    groupings = _get(s, "label_groupings") or {}
    out: dict[str, Any] = {}
    for name in ("trained", "true"):
        entry = groupings.get(name) or {}
        if not entry.get("computed") and "identical" in str(entry.get("reason", "")):
            entry = groupings.get("trained" if name == "true" else "true") or {}
        out[f"verdict_{name}"] = _get(entry, "verdict", estimator or "L", "label")
        if name == "true":
            out["r_gamma_true"] = _get(entry, "r_gamma", estimator or "L")
        out["figure_4c" if name == "trained" else "figure_4c_true"] = _get(entry, "figure_4c", "r_hat_min")
    return out

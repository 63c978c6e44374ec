"""Tail indices, the Theorem 3.1 verdict and the paper's Figure 4c number of one run, as JSON.

The fits themselves are :mod:`lesde_analyzer.estimation.tail`; this module feeds them the
run's integrals with their jackknife replicates (each group of trials left out in turn,
Xbar and the estimators recomputed), falls back to the whole run when the default window
is too short, and writes every index the same way: a fit that stopped at its search bound
is no estimate, so its ``r_slope`` is ``null`` with ``at_bound`` true, on every surface.
"""

from __future__ import annotations

import numpy as np

from lesde.json_safe import finite_or_none
from lesde.specs.analysis import AnalysisOptions
from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import estimate_integrals, tail_indices
from lesde_analyzer.estimation.tail import AT_BOUND, TailIndex, TailIndices

#: what the paper's Figure 4c plots, in its words
FIGURE_4C = "the paper's Figure 4c: min(r-hat_alpha, r-hat_beta), the authors' estimate_tail_idx on the I-model's A and B"
FIGURE_4C_OURS = "ours, beside it: the same formula on the L-model's A and B (not a quantity of the paper)"


def replicate_integrals(replicates: np.ndarray | None, *, model: str, reference_window: int, fill) -> tuple[np.ndarray, np.ndarray] | None:  # noqa: ANN001
    """Leave-one-group-out ``A``, ``B`` of shape (G, T) each from replicate Xbar (G, T, K, p); None without replicates.

    ``fill`` is the same gap filling the full run's integrals get (so the two differ only by the trials).
    """
    if replicates is None:
        return None
    pairs = [estimate_integrals(fill(x), model=model, reference_window=reference_window) for x in replicates]
    return np.stack([fill(p.A) for p in pairs]), np.stack([fill(p.B) for p in pairs])


def model_tail_indices(
    A: np.ndarray, B: np.ndarray, t: np.ndarray, *, model: str, K: int, options: AnalysisOptions, replicates=None  # noqa: ANN001
) -> TailIndices | str:
    """Tail indices over the verdict's windows; a short run (fewer records than a fit needs in
    [T/10, T], e.g. a sparse probe stream) falls back to the whole run, which the JSON shows;
    a string says why no fit was possible at all."""
    kwargs = {
        "times": t, "model": model, "K": K, "last": options.tail_window, "tolerance": options.verdict_tolerance,
        "replicates": replicates,
    }  # fmt: skip
    try:
        return tail_indices(A, B, window=options.verdict_window, **kwargs)
    except InvalidArgument:
        if options.verdict_window is not None or t.size < 2:
            raise
        try:
            return tail_indices(A, B, window=(float(t[0]), float(t[-1])), windows=[], **kwargs)
        except InvalidArgument as error:
            return str(error)


def index_json(index: TailIndex) -> dict:
    """One tail index; ``r_slope`` is null (and ``at_bound`` true) where the fit stopped at its bound."""
    estimate = None if index.at_bound else finite_or_none(index.r_slope)
    return {
        "r_slope": estimate,
        "r_slope_se": None if index.at_bound else finite_or_none(index.r_slope_se),
        "at_bound": index.at_bound,
        "bound": finite_or_none(index.r_slope) if index.at_bound else None,
        "note": f"{AT_BOUND} (r stopped at {index.r_slope:g})" if index.at_bound else None,
        "r_plain_slope": finite_or_none(index.r_plain_slope),
        "r_hat": finite_or_none(index.r_hat),
        "r_hat_se": finite_or_none(index.r_hat_se),
        "rate_mean": finite_or_none(index.rate_mean),
        "rate_mean_se": finite_or_none(index.rate_mean_se),
        "limit": finite_or_none(index.limit),
        "window": [finite_or_none(v) for v in index.window],
        "r_hat_window": [finite_or_none(v) for v in index.r_hat_window],
        "records": index.n_records,
        "se_method": index.se_method,
        "jackknife_groups": index.groups,
    }


def _unknown_index() -> dict:
    unknown = dict.fromkeys(("r_slope", "r_slope_se", "bound", "note", "r_plain_slope", "r_hat", "r_hat_se", "rate_mean", "rate_mean_se", "limit"))
    return unknown | {"at_bound": False, "window": [None, None], "r_hat_window": [None, None], "records": 0, "se_method": None, "jackknife_groups": 0}


def tail_json(tail: TailIndices | str) -> dict:
    """The tail indices and the verdict (with every window) of one model."""
    if isinstance(tail, str):  # too few records for any fit: every index unknown, and why
        unknown = _unknown_index()
        return {
            "A": unknown, "B": unknown, "Gamma": unknown, "gamma_definition": "not computed", "r_min_alpha_beta": None,
            "verdict": {"label": "inconclusive", "separable": None, "r_gamma": None, "se": None, "band": None,
                        "tolerance": None, "why": f"too few records for a tail-index fit: {tail}", "windows": [],
                        "se_method": None},
        }  # fmt: skip
    verdict = tail.verdict
    return {
        "A": index_json(tail.A),
        "B": index_json(tail.B),
        "Gamma": index_json(tail.Gamma),
        "gamma_definition": tail.gamma_definition,
        "r_min_alpha_beta": finite_or_none(tail.r_min_alpha_beta),
        "verdict": {
            "label": verdict.label,
            "separable": verdict.separable,
            "r_gamma": finite_or_none(verdict.r_gamma),
            "se": finite_or_none(verdict.se) if np.isfinite(verdict.r_gamma) else None,
            "band": finite_or_none(verdict.band),
            "tolerance": verdict.tolerance,
            "why": verdict.why,
            "windows": [
                {
                    "window": [float(w.window[0]), float(w.window[1])],
                    "r": None if w.at_bound else finite_or_none(w.r),
                    "se": None if w.at_bound else finite_or_none(w.se),
                    "at_bound": w.at_bound,
                    "label": w.label,
                    "deciding": w.deciding,
                }
                for w in verdict.windows
            ],
            "se_method": tail.Gamma.se_method,
        },
    }


def figure_4c(models: dict[str, dict]) -> dict:
    """The paper's Figure 4c number from the I-model, and ours from the L-model beside it.

    ``models`` maps ``"I"``/``"L"`` to :func:`tail_json` output.
    """

    def entry(model: str, label: str) -> dict:
        tails = models[model]
        alpha, beta = tails["A"]["r_hat"], tails["B"]["r_hat"]
        known = [v for v in (alpha, beta) if v is not None]
        return {
            "r_hat_alpha": alpha, "r_hat_beta": beta, "r_hat_min": min(known) if known else None,
            "r_hat_alpha_se": tails["A"]["r_hat_se"], "r_hat_beta_se": tails["B"]["r_hat_se"], "model": model, "label": label,
        }  # fmt: skip

    return entry("I", FIGURE_4C) | {"L_model": entry("L", FIGURE_4C_OURS)}

"""Tail indices, the Theorem 3.1 verdict and the paper's Figure 4c number of one run, typed.

The fits themselves are :mod:`lesde_analyzer.estimation.tail`; this module feeds them the
run's integrals with their jackknife replicates (each group of trials left out in turn,
Xbar and the estimators recomputed), falls back to the whole run when the default window
is too short, and turns every fit into the contract's models
(:mod:`lesde_contract.analysis_results.tail`) the same way: a fit that stopped at its search bound
is no estimate, so its ``r_slope`` is ``None`` with ``at_bound`` true, on every surface.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from lesde_contract.analysis_results.tail import Figure4c, Figure4cEntry, TailIndex, TailIndices, Verdict, VerdictLabel, VerdictWindow
from lesde_contract.json_safe import finite_or_none
from lesde_contract.specs.analysis import AnalysisOptions

from lesde_analyzer.errors import InvalidArgument
from lesde_analyzer.estimation import estimate_integrals, tail_indices
from lesde_analyzer.estimation import tail as fits

__all__ = ["FIGURE_4C", "FIGURE_4C_OURS", "TailFit", "replicate_integrals", "model_tail_indices", "tail_index", "tail_result", "figure_4c"]

#: what the paper's Figure 4c plots, in its words
FIGURE_4C = "the paper's Figure 4c: min(r-hat_alpha, r-hat_beta), the authors' estimate_tail_idx on the I-model's A and B"
FIGURE_4C_OURS = "ours, beside it: the same formula on the L-model's A and B (not a quantity of the paper)"

#: the gap filling of a series over time (``fill_over_time``), applied to integrals and their replicates alike
Fill = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class TailFit:
    """The tail-index fit of one model: its indices, or why no fit was possible.

    Exactly one of ``indices`` and ``unavailable`` is set.
    """

    indices: fits.TailIndices | None = None
    unavailable: str | None = None


def replicate_integrals(
    replicates: np.ndarray | None, *, model: str, reference_window: int, fill: Fill
) -> tuple[np.ndarray, np.ndarray] | None:
    """Leave-one-group-out ``A``, ``B`` of shape (G, T) each from replicate Xbar (G, T, K, p); None without replicates.

    ``fill`` is the same gap filling the full run's integrals get (so the two differ only by the trials).
    """
    if replicates is None:
        return None
    pairs = [estimate_integrals(fill(x), model=model, reference_window=reference_window) for x in replicates]
    return np.stack([fill(p.A) for p in pairs]), np.stack([fill(p.B) for p in pairs])


def model_tail_indices(
    A: np.ndarray,
    B: np.ndarray,
    t: np.ndarray,
    *,
    model: str,
    K: int,
    options: AnalysisOptions,
    replicates: tuple[np.ndarray, np.ndarray] | None = None,
) -> TailFit:
    """Tail indices over the verdict's windows; a short run (fewer records than a fit needs in
    [T/10, T], e.g. a sparse probe stream) falls back to the whole run, which the result shows;
    where no fit was possible at all, the result says why."""

    def fit(window: tuple[float, float] | None, windows: list[tuple[float, float]] | None = None) -> fits.TailIndices:
        return tail_indices(
            A, B, times=t, model=model, K=K, last=options.tail_window, tolerance=options.verdict_tolerance,
            replicates=replicates, window=window, windows=windows,
        )  # fmt: skip

    try:
        return TailFit(indices=fit(options.verdict_window))
    except InvalidArgument:
        if options.verdict_window is not None or t.size < 2:
            raise
        try:
            return TailFit(indices=fit((float(t[0]), float(t[-1])), []))
        except InvalidArgument as error:
            return TailFit(unavailable=str(error))


def tail_index(index: fits.TailIndex) -> TailIndex:
    """One tail index; ``r_slope`` is None (and ``at_bound`` true) where the fit stopped at its bound."""
    return TailIndex(
        r_slope=None if index.at_bound else finite_or_none(index.r_slope),
        r_slope_se=None if index.at_bound else finite_or_none(index.r_slope_se),
        at_bound=index.at_bound,
        bound=finite_or_none(index.r_slope) if index.at_bound else None,
        note=f"{fits.AT_BOUND} (r stopped at {index.r_slope:g})" if index.at_bound else None,
        r_plain_slope=finite_or_none(index.r_plain_slope),
        r_hat=finite_or_none(index.r_hat),
        r_hat_se=finite_or_none(index.r_hat_se),
        rate_mean=finite_or_none(index.rate_mean),
        rate_mean_se=finite_or_none(index.rate_mean_se),
        limit=finite_or_none(index.limit),
        window=[finite_or_none(v) for v in index.window],
        r_hat_window=[finite_or_none(v) for v in index.r_hat_window],
        records=index.n_records,
        se_method=index.se_method,
        jackknife_groups=index.groups,
    )


def _verdict(tail: fits.TailIndices) -> Verdict:
    """The verdict with every window (``se`` only beside a finite ``r_gamma``)."""
    verdict = tail.verdict
    return Verdict(
        label=cast(VerdictLabel, verdict.label),  # one of the three: the model checks
        separable=verdict.separable,
        r_gamma=finite_or_none(verdict.r_gamma),
        se=finite_or_none(verdict.se) if np.isfinite(verdict.r_gamma) else None,
        band=finite_or_none(verdict.band),
        tolerance=verdict.tolerance,
        why=verdict.why,
        windows=[
            VerdictWindow(
                window=[float(w.window[0]), float(w.window[1])],
                r=None if w.at_bound else finite_or_none(w.r),
                se=None if w.at_bound else finite_or_none(w.se),
                at_bound=w.at_bound,
                label=cast(VerdictLabel, w.label),
                deciding=w.deciding,
            )
            for w in verdict.windows
        ],
        se_method=tail.Gamma.se_method,
    )


def tail_result(fit: TailFit) -> TailIndices:
    """The tail indices and the verdict (with every window) of one model; every index unknown where no fit was possible."""
    tail = fit.indices
    if tail is None:
        return TailIndices.unavailable(fit.unavailable or "no fit")
    return TailIndices(
        A=tail_index(tail.A),
        B=tail_index(tail.B),
        Gamma=tail_index(tail.Gamma),
        gamma_definition=tail.gamma_definition,
        r_min_alpha_beta=finite_or_none(tail.r_min_alpha_beta),
        verdict=_verdict(tail),
    )


def _figure_4c_entry(tails: TailIndices, model: Literal["I", "L"], label: str) -> Figure4cEntry:
    alpha, beta = tails.A.r_hat, tails.B.r_hat
    known = [v for v in (alpha, beta) if v is not None]
    return Figure4cEntry(
        r_hat_alpha=alpha, r_hat_beta=beta, r_hat_min=min(known) if known else None,
        r_hat_alpha_se=tails.A.r_hat_se, r_hat_beta_se=tails.B.r_hat_se, model=model, label=label,
    )  # fmt: skip


def figure_4c(I_model: TailIndices, L_model: TailIndices) -> Figure4c:
    """The paper's Figure 4c number from the I-model, and ours from the L-model beside it."""
    paper = _figure_4c_entry(I_model, "I", FIGURE_4C)
    return Figure4c(**dict(paper), L_model=_figure_4c_entry(L_model, "L", FIGURE_4C_OURS))

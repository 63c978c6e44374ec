"""Tail indices of A, B and Gamma, the Theorem 3.1 verdict and the paper's Figure 4c number.

Every time and window is in iterations; tail indices ``r`` are dimensionless (Gamma's
rate ``gamma(t) ~ c t^-r``: separation for ``r < 1``, none for ``r > 1``). A fit that
stopped at an end of its search range is no estimate: its ``r_slope`` is ``null`` and
``at_bound`` is true, on every surface.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lesde_contract.analysis_results.common import ResultModel

__all__ = ["VerdictLabel", "TailIndex", "VerdictWindow", "Verdict", "TailIndices", "Figure4cEntry", "Figure4c"]

#: what the verdict (and each of its windows) says
VerdictLabel = Literal["separable", "not separable", "inconclusive"]


class TailIndex(ResultModel):
    """The tail index of one integrated quantity (A, B or Gamma) on the verdict's deciding window."""

    r_slope: float | None = Field(
        description="Tail index r of the fit F(t) = F0 + c((1+t)^(1-r) - 1)/(1-r) to the binned levels of the window "
        "(dimensionless); null at the fit's search bound or where r is not identified."
    )
    r_slope_se: float | None = Field(description="Standard error of r_slope (se_method says how); null where r_slope is null.")
    at_bound: bool = Field(description="Whether the fit stopped at an end of its search range: then r_slope is no estimate (null).")
    bound: float | None = Field(description="The search bound the fit stopped at (null unless at_bound).")
    note: str | None = Field(description="Words on a fit at its bound (null otherwise).")
    r_plain_slope: float | None = Field(
        description="1 - slope of log|F| against log(1+t) on the window (secondary: tends to 1 from below whenever r > 1)."
    )
    r_hat: float | None = Field(
        description="The authors' r-hat: 1 - mean log|F(t)|/log(1+t) over r_hat_window (secondary; biased by a constant factor)."
    )
    r_hat_se: float | None = Field(description="Jackknife standard error of r_hat (null without replicates).")
    rate_mean: float | None = Field(description="Mean rate dF/dt over the window (F(t2) - F(t1))/(t2 - t1), per iteration; model-free.")
    rate_mean_se: float | None = Field(description="Standard error of rate_mean, per iteration.")
    limit: float | None = Field(description="Fitted limit of F(t) as t grows when r_slope > 1 (units of F); null when unbounded.")
    window: list[float | None] = Field(description="[t1, t2]: first and last record of the fit window, in iterations.")
    r_hat_window: list[float | None] = Field(description="[t1, t2]: first and last record r_hat used, in iterations.")
    records: int = Field(description="Finite records in the fit window (0: no fit).")
    se_method: str | None = Field(description="How the standard errors were made: the trial jackknife or the time-series fallback.")
    jackknife_groups: int = Field(description="Groups of trials of the jackknife (0: time-series standard errors, or no fit).")

    @classmethod
    def unknown(cls) -> TailIndex:
        """The index of a quantity no fit was possible for: every number null, no records."""
        return cls(
            r_slope=None, r_slope_se=None, at_bound=False, bound=None, note=None, r_plain_slope=None, r_hat=None,
            r_hat_se=None, rate_mean=None, rate_mean_se=None, limit=None, window=[None, None], r_hat_window=[None, None],
            records=0, se_method=None, jackknife_groups=0,
        )  # fmt: skip


class VerdictWindow(ResultModel):
    """r_slope of Gamma on one of the windows the verdict is checked on, and what that window alone says."""

    window: list[float] = Field(description="[t1, t2]: first and last record inside the window, in iterations.")
    r: float | None = Field(description="r_slope of Gamma on this window (dimensionless); null at the fit's bound.")
    se: float | None = Field(description="Its standard error; null at the fit's bound.")
    at_bound: bool = Field(description="Whether the fit stopped at an end of its search range (no estimate).")
    label: VerdictLabel = Field(description="What this window alone says by the band rule.")
    deciding: bool = Field(description="Whether the verdict is read off this window.")


class Verdict(ResultModel):
    """Theorem 3.1 from r_slope of Gamma: separable when r < 1, not separable when r > 1, each beyond the band on every window."""

    label: VerdictLabel = Field(description="The verdict: 'separable', 'not separable' or 'inconclusive'.")
    separable: bool | None = Field(description="True, False, or null when inconclusive.")
    r_gamma: float | None = Field(description="r_slope of Gamma on the deciding window (dimensionless); null at the fit's bound.")
    se: float | None = Field(description="Standard error of r_gamma; null where r_gamma is not finite.")
    band: float | None = Field(
        default=None,
        description="Half-width of the inconclusive band around r = 1, max(2 SE, tolerance); null where r_gamma or se is "
        "not finite (absent from results stored before it was reported).",
    )
    tolerance: float | None = Field(
        default=None,
        description="Least half-width of the band (the verdict_tolerance option; absent from results stored before it was reported).",
    )
    why: str = Field(description="Why this label, in words, with the numbers of every window.")
    windows: list[VerdictWindow] = Field(description="r on every window checked ([T/20, T], [T/10, T], [T/5, T] by default).")
    se_method: str | None = Field(description="How the standard errors were made (null when no fit was possible).")

    @classmethod
    def too_few_records(cls, reason: str) -> Verdict:
        """The verdict where no tail-index fit was possible: inconclusive, saying why."""
        return cls(
            label="inconclusive", separable=None, r_gamma=None, se=None, band=None, tolerance=None,
            why=f"too few records for a tail-index fit: {reason}", windows=[], se_method=None,
        )  # fmt: skip


class TailIndices(ResultModel):
    """Tail indices of A, B and Gamma of one model (I or L) on the deciding window, with the verdict."""

    A: TailIndex = Field(description="Tail index of A-hat, the integral of alpha-hat (within-class elasticity).")
    B: TailIndex = Field(description="Tail index of B-hat, the integral of beta-hat (between-class elasticity).")
    Gamma: TailIndex = Field(description="Tail index of Gamma, Theorem 3.1's minimum of the model's two modes of A and B.")
    gamma_definition: str = Field(
        description="Which Gamma was used and on which share of the records the first mode (A - B) was the smaller "
        "('not computed' when no fit was possible)."
    )
    r_min_alpha_beta: float | None = Field(description="min(r_hat of A, r_hat of B): the paper's Figure 4c number for the I-model.")
    verdict: Verdict = Field(description="The verdict drawn from Gamma on every window.")

    @classmethod
    def unavailable(cls, reason: str) -> TailIndices:
        """The indices where no fit was possible (too few records): every index unknown, the verdict says why."""
        unknown = TailIndex.unknown()
        return cls(
            A=unknown, B=unknown.model_copy(), Gamma=unknown.model_copy(), gamma_definition="not computed",
            r_min_alpha_beta=None, verdict=Verdict.too_few_records(reason),
        )  # fmt: skip


class Figure4cEntry(ResultModel):
    """min(r-hat_alpha, r-hat_beta): the authors' r-hat of A and of B of one model, and the smaller."""

    r_hat_alpha: float | None = Field(description="The authors' r-hat of A (dimensionless).")
    r_hat_beta: float | None = Field(description="The authors' r-hat of B (dimensionless).")
    r_hat_min: float | None = Field(description="The smaller of the two (null when both are).")
    r_hat_alpha_se: float | None = Field(description="Jackknife standard error of r_hat_alpha.")
    r_hat_beta_se: float | None = Field(description="Jackknife standard error of r_hat_beta.")
    model: Literal["I", "L"] = Field(description="The model whose A and B these are.")
    label: str = Field(description="What this number is, in words.")


class Figure4c(Figure4cEntry):
    """The paper's Figure 4c number (I-model), with ours from the L-model beside it."""

    L_model: Figure4cEntry = Field(description="The same formula on the L-model's A and B (ours, not a quantity of the paper).")

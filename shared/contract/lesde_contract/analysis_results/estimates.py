"""The estimates of one experiment's analysis: A-hat, B-hat and their rates per model, tail indices, drift regression.

Every rate is per iteration and every window is in iterations, whatever the spacing of
the records. ``models`` holds both models (I and L); the top-level tail indices, verdict
and imitation are the chosen ``estimator``'s.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lesde_contract.analysis_results.common import ResultModel
from lesde_contract.analysis_results.imitation import ImitationByModel
from lesde_contract.analysis_results.tail import Figure4c, TailIndices, Verdict

__all__ = [
    "SavgolWindow", "ModelEstimates", "EstimatesByModel", "DriftSettings", "DriftRegression", "DriftRegressionUnavailable",
    "UnreliableDrift", "Estimates",
]  # fmt: skip


class SavgolWindow(ResultModel):
    """The Savitzky-Golay window of alpha-hat, beta-hat."""

    iterations: float = Field(description="Window length in iterations (records x the record spacing).")
    records: int = Field(description="Window length in records (odd).")


class ModelEstimates(ResultModel):
    """One model's integrals at the end, late rates and tail indices."""

    A_end: float | None = Field(description="A-hat at the last record (the integral of alpha-hat, dimensionless).")
    B_end: float | None = Field(description="B-hat at the last record (the integral of beta-hat, dimensionless).")
    Gamma_end: float | None = Field(description="Gamma at the last record (the smaller of the model's two modes).")
    savgol_window: float = Field(description="Savitzky-Golay window of the rates, in iterations.")
    savgol_polyorder: int = Field(description="Savitzky-Golay polynomial order.")
    alpha_tail_mean: float | None = Field(description="alpha-hat averaged over the last tail_span iterations, per iteration.")
    beta_tail_mean: float | None = Field(description="beta-hat averaged over the last tail_span iterations, per iteration.")
    gamma_tail_mean: float | None = Field(description="alpha-hat - beta-hat averaged over the last tail_span iterations, per iteration.")
    tail_span: int = Field(description="Iterations the *_tail_mean average over (the tail_window option).")
    tail_indices: TailIndices = Field(description="Tail indices of A, B and Gamma and the verdict, from this model's integrals.")


class EstimatesByModel(ResultModel):
    """The estimates of each model."""

    I: ModelEstimates = Field(description="I-model: each class moves along its own direction.")  # noqa: E741 - the paper's name
    L: ModelEstimates = Field(description="L-model: features are the K logits.")


class DriftSettings(ResultModel):
    """How the drift regression was set up (reported whether or not it ran)."""

    model: Literal["I", "L"] = Field(description="The model whose drift is regressed (the estimator option).")
    smoothing: float = Field(description="Centred window that smooths Xbar before the regression, in iterations.")
    horizon: float = Field(description="Increment horizon H, in iterations.")
    unit: str = Field(description="Unit of alpha and beta ('per iteration').")
    class_weights: list[float] | None = Field(
        description="Probability that a step trains each class, weighting the blocks (null: 1/K, balanced sampling)."
    )


class UnreliableDrift(ResultModel):
    """The drift regression's numbers where it is not reliable enough to report."""

    alpha: float | None = Field(description="alpha from the regression, per iteration (not reliable).")
    beta: float | None = Field(description="beta from the regression, per iteration (not reliable).")


class DriftRegression(DriftSettings):
    """alpha and beta regressed on Xbar over the late window (ours, not in the paper)."""

    reported: bool = Field(description="Whether its blocks and standard error make it reliable (alpha, beta null otherwise).")
    alpha: float | None = Field(description="Within-class elasticity alpha, per iteration (null unless reported).")
    beta: float | None = Field(description="Between-class elasticity beta, per iteration (null unless reported).")
    alpha_se: float | None = Field(description="Standard error of alpha (overlapping batch means), per iteration.")
    beta_se: float | None = Field(description="Standard error of beta (overlapping batch means), per iteration.")
    window: list[float] = Field(description="[t1, t2] of the fit, in iterations.")
    blocks: int = Field(description="Independent blocks of the batch-means standard error.")
    reason: str | None = Field(description="Why it is not reported (null when it is).")
    unreliable_estimate: UnreliableDrift | None = Field(description="The numbers where not reported (null when reported).")


class DriftRegressionUnavailable(DriftSettings):
    """The drift regression could not run (non-finite Xbar, or too few records)."""

    reported: Literal[False] = Field(description="Always false: nothing was fitted.")
    reason: str = Field(description="Why it could not run.")


class Estimates(ResultModel):
    """A-hat, B-hat (I and L), their rates, tail indices, verdict, drift regression and LE-ODE imitation."""

    records: int = Field(description="Records of Xbar(t) the estimators ran on.")
    record_spacing: float = Field(description="Spacing h of those records, in iterations.")
    unit: str = Field(description="Unit of every rate ('per iteration').")
    reference_window: int = Field(description="Leading records averaged into the reference X(t0).")
    savgol_window: SavgolWindow = Field(description="Savitzky-Golay window of alpha-hat, beta-hat.")
    models: EstimatesByModel = Field(description="Integrals, late rates and tail indices of each model.")
    estimator: Literal["I", "L"] = Field(description="The model chosen for the tail indices, verdict and drift regression.")
    tail_indices: TailIndices = Field(description="The chosen model's tail indices (as in models).")
    verdict: Verdict = Field(description="The chosen model's verdict (as in tail_indices).")
    figure_4c: Figure4c = Field(description="The paper's Figure 4c number (I-model) and ours (L-model).")
    drift_regression: DriftRegression | DriftRegressionUnavailable = Field(
        description="alpha and beta regressed on Xbar over the late window, or why it could not run."
    )
    imitation: ImitationByModel = Field(description="The LE-ODE imitation of each model.")

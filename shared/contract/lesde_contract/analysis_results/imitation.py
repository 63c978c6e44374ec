"""The LE-ODE imitation of the class means by each model (I and L), as stored.

Each model's entry is one of three shapes: the fit (:class:`ImitationFit`), a failure
saying why (:class:`ImitationFailed`: the modes never stood clear of their noise), or a
skip (:class:`ImitationSkipped`: no finite rates). Times are in iterations.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lesde_contract.analysis_results.common import RecordSpan, ResultModel

__all__ = ["Onset", "ImitationFit", "ImitationFailed", "ImitationSkipped", "Imitation", "ImitationByModel"]


class Onset(ResultModel):
    """Where the LE-ODE starts: the first window where the model's modes stand clear of their per-record noise."""

    snr: float = Field(description="Signal-to-noise ratio asked for (imitation_onset_snr; 0: start at the first record).")
    record: int = Field(description="Index of the first record of the start window.")
    iteration: float | None = Field(description="Its time, in iterations.")
    reached: bool | None = Field(description="Whether the modes ever cleared their noise (null when not asked: snr 0).")


class ImitationFit(ResultModel):
    """How well the LE-ODE with the model's own estimated rates imitates the class means Xbar(t)."""

    procedure: Literal["exact", "authors"] = Field(description="The imitation option: 'exact' (ours) or 'authors' (their Figure 5).")
    procedure_description: str = Field(description="The procedure in words.")
    model: str = Field(description="The model whose dynamics and rates were used (I or L).")
    nrmse: float | None = Field(
        description="sqrt(mean (X_sim - Xbar)^2)/sqrt(mean Xbar^2) over t >= t0, classes and logits (a fraction; 0 is perfect)."
    )
    nrmse_per_class: list[float | None] = Field(description="The same per class (fractions), in class order.")
    nrmse_hold: float | None = Field(
        default=None, description="nrmse of holding Xbar(t0) constant: the baseline of skill (absent from older results)."
    )
    skill: float | None = Field(
        default=None, description="1 - nrmse / nrmse_hold (1 is perfect, 0 no better than holding; absent from older results)."
    )
    scored_share: float | None = Field(
        default=None, description="Fraction of the run the nrmse is scored on (t >= t0; absent from older results)."
    )
    order_agrees: list[bool] = Field(description="Per class: whether its K simulated logits rank like the genuine ones at the end.")
    all_orders_agree: bool = Field(description="Whether every class's order agrees.")
    orthogonal_share: list[float | None] = Field(
        description="Per class: fraction of its centred end-logit energy orthogonal to d_k, which an LE-ODE moving class k "
        "along d_k cannot reach."
    )
    t0: float | None = Field(description="Time the simulation starts from (the start window's centre), in iterations.")
    onset: Onset | None = Field(
        default=None, description="Where the start window was placed (null for the authors' procedure; absent from older results)."
    )
    start_window: RecordSpan = Field(description="Records of genuine Xbar averaged into the start state.")
    end_window: RecordSpan = Field(description="Records averaged for the end-of-run comparisons (order_agrees, orthogonal_share).")
    initial_se: list[float | None] = Field(description="Standard error of the start state (per class, or one number), logit units.")
    step: float = Field(description="Step of the simulation, in iterations.")
    step_kind: str = Field(description="How each step is taken: 'exact' (exp(lambda h) per mode) or 'euler'.")
    interval_rate: str = Field(description="The rate used on each record interval (e.g. 'trapezoid': the mean of its end rates).")
    runs: int | None = Field(description="Simulated runs of the ensemble (null: the deterministic solution).")
    scale: float | None = Field(description="Factor the mean was multiplied by (1 for the exact procedure; the authors' fitted factor).")
    savgol_window: float = Field(description="Savitzky-Golay window of the rates the simulation used, in iterations.")


class ImitationFailed(ResultModel):
    """The imitation was not run: the model's modes never stood clear of their noise."""

    failed: str = Field(description="Why, in words, with the best signal-to-noise ratio reached.")
    onset: Onset = Field(description="The onset search that found no start.")


class ImitationSkipped(ResultModel):
    """The imitation was not run: the model's rates have no finite value (degenerate class means)."""

    skipped: str = Field(description="Why, in words.")


#: one model's imitation: the fit, or why there is none
Imitation = ImitationFit | ImitationFailed | ImitationSkipped


class ImitationByModel(ResultModel):
    """The imitation with each model's own rates and dynamics."""

    I: Imitation = Field(description="I-model: each class moves along its own direction (its rates and dynamics).")  # noqa: E741 - the paper's name
    L: Imitation = Field(description="L-model: features are the K logits (its rates and dynamics).")

"""Separability and neural collapse of the probe set and the features, per recorded stream.

Fractions are of trials (0 to 1); ``t`` is in iterations. A stream that was not recorded
is absent from the per-stream objects.
"""

from __future__ import annotations

from pydantic import Field

from lesde_contract.analysis_results.common import ResultModel

__all__ = ["SeparabilityTest", "GeometryRecord", "RecordGeometry", "Separability", "GeometryByStream", "SeparabilityByStream"]


class SeparabilityTest(ResultModel):
    """Which exact linear-separability test the points allow, and how its chance level was drawn."""

    method: str = Field(description="'full' (the full dimension), 'projection' (one fixed random projection) or 'untestable'.")
    dimension: int | None = Field(description="Dimension tested (null when untestable).")
    feature_dim: int = Field(description="Dimension p of the features.")
    points_per_pair: int = Field(description="Points of one pair of classes, N = 2 m.")
    chance: float | None = Field(
        description="Cover's probability that a random labelling of one pair is separable in the tested dimension."
    )
    level: float = Field(description="Ceiling on chance used to choose the dimension.")
    reason: str | None = Field(description="Why the test is not on the full features, or why its chance level is high.")
    baseline_draws: int = Field(description="Random relabellings per pair drawn for the chance level.")
    baseline_records: int = Field(description="Records the chance level was drawn on.")
    seed: int = Field(description="Seed of the projections and relabellings.")


class GeometryRecord(ResultModel):
    """Neural-collapse metrics and separability at one record (means over trials)."""

    t: int = Field(description="Time of the record, in iterations.")
    nc1: float | None = Field(description="NC1 = tr(Sigma_W Sigma_B^+)/K: within- against between-class variability.")
    equinorm: float | None = Field(description="std/mean over classes of |mu_k - mu_G|, the centred class-mean norms (0: equal norms).")
    equiangularity: float | None = Field(
        description="mean over pairs k != l of |cos(mu_k - mu_G, mu_l - mu_G) + 1/(K-1)| (0: the angles of a simplex)."
    )
    etf_distance: float | None = Field(
        description="Distance of the centred class means from a simplex equiangular tight frame (0: an ETF)."
    )
    etf_distance_of_means: float | None = Field(description="ETF distance of the normalised trial-averaged class means.")
    separable_fraction: float | None = Field(description="Fraction of trials whose classes are pairwise strictly linearly separable.")
    separable_fraction_baseline: float | None = Field(
        description="The same with labels randomly relabelled within each pair (chance level)."
    )


class RecordGeometry(ResultModel):
    """Neural collapse of one recorded stream (probe set or features) over time."""

    records: int = Field(description="Records of the stream.")
    trials: int = Field(description="Trials recorded.")
    per_class: int = Field(description="Samples per class in each record.")
    dimension: int = Field(description="Dimension of each sample's vector (K logits, or the features).")
    separability_records_checked: int = Field(description="Records checked for exact separability (evenly spread).")
    separability_test: SeparabilityTest = Field(description="The separability test the points allow.")
    initial: GeometryRecord = Field(description="The first record.")
    final: GeometryRecord = Field(description="The last record.")


class Separability(ResultModel):
    """Linear separability of one stream at the first and last record, with its chance level."""

    initial: float | None = Field(description="Fraction of trials separable at the first record.")
    final: float | None = Field(description="Fraction of trials separable at the last record.")
    initial_baseline: float | None = Field(description="The same on randomly relabelled points (chance level), first record.")
    final_baseline: float | None = Field(description="The same on randomly relabelled points (chance level), last record.")
    test: SeparabilityTest = Field(description="The test used.")
    records_checked: int = Field(description="Records checked for exact separability.")


class GeometryByStream(ResultModel):
    """Neural collapse per recorded stream (a stream not recorded is absent)."""

    probe: RecordGeometry | None = Field(default=None, description="The probe set's logits.")
    features: RecordGeometry | None = Field(default=None, description="The penultimate-layer features.")


class SeparabilityByStream(ResultModel):
    """Separability per recorded stream (a stream not recorded is absent)."""

    probe: Separability | None = Field(default=None, description="The probe set's logits.")
    features: Separability | None = Field(default=None, description="The penultimate-layer features.")

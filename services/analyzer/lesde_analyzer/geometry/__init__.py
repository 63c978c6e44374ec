"""Geometry of features: exact linear separability (with a chance baseline) and neural-collapse metrics."""

from .collapse import NCMetrics, equiangularity, equinorm, etf_distance, nc1, nc_metrics
from .separability import linearly_separable, pairwise_separable, separable_fraction
from .separability_report import (
    SeparabilityPlan,
    SeparabilityReport,
    SeparabilitySeries,
    cover_fraction,
    random_projection,
    separability_plan,
    separability_report,
    separability_series,
)

__all__ = [
    "linearly_separable",
    "pairwise_separable",
    "separable_fraction",
    "SeparabilityPlan",
    "SeparabilityReport",
    "SeparabilitySeries",
    "cover_fraction",
    "random_projection",
    "separability_plan",
    "separability_report",
    "separability_series",
    "NCMetrics",
    "nc_metrics",
    "nc1",
    "equinorm",
    "equiangularity",
    "etf_distance",
]

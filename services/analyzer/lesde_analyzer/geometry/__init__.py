"""Geometry of features: exact linear separability and neural-collapse metrics."""

from .collapse import NCMetrics, equiangularity, equinorm, etf_distance, nc1, nc_metrics
from .separability import linearly_separable, pairwise_separable, separable_fraction

__all__ = [
    "linearly_separable",
    "pairwise_separable",
    "separable_fraction",
    "NCMetrics",
    "nc_metrics",
    "nc1",
    "equinorm",
    "equiangularity",
    "etf_distance",
]

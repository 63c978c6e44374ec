"""A sweep's cross-child analysis: read the children, compare them, store JSON, CSV and figures."""

from lesde_analyzer.sweeps.sweep_analysis_job import run_sweep_analysis

__all__ = ["run_sweep_analysis"]

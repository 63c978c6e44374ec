"""Import of logits in the authors' CSV layout: the upload the gateway stored becomes an experiment."""

from lesde_analyzer.imports.job import run_import_job

__all__ = ["run_import_job"]

"""Analyse one stored experiment and write its analysis JSON and figures back."""

from __future__ import annotations

import logging

from lesde import keys
from lesde.jobs import JobNotFound, JobRepository
from lesde.records import AnalysisState
from lesde.specs import ExperimentSpec
from lesde.storage import ObjectStore
from lesde_analyzer.pipeline.figures import class_means_figure
from lesde_analyzer.pipeline.summary import experiment_summary

log = logging.getLogger(__name__)


def run_experiment_analysis(store: ObjectStore, job_id: str) -> None:
    """Compute the summary and figures of experiment ``job_id``; record success or the error."""
    repo = JobRepository(store, "experiment")
    try:
        repo.get(job_id)
    except JobNotFound:
        log.warning("experiment %s no longer exists; dropping its analysis", job_id)
        return
    _set_state(repo, job_id, AnalysisState.running)
    try:
        spec = ExperimentSpec.model_validate(repo.get_spec(job_id))
        summary, series = experiment_summary(store, job_id, class_names=spec.dataset.classes)
        store.put_bytes(
            keys.figure_key("experiment", job_id, "class-means"),
            class_means_figure(series, class_names=spec.dataset.classes),
            content_type="image/png",
        )
        summary["figures"] = {"class-means": f"/v1/experiments/{job_id}/figures/class-means.png"}
        store.put_json(keys.analysis_key("experiment", job_id, "summary"), summary)
    except Exception as error:
        log.exception("analysis of experiment %s failed", job_id)
        _set_state(repo, job_id, AnalysisState.failed, error=f"{type(error).__name__}: {error}")
        return
    _set_state(repo, job_id, AnalysisState.succeeded)


def _set_state(repo: JobRepository, job_id: str, state: AnalysisState, *, error: str | None = None) -> None:
    def change(record):  # noqa: ANN001, ANN202
        record.analysis = state
        record.analysis_error = error

    repo.update(job_id, change)

"""Analyse one stored experiment for one option set and store the JSON, series and figures.

Storage order keeps a good result safe: everything new is computed first and written
only when the whole run succeeded (figures, then series, then the summary JSON last, which
is what marks a result as present). Each figure is drawn once and stored as PNG, SVG and
PDF. A failed run records its error in the option set's state (and, for the automatic
default run, on the job record) and leaves any previous result in place. The summary
names its figures; the gateway builds their links. When the automatic run of a sweep's
child ends, the sweep's cross-child analysis is asked for.

A job deleted meanwhile stops the run at its next write (:mod:`lesde_runtime.tombstones`) and
nothing more is recorded; a store outage that outlasts the store's retries propagates, so
the task is re-sent (its state stays ``running``, not ``failed``).
"""

from __future__ import annotations

import logging
from typing import Any

from lesde_contract.chunks import decode_chunk, encode_chunk
from lesde_contract.object_store import ObjectStore, StoreUnavailable
from lesde_contract.records import AnalysisState, JobRecord
from lesde_contract.specs.analysis import (
    DEFAULT_FIGURE_SIZE,
    DEFAULT_KEY,
    AnalysisOptions,
    figure_variant,
    options_key,
    run_figure_key,
    run_series_key,
    run_summary_key,
)
from lesde_contract.specs.sampling import class_sampling
from lesde_runtime import celery_app
from lesde_runtime.analysis_leases import held_analysis
from lesde_runtime.analysis_state import mirrored_on_record, set_record_analysis, write_run_state
from lesde_runtime.job_repository import JobNotFound, JobRepository
from lesde_runtime.tombstones import JobDeleted, guarded_write
from matplotlib.figure import Figure
from pydantic import ValidationError

from lesde_analyzer.experiments.pipeline import analyse_experiment
from lesde_analyzer.figures.experiments import FIGURES, draw
from lesde_analyzer.figures.formats import FORMATS, MEDIA_TYPES, share_axes, to_format

log = logging.getLogger(__name__)

__all__ = ["run_experiment_analysis", "render_figure_variant"]


def run_experiment_analysis(store: ObjectStore, job_id: str, options: dict[str, Any] | None = None) -> None:
    """Analyse ``job_id`` with ``options`` (None: the defaults); record success or the error."""
    try:
        _analyse_and_record(store, job_id, options)
    except (JobDeleted, JobNotFound):
        log.info("experiment %s was deleted during its analysis; stopped", job_id)


def _analyse_and_record(store: ObjectStore, job_id: str, options: dict[str, Any] | None) -> None:
    repo = JobRepository(store, "experiment")
    try:
        record = repo.get(job_id)
    except JobNotFound:
        log.warning("experiment %s no longer exists; dropping its analysis", job_id)
        return
    try:
        parsed = AnalysisOptions.model_validate(options or {})
    except ValidationError as error:  # the API validates first; a hand-sent task may not
        write_run_state(store, job_id, DEFAULT_KEY, AnalysisState.failed, options or {}, error=f"invalid options: {error}")
        return
    key = options_key(parsed)
    dumped = parsed.model_dump(mode="json")
    on_record = mirrored_on_record(record, key)
    # the lease first, then "running": a state that says running always has a lease to judge it by
    with held_analysis(store, job_id, key, dumped):
        _run_and_record(store, repo, record, key, parsed, dumped, on_record=on_record)


def _run_and_record(
    store: ObjectStore, repo: JobRepository, record: JobRecord, key: str, parsed: AnalysisOptions, dumped: dict, *, on_record: bool
) -> None:
    job_id = record.id
    write_run_state(store, job_id, key, AnalysisState.running, dumped)
    if on_record:
        set_record_analysis(repo, job_id, AnalysisState.running)
    try:
        spec = repo.get_spec(job_id)
        classes = (spec.get("dataset") or {}).get("classes")
        summary, series = analyse_experiment(store, job_id, options=parsed, class_names=classes, sampling=class_sampling(spec))
        figures = {name: render_formats(name, summary, series) for name in FIGURES}
        summary["figures"] = list(figures)
        _store_results(store, job_id, key, figures, encode_chunk(series), summary)
    except (JobDeleted, StoreUnavailable):
        raise  # not the analysis's failure: a delete ends the run; after an outage the task is re-sent
    except Exception as error:
        log.exception("analysis of experiment %s (options %s) failed", job_id, key)
        message = f"{type(error).__name__}: {error}"
        write_run_state(store, job_id, key, AnalysisState.failed, dumped, error=message)
        if on_record:
            set_record_analysis(repo, job_id, AnalysisState.failed, error=message)
            _notify_sweep(record)
        return
    write_run_state(store, job_id, key, AnalysisState.succeeded, dumped)
    if on_record:
        set_record_analysis(repo, job_id, AnalysisState.succeeded)
        _notify_sweep(record)


def render_formats(name: str, summary: dict, series: dict) -> dict[str, bytes]:
    """``{"png", "svg", "pdf": bytes}`` of figure ``name`` at the default size: drawn once, saved three times."""
    figure = draw(name, summary, series)
    return {fmt: to_format(figure, fmt, dpi=DEFAULT_FIGURE_SIZE.dpi) for fmt in FORMATS}


def _store_results(store: ObjectStore, job_id: str, key: str, figures: dict[str, dict[str, bytes]], series: bytes, summary: dict) -> None:
    """Figures (every format), then series, then the summary (which marks the result present),
    each only while the experiment exists."""
    writes = [
        (run_figure_key(job_id, key, name, fmt=fmt), data, MEDIA_TYPES[fmt])
        for name, files in figures.items()
        for fmt, data in files.items()
    ]
    writes.append((run_series_key(job_id, key), series, "application/octet-stream"))
    for target, data, content_type in writes:
        guarded_write(store, "experiment", job_id, target, lambda: store.put_bytes(target, data, content_type=content_type))  # noqa: B023 - called at once
    summary_key = run_summary_key(job_id, key)
    guarded_write(store, "experiment", job_id, summary_key, lambda: store.put_json(summary_key, summary))


def _notify_sweep(record: JobRecord) -> None:
    """Ask for the cross-child analysis of the sweep ``record`` is a point of (if any).

    Best effort: the child's own analysis is stored whatever happens here, and the next
    child to finish asks again."""
    if record.sweep_id is None:
        return
    try:
        celery_app.send_with_retry(celery_app.ANALYZE_SWEEP, record.sweep_id)
    except Exception:
        log.exception(
            "could not enqueue the analysis of sweep %s after experiment %s (the reaper's scan sends it)", record.sweep_id, record.id
        )


def render_figure_variant(
    store: ObjectStore,
    job_id: str,
    key: str,
    name: str,
    width: float,
    height: float,
    dpi: int,
    fmt: str = "png",
    share_with: str | None = None,
) -> None:
    """Render figure ``name`` of a stored result on request (asked for by the API): at another
    size, as ``fmt`` (``png``, ``svg``, ``pdf``), and with ``share_with`` on the axes it shares
    with the same figure of that experiment's result of the same option set (the union of
    each matching axes' limits). Stored at :func:`~lesde_contract.specs.analysis.figure_variant`'s key,
    only while the experiment exists."""
    if name not in FIGURES or fmt not in FORMATS:
        log.warning("unknown figure %r or format %r requested for %s", name, fmt, job_id)
        return
    figure = _draw_stored(store, job_id, key, name, width, height)
    if share_with is not None:
        share_axes(figure, _draw_stored(store, share_with, key, name, width, height))
    data = to_format(figure, fmt, dpi=dpi)
    target = run_figure_key(job_id, key, name, variant=figure_variant(width, height, dpi, share_with=share_with), fmt=fmt)
    try:
        guarded_write(store, "experiment", job_id, target, lambda: store.put_bytes(target, data, content_type=MEDIA_TYPES[fmt]))
    except JobDeleted:
        log.info("experiment %s was deleted while figure %s was rendered; not stored", job_id, name)


def _draw_stored(store: ObjectStore, job_id: str, key: str, name: str, width: float, height: float) -> Figure:
    """Figure ``name`` of experiment ``job_id``'s stored result of option set ``key`` (ObjectNotFound when there is none)."""
    summary = store.get_json(run_summary_key(job_id, key))
    series = decode_chunk(store.get_bytes(run_series_key(job_id, key)))
    return draw(name, summary, series, width=width, height=height)

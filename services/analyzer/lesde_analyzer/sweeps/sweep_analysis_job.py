"""Analyse one sweep across its children and store the JSON, the table and the figures.

Sent whenever a child's automatic analysis ends (or a child fails or is cancelled), so it
runs many times per sweep, sometimes concurrently; each run recomputes from everything
stored. Storage order as for experiments: figures (each drawn once, stored as PNG, SVG and
PDF), then the table, then the summary JSON last (which marks a result as present). A slow
run can finish after a newer one and overwrite it with an older view, so after storing, a
run compares what it read with what is stored now and recomputes when a child changed
meanwhile. The analyzer is the only
writer of the sweep's record after its creation, and only of ``analysis`` and
``analysis_error``.
"""

from __future__ import annotations

import logging

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectStore, StoreUnavailable
from lesde_contract.records import AnalysisState
from lesde_contract.specs.analysis import figure_variant
from lesde_contract.sweep_children import SweepNotFound
from lesde_runtime.analysis_leases import SWEEP_KEY, held_analysis
from lesde_runtime.analysis_state import set_record_analysis
from lesde_runtime.job_repository import JobNotFound, JobRepository
from lesde_runtime.tombstones import JobDeleted, guarded_write
from matplotlib.figure import Figure

from lesde_analyzer.figures.formats import FORMATS, MEDIA_TYPES, to_format
from lesde_analyzer.figures.sweeps import DPI, FIGURES, draw
from lesde_analyzer.sweeps.reader import fingerprint, read_sweep
from lesde_analyzer.sweeps.summary import sweep_summary
from lesde_analyzer.sweeps.table import table_csv

log = logging.getLogger(__name__)

__all__ = ["run_sweep_analysis", "render_sweep_figure_variant", "MAX_PASSES"]

#: recomputations when children change during a run (each later finishing child sends its own task anyway)
MAX_PASSES = 3


def _set_analysis(repo: JobRepository, sweep_id: str, state: AnalysisState, error: str | None = None) -> None:
    """Set the sweep record's analysis state (nothing when the sweep was deleted meanwhile)."""
    try:
        set_record_analysis(repo, sweep_id, state, error=error)
    except (JobNotFound, JobDeleted):
        log.warning("sweep %s was deleted; its analysis state %s is not recorded", sweep_id, state.value)


def _analyse_once(store: ObjectStore, sweep_id: str) -> None:
    """Read every child, compute, render and store (summary last)."""
    summary = sweep_summary(read_sweep(store, sweep_id))
    # every figure drawn (once, saved in each format) before anything is stored
    figures = {name: _in_every_format(draw(name, summary)) for name in FIGURES} if summary["primary_axis"] else {}
    summary["figures"] = list(figures)
    for name, files in figures.items():
        for fmt, data in files.items():
            store.put_bytes(object_keys.figure_key("sweep", sweep_id, name, fmt), data, content_type=MEDIA_TYPES[fmt])
    store.put_bytes(object_keys.sweep_table_key(sweep_id), table_csv(summary["columns"], summary["rows"]), content_type="text/csv")
    store.put_json(object_keys.analysis_key("sweep", sweep_id, "summary"), summary)


def _in_every_format(figure: Figure) -> dict[str, bytes]:
    return {fmt: to_format(figure, fmt, dpi=DPI) for fmt in FORMATS}


def run_sweep_analysis(store: ObjectStore, sweep_id: str) -> None:
    """Analyse sweep ``sweep_id`` across its children; record success or the error on its record."""
    repo = JobRepository(store, "sweep")
    try:
        repo.get(sweep_id)
        seen = fingerprint(store, sweep_id)
    except (JobNotFound, SweepNotFound):
        log.warning("sweep %s has no record or no children (deleted, or not fully created); dropping its analysis", sweep_id)
        return
    # Under a lease: if this worker dies mid-run, the reaper queues the analysis again within a minute.
    with held_analysis(store, sweep_id, SWEEP_KEY, {}, kind="sweep"):
        _analyse_under_lease(store, repo, sweep_id, seen)


def _analyse_under_lease(store: ObjectStore, repo: JobRepository, sweep_id: str, seen: object) -> None:
    _set_analysis(repo, sweep_id, AnalysisState.running)
    try:
        for _ in range(MAX_PASSES):
            _analyse_once(store, sweep_id)
            now = fingerprint(store, sweep_id)
            if now == seen:
                break
            seen = now
        else:
            log.info("sweep %s kept changing during %d passes; the next child's task recomputes it", sweep_id, MAX_PASSES)
        repo.get(sweep_id)
    except (JobNotFound, SweepNotFound, JobDeleted):
        # deleted meanwhile: remove what this run may have written after the delete
        log.warning("sweep %s was deleted during its analysis", sweep_id)
        store.delete_prefix(object_keys.job_prefix("sweep", sweep_id))
        return
    except StoreUnavailable:  # an outage past the store's retries: the task is re-sent
        raise
    except Exception as error:
        log.exception("analysis of sweep %s failed", sweep_id)
        _set_analysis(repo, sweep_id, AnalysisState.failed, f"{type(error).__name__}: {error}")
        return
    _set_analysis(repo, sweep_id, AnalysisState.succeeded)


def render_sweep_figure_variant(
    store: ObjectStore, sweep_id: str, name: str, width: float, height: float, dpi: int, fmt: str = "png"
) -> None:
    """Render figure ``name`` of the stored cross-child summary on request (asked for by the API:
    a format an analysis stored before SVG and PDF existed lacks), at
    ``figures/<name>@<variant>.<ext>`` (:func:`~lesde_contract.specs.analysis.figure_variant`)."""
    if name not in FIGURES or fmt not in FORMATS:
        log.warning("unknown figure %r or format %r requested for sweep %s", name, fmt, sweep_id)
        return
    summary = store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary"))
    if name not in (summary.get("figures") or []):
        log.warning("sweep %s has no figure %r to render", sweep_id, name)
        return
    data = to_format(draw(name, summary, width=width, height=height), fmt, dpi=dpi)
    target = object_keys.figure_key("sweep", sweep_id, f"{name}@{figure_variant(width, height, dpi)}", fmt)
    try:
        guarded_write(store, "sweep", sweep_id, target, lambda: store.put_bytes(target, data, content_type=MEDIA_TYPES[fmt]))
    except JobDeleted:
        log.info("sweep %s was deleted while figure %s was rendered; not stored", sweep_id, name)

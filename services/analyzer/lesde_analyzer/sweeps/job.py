"""Analyse one sweep across its children and store the JSON, the table and the figures.

Sent whenever a child's automatic analysis ends (or a child fails or is cancelled), so it
runs many times per sweep, sometimes concurrently; each run recomputes from everything
stored. Storage order as for experiments: figures, then the table, then the summary JSON
last (which marks a result as present). A slow run can finish after a newer one and
overwrite it with an older view, so after storing, a run compares what it read with what
is stored now and recomputes when a child changed meanwhile. The analyzer is the only
writer of the sweep's record after its creation, and only of ``analysis`` and
``analysis_error``.
"""

from __future__ import annotations

import logging

from lesde import keys
from lesde.analysis_leases import SWEEP_KEY, held_analysis
from lesde.analysis_state import set_record_analysis
from lesde.jobs import JobNotFound, JobRepository
from lesde.records import AnalysisState
from lesde.storage import ObjectStore, StoreUnavailable
from lesde.tombstones import JobDeleted
from lesde.sweeps import SweepNotFound
from lesde_analyzer.figures.sweeps import FIGURES, render
from lesde_analyzer.sweeps.reader import fingerprint, read_sweep
from lesde_analyzer.sweeps.summary import sweep_summary
from lesde_analyzer.sweeps.table import table_csv

log = logging.getLogger(__name__)

__all__ = ["run_sweep_analysis", "MAX_PASSES"]

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
    figures = {name: render(name, summary) for name in FIGURES} if summary["primary_axis"] else {}
    summary["figures"] = list(figures)
    for name, png in figures.items():
        store.put_bytes(keys.figure_key("sweep", sweep_id, name), png, content_type="image/png")
    store.put_bytes(keys.sweep_table_key(sweep_id), table_csv(summary["columns"], summary["rows"]), content_type="text/csv")
    store.put_json(keys.analysis_key("sweep", sweep_id, "summary"), summary)


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
        store.delete_prefix(keys.job_prefix("sweep", sweep_id))
        return
    except StoreUnavailable:  # an outage past the store's retries: the task is re-sent
        raise
    except Exception as error:
        log.exception("analysis of sweep %s failed", sweep_id)
        _set_analysis(repo, sweep_id, AnalysisState.failed, f"{type(error).__name__}: {error}")
        return
    _set_analysis(repo, sweep_id, AnalysisState.succeeded)

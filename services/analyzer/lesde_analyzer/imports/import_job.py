"""The import job: the CSV upload the gateway stored, or a recorded run's staged chunks
(:mod:`.run`), becomes a succeeded experiment.

The gateway has checked the header (a missing column is answered 422 at once); every
later problem (a cell that is not a number, a ragged row, a gap in the trial x itr grid)
fails the job with the row and column in its error; so does a grid larger than the
trainer's caps allow (:class:`~lesde_analyzer.imports.grid.ImportBounds`). Progress is
counted in bytes parsed, then in iterations written. The upload is deleted once the job
is finished either way (a store outage re-sends the task and keeps it).
"""

from __future__ import annotations

import logging
import tempfile

from lesde_contract import object_keys
from lesde_contract.csv_layout import ImportRejected
from lesde_contract.object_store import ObjectStore, StoreUnavailable
from lesde_contract.records import AnalysisState, JobRecord, JobStatus
from lesde_runtime import celery_app
from lesde_runtime.chunk_writer import ChunkWriter
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.leases import run_leased
from lesde_runtime.settings import LeaseSettings, LimitSettings
from lesde_runtime.tombstones import JobDeleted

from lesde_analyzer.imports.chunks import write_import_chunks
from lesde_analyzer.imports.grid import Grid, ImportBounds, parse_grid
from lesde_analyzer.imports.run import import_recorded_run, remove_staged

log = logging.getLogger(__name__)


def run_import_job(store: ObjectStore, job_id: str, *, leases: LeaseSettings | None = None) -> None:
    """Parse experiment ``job_id``'s upload, write its chunks and manifest, then enqueue its analysis.

    Runs under a lease like training (:func:`~lesde_runtime.leases.hold_lease`): an analyzer killed
    mid-import stops renewing it, and the reaper sends the import again (it starts over from
    the upload, kept until the job is finished; chunks are rewritten whole)."""
    repo = JobRepository(store, "experiment")
    run_leased(repo, job_id, lambda: _import(store, repo, job_id), leases)


def _import(store: ObjectStore, repo: JobRepository, job_id: str) -> None:
    recorded = repo.get_spec(job_id).get("source", {}).get("format") == "lesde-run"
    try:
        if recorded:
            import_recorded_run(store, repo, job_id, on_chunk=lambda done: _progress(repo, job_id, done))
        else:
            _import_csv(store, repo, job_id)
    except JobDeleted:
        log.info("import %s was deleted while it ran; stopped", job_id)
        return
    except StoreUnavailable:
        raise  # not the upload's fault: the task is re-sent once the store is back, the upload kept
    except ImportRejected as error:
        repo.mark_finished(job_id, JobStatus.failed, error=str(error))
    except Exception as error:
        log.exception("import %s failed", job_id)
        repo.mark_finished(job_id, JobStatus.failed, error=f"import failed: {type(error).__name__}: {error}")
    else:
        repo.mark_finished(job_id, JobStatus.succeeded, analysis=AnalysisState.queued)
        celery_app.send_with_retry(celery_app.ANALYZE_EXPERIMENT, job_id)
    _remove_upload(store, job_id, recorded=recorded)


def _import_csv(store: ObjectStore, repo: JobRepository, job_id: str) -> None:
    with tempfile.TemporaryDirectory(prefix="lesde-import-") as folder:
        pieces = store.iter_bytes(object_keys.upload_key(job_id))
        bounds = ImportBounds(max_trial_iterations=LimitSettings().max_trial_iterations)
        grid = parse_grid(pieces, folder, bounds=bounds, on_bytes=lambda done: _progress(repo, job_id, done))
        _complete_spec(store, repo, job_id, grid)
        T = grid.values.shape[0]
        _progress(repo, job_id, 0, total=T, unit="iterations")
        write_import_chunks(ChunkWriter(store, job_id), grid.values, grid.K, on_chunk=lambda done: _progress(repo, job_id, done))
        del grid


def _remove_upload(store: ObjectStore, job_id: str, *, recorded: bool) -> None:
    if recorded:
        remove_staged(store, job_id)
    else:
        store.delete(object_keys.upload_key(job_id))


def _progress(repo: JobRepository, job_id: str, done: int, *, total: int | None = None, unit: str | None = None) -> None:
    def change(record: JobRecord) -> None:
        record.progress.done = done
        if total is not None:
            record.progress.total, record.progress.unit = total, unit or record.progress.unit

    repo.update(job_id, change)


def _complete_spec(store: ObjectStore, repo: JobRepository, job_id: str, grid: Grid) -> None:
    """Add what only the parse knows (rows, trials, iterations) to the spec the gateway wrote."""
    spec = repo.get_spec(job_id)
    spec["source"] |= {"rows": grid.rows, "trial_ids": grid.trials[:1000], "first_itr": grid.first_itr}
    spec["training"] = {"iterations": grid.values.shape[0], "trials": len(grid.trials)}
    store.put_json(object_keys.spec_key("experiment", job_id), spec)

"""Sweeps: create one (check the grid, record the sweep and its children, enqueue them),
cancel it, retry its failed children, delete it, and serve its cross-child results.

Creation order, chosen so that a failure midway leaves a sweep that can be read, retried
and deleted: the sweep's record; every child's record (``queued``, ``sweep_id`` set); the
children list; only then the messages. A broker that refuses a message fails that child
and every later one (none of them has a message, so none says ``queued`` forever); the
children already sent stay queued and run; ``retry`` re-sends the failed ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from functools import partial

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound
from lesde_contract.records import AnalysisState, JobRecord, JobStatus
from lesde_contract.specs import SweepRejected, SweepSpec, plan_sweep
from lesde_contract.specs.analysis import SWEEP_FIGURE_SIZE, figure_variant
from lesde_contract.sweep_children import SweepChild, SweepChildren, write_children
from lesde_runtime import celery_app, tombstones
from lesde_runtime.analysis_leases import SWEEP_KEY
from lesde_runtime.job_repository import JobConflict, JobNotFound, JobRepository
from lesde_runtime.settings import LimitSettings, TrainerSettings, WorkCapSettings

from lesde_api.operations.analysis import FigurePending
from lesde_api.operations.experiments import record_experiment
from lesde_api.operations.figures import stored_figure_names
from lesde_api.operations.job_views import ResourceMissing, delete_job
from lesde_api.operations.links import job_url, with_sweep_links
from lesde_api.operations.queueing import BrokerUnavailable, enqueue, enqueue_job
from lesde_api.operations.sweep_view import child_records, count_states, for_each_child, read_sweep_children

log = logging.getLogger(__name__)


def check_fits_quota(spec: SweepSpec, max_unfinished: int) -> None:
    """A grid with more children than an owner may have unfinished could never be admitted: 422, not 429."""
    if spec.size > max_unfinished:
        raise SweepRejected(
            [
                (
                    spec.grid_field,
                    (
                        f"the grid has {spec.size:,} points, more than the {max_unfinished:,} unfinished jobs an owner may have; "
                        f"allowed range: 1 to {max_unfinished:,} points (LESDE_MAX_UNFINISHED_JOBS_PER_OWNER)"
                    ),
                )
            ]
        )


def create_sweep(
    sweeps: JobRepository,
    experiments: JobRepository,
    spec: SweepSpec,
    *,
    owner: str,
    limits: LimitSettings,
    admit: Callable[[int], AbstractContextManager[object]] = lambda _children: nullcontext(),
) -> JobRecord:
    """Check the whole grid (:class:`~lesde_contract.specs.SweepRejected` before anything is stored), then, admitted for its
    children (``admit(count)``: the owner's quota), record and enqueue."""
    planned = plan_sweep(
        spec,
        max_points=limits.max_sweep_points,
        max_trial_iterations=limits.max_trial_iterations,
        max_sweep_trial_iterations=limits.max_sweep_trial_iterations,
        limits=WorkCapSettings(),
        chunk_iterations=TrainerSettings().chunk_iterations,
    )
    total = sum(child.spec.trial_iterations for child in planned)
    with admit(len(planned)):
        sweep = sweeps.create(spec=spec.model_dump(mode="json"), owner=owner, name=spec.name, total=total, unit="trial-iterations")
        records = for_each_child(
            lambda child: record_experiment(experiments, child.spec, owner=owner, cap=limits.max_trial_iterations, sweep_id=sweep.id),
            planned,
        )
    children = [
        SweepChild(index=child.index, experiment_id=record.id, point=child.point) for child, record in zip(planned, records, strict=True)
    ]
    write_children(sweeps.store, sweep.id, SweepChildren(axes=spec.paths, children=children))
    _enqueue_all(experiments, sweep.id, records)
    return sweep


def _enqueue_all(experiments: JobRepository, sweep_id: str, records: list[JobRecord]) -> None:
    for position, record in enumerate(records):
        try:
            enqueue_job(experiments, record, celery_app.TRAIN_EXPERIMENT)  # a refusal fails this child
        except BrokerUnavailable as error:
            for later in records[position + 1 :]:
                experiments.mark_finished(later.id, JobStatus.failed, error=f"could not enqueue: {error}")
            raise BrokerUnavailable(
                f"{error}; sweep {sweep_id} was created with {position} of {len(records)} children queued and the "
                f"others failed: POST {job_url('sweep', sweep_id)}/retry re-queues them once the broker is back"
            ) from error


def cancel_sweep(sweeps: JobRepository, experiments: JobRepository, sweep_id: str) -> None:
    """Cancel every unfinished child (queued ones at once, running ones within a chunk); 409 if none is left."""
    sweeps.get(sweep_id)
    records = child_records(experiments, read_sweep_children(sweeps, sweep_id))
    unfinished = [record for record in records if record is not None and not record.status.finished]
    if not unfinished:
        raise JobConflict(
            f"sweep {sweep_id} has finished ({_summary(records)}); only a sweep with queued or running children can be cancelled"
        )
    stopped_now = False
    for record in unfinished:
        try:
            stopped_now |= experiments.request_cancel(record.id).status is JobStatus.cancelled
        except (JobConflict, JobNotFound):
            continue  # it finished, or was deleted, since it was read
    if stopped_now:
        # A queued child cancelled here has no trainer to tell the sweep's analysis; a running one tells it itself.
        _refresh_analysis(sweep_id)


def retry_sweep(sweeps: JobRepository, experiments: JobRepository, sweep_id: str) -> None:
    """Re-queue the failed children only (each resumes from its last checkpoint); 409 if none failed."""
    sweeps.get(sweep_id)
    records = child_records(experiments, read_sweep_children(sweeps, sweep_id))
    failed = [record for record in records if record is not None and record.status is JobStatus.failed]
    if not failed:
        raise JobConflict(f"sweep {sweep_id} has no failed children ({_summary(records)}); retry re-queues failed children only")
    for record in failed:
        # A cancel asked for before the child failed would stop the retried run at once.
        experiments.store.delete(object_keys.cancel_key("experiment", record.id))
        requeued: list[JobRecord] = []
        experiments.update(record.id, partial(_requeue_failed, requeued=requeued))
        for child in requeued:  # none if it left "failed" since it was read (another retry sent it)
            enqueue_job(experiments, child, celery_app.TRAIN_EXPERIMENT)


def _requeue_failed(record: JobRecord, requeued: list[JobRecord]) -> None:
    """Make a failed child ``queued`` again and append it to ``requeued``; leave any other as it is."""
    if record.status is not JobStatus.failed:
        return
    record.status = JobStatus.queued
    record.error = None
    record.finished_at = None
    record.progress.rate = None
    record.progress.eta_seconds = None
    record.analysis = AnalysisState.none
    record.analysis_error = None
    requeued.append(record)


def delete_sweep(sweeps: JobRepository, experiments: JobRepository, sweep_id: str) -> None:
    """Delete every child, then the sweep; 409 (and nothing deleted) while a child runs.

    The sweep goes last, so a delete that stops midway can be repeated; a child whose
    record names another sweep (or none) is left alone.
    """
    sweeps.get(sweep_id)
    records = child_records(experiments, read_sweep_children(sweeps, sweep_id))
    running = [record.id for record in records if record is not None and record.status is JobStatus.running]
    if running:
        raise JobConflict(f"sweep {sweep_id} has running children {running}; cancel the sweep first, then delete it")
    for_each_child(lambda record: _delete_child(experiments, record, sweep_id), records)
    tombstones.bury(sweeps.store, "sweep", sweep_id)  # a running cross-child analysis writes no record after this
    sweeps.delete(sweep_id)


def _delete_child(experiments: JobRepository, record: JobRecord | None, sweep_id: str) -> None:
    if record is None or record.sweep_id != sweep_id:
        return
    try:
        delete_job(experiments, record.id)
    except JobNotFound:
        pass  # deleted meanwhile


def _summary(records: list[JobRecord | None]) -> str:
    """``"2 succeeded, 1 failed"``."""
    return ", ".join(f"{count} {state}" for state, count in count_states(records).items() if count) or "no children"


def _refresh_analysis(sweep_id: str) -> None:
    """Ask for the cross-child analysis again; best effort: the next child to finish asks too."""
    try:
        enqueue(celery_app.ANALYZE_SWEEP, sweep_id)
    except BrokerUnavailable as error:
        log.warning("sweep %s: analysis not re-queued: %s", sweep_id, error)


# -- results ------------------------------------------------------------------------------
def get_sweep_analysis(sweeps: JobRepository, experiments: JobRepository, sweep_id: str) -> dict:
    """The stored cross-child summary with its figures as links; 404 saying why before one exists."""
    record = sweeps.get(sweep_id)
    try:
        return with_sweep_links(sweeps.store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary")), sweep_id)
    except ObjectNotFound:
        pass
    if record.analysis_error:
        reason = f"its last analysis failed: {record.analysis_error}"
    elif record.analysis in (AnalysisState.queued, AnalysisState.running):
        reason = f"its analysis is {record.analysis.value}; poll again"
    else:
        records = child_records(experiments, read_sweep_children(sweeps, sweep_id))
        reason = f"it is computed as children finish their own analyses; children: {_summary(records)}"
    raise ResourceMissing(f"no analysis for sweep {sweep_id} yet: {reason}")


def get_sweep_figure(sweeps: JobRepository, sweep_id: str, name: str, *, fmt: str = "png") -> bytes:
    """Figure ``name`` of the cross-child analysis as ``fmt`` (``png``, ``svg``, ``pdf``); 404 naming the stored ones.

    An analysis stored before figures were kept as SVG and PDF has only PNGs: the format asked
    for is rendered from the stored summary on request (:class:`FigurePending`, 202, then
    stored beside it) until the next analysis of the sweep stores every format.
    """
    sweeps.get(sweep_id)
    store = sweeps.store
    try:
        return store.get_bytes(object_keys.figure_key("sweep", sweep_id, name, fmt))
    except ObjectNotFound:
        pass
    if fmt != "png" and name in _summary_figures(sweeps, sweep_id):
        width, height, dpi = SWEEP_FIGURE_SIZE
        variant = figure_variant(width, height, dpi)
        try:
            return store.get_bytes(object_keys.figure_key("sweep", sweep_id, f"{name}@{variant}", fmt))
        except ObjectNotFound:
            pass
        enqueue(celery_app.RENDER_FIGURE, sweep_id, SWEEP_KEY, name, width, height, dpi, fmt, None)  # nothing recorded: a retry asks again
        raise FigurePending(f"figure {name!r} of sweep {sweep_id} as {fmt.upper()} is being rendered; retry in a few seconds")
    available = stored_figure_names(store, object_keys.job_prefix("sweep", sweep_id) + "figures/")
    raise ResourceMissing(f"no figure {name!r} for sweep {sweep_id}; available: {available}")


def _summary_figures(sweeps: JobRepository, sweep_id: str) -> list[str]:
    """The figures the stored cross-child summary names (none before there is one)."""
    try:
        return list(sweeps.store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary")).get("figures") or [])
    except ObjectNotFound:
        return []


def open_sweep_table(sweeps: JobRepository, sweep_id: str) -> tuple[Iterator[bytes], int]:
    """The cross-child table (CSV, one row per child) as a stream, and its size."""
    sweeps.get(sweep_id)
    key = object_keys.sweep_table_key(sweep_id)
    try:
        size = sweeps.store.stat(key).size
    except ObjectNotFound:
        raise ResourceMissing(f"no table for sweep {sweep_id} yet: it is written with the sweep's analysis") from None
    return sweeps.store.iter_bytes(key), size

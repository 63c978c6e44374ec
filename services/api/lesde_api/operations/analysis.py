"""Experiment analyses per option set: read, downsample, request (re-)runs and figure sizes.

Results are computed by the analyzer worker; here they are only looked up, thinned for
JSON, given their links and enqueued. The state of each option set is read and written
through :mod:`lesde_runtime.analysis_state`, its one owner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from lesde_contract import object_keys
from lesde_contract.chunks import decode_chunk
from lesde_contract.json_safe import finite_lists
from lesde_contract.object_store import ObjectNotFound
from lesde_contract.records import AnalysisState, JobRecord, JobStatus, utcnow
from lesde_contract.specs.analysis import (
    DEFAULT_FIGURE_SIZE,
    DEFAULT_KEY,
    FIGURE_NAMES,
    AnalysisOptions,
    figure_variant,
    options_key,
    run_figure_key,
    run_series_key,
    run_summary_key,
)
from lesde_runtime import celery_app
from lesde_runtime.analysis_leases import lapsed, read_analysis_lease
from lesde_runtime.analysis_state import mirrored_on_record, read_run_state, set_record_analysis, write_run_state
from lesde_runtime.job_repository import JobConflict, JobNotFound, JobRepository

from lesde_api.operations.job_views import ResourceMissing
from lesde_api.operations.links import analysis_links, with_experiment_links
from lesde_api.operations.queueing import enqueue

ACTIVE = ("queued", "running")
Result = TypeVar("Result")


class FigurePending(Exception):
    """A figure (another size, a shared-axes pair, a format an older result lacks) is being rendered; retry shortly."""


def _stored(repo: JobRepository, record: JobRecord, key: str, what: str, read: Callable[[], Result]) -> tuple[Result, dict | None]:
    """``(read(), state of option set key)``, or raise the 404/409 that says why ``read`` found nothing.

    The record (read by the caller) and the state are read before the result, the reverse
    of the worker's order (result first, state and record last): a state read as ended then
    means its result is stored. Read after the miss, the state may belong to a run that
    ended in between and turn the 409 into a 404, which a poller takes as final.
    """
    state = read_run_state(repo.store, record.id, key)
    try:
        return read(), state
    except ObjectNotFound:
        raise _missing(record, key, what, state) from None


def _missing(record: JobRecord, key: str, what: str, state: dict | None) -> Exception:
    """404 or 409 (as an exception to raise) when the result of ``key`` is not stored."""
    state = state or {}
    running = state.get("state") in ACTIVE or (
        key == DEFAULT_KEY and (not record.status.finished or record.analysis in (AnalysisState.queued, AnalysisState.running))
    )
    if running:
        return JobConflict(
            f"{what} of experiment {record.id} (options {key}) is not available yet: "
            f"{'the job is ' + record.status.value if not record.status.finished else 'its analysis is running'}; poll again"
        )
    detail = ""
    if state.get("state") == "failed":
        detail = f": the analysis failed: {state.get('error')}"
    elif key == DEFAULT_KEY and record.analysis_error:
        detail = f": {record.analysis_error}"
    elif record.status is not JobStatus.succeeded:
        detail = f": the job {record.status.value}"
    return ResourceMissing(f"no {what} for experiment {record.id} with options {key}{detail}")


def get_analysis(repo: JobRepository, job_id: str, *, key: str, max_points: int, with_series: bool) -> dict:
    """The stored summary, plus every series thinned to at most ``max_points`` records."""
    record = repo.get(job_id)
    summary, state = _stored(repo, record, key, "the analysis", lambda: repo.store.get_json(run_summary_key(job_id, key)))
    with_experiment_links(summary, job_id, key)
    if state is not None and state.get("state") != "succeeded":
        summary["latest_request"] = state  # a newer run is pending or failed; this result is the last good one
    if with_series:
        try:
            data = repo.store.get_bytes(run_series_key(job_id, key))
        except ObjectNotFound:
            return summary
        summary["series"] = downsample_series(data, max_points=max_points)
    return summary


def downsample_series(npz: bytes, *, max_points: int) -> dict[str, Any]:
    """``{group: {"records", "returned", name: nested list}}`` with each group's time axis thinned.

    Thinning keeps evenly spaced records (always the first and the last), not averages, so
    every value returned is one the analysis computed; NaN becomes null.
    """
    arrays = decode_chunk(npz)
    groups: dict[str, dict[str, Any]] = {}
    for full, value in sorted(arrays.items()):
        group, _, name = full.partition("/")
        groups.setdefault(group, {})[name] = value
    out: dict[str, Any] = {}
    for group, members in groups.items():
        if group == "samples":
            continue  # per-sample logits are for the figures; they are in the NPZ download
        n = len(members.get("t", next(iter(members.values()))))
        idx = np.unique(np.linspace(0, n - 1, min(n, max_points)).round().astype(int)) if n else np.zeros(0, int)
        entry: dict[str, Any] = {"records": n, "returned": int(idx.size)}
        for name, value in members.items():
            picked = value[idx] if value.ndim and len(value) == n else value
            entry[name] = finite_lists(picked)
        out[group] = entry
    return out


def open_series(repo: JobRepository, job_id: str, *, key: str) -> bytes:
    record = repo.get(job_id)
    return _stored(repo, record, key, "the series", lambda: repo.store.get_bytes(run_series_key(job_id, key)))[0]


def request_analysis(repo: JobRepository, job_id: str, options: AnalysisOptions, *, force: bool) -> tuple[dict, bool]:
    """Enqueue an analysis with ``options`` unless a complete result is cached; return ``(body, enqueued)``."""
    record = repo.get(job_id)
    if not repo.store.exists(object_keys.manifest_key(job_id)):
        raise JobConflict(f"experiment {job_id} has no data yet ({record.status.value}); analyse it once training has started")
    key = options_key(options)
    body: dict[str, Any] = {
        "job_id": job_id,
        "options_key": key,
        "options": options.model_dump(mode="json"),
        "links": analysis_links(job_id, key),
    }
    state = read_run_state(repo.store, job_id, key)
    if state is not None and state.get("state") in ACTIVE and not _analyzer_gone(repo, job_id, key, state):
        return body | {"state": state["state"], "cached": False}, False
    if not force:
        try:
            summary = repo.store.get_json(run_summary_key(job_id, key))
        except ObjectNotFound:
            summary = None
        if summary is not None and not summary.get("partial", False):
            return body | {"state": "succeeded", "cached": True}, False
    _mark(repo, record, key, body["options"], AnalysisState.queued)
    enqueue(
        celery_app.ANALYZE_EXPERIMENT,
        job_id,
        body["options"],
        on_failure=lambda error: _mark(repo, record, key, body["options"], AnalysisState.failed, error=error),
    )
    return body | {"state": "queued", "cached": False, "partial": not record.status.finished}, True


def _analyzer_gone(repo: JobRepository, job_id: str, key: str, state: dict) -> bool:
    """Whether a ``running`` analysis lost its analyzer (its lease lapsed): asked for again, it starts again."""
    if state.get("state") != AnalysisState.running.value:
        return False
    lease = read_analysis_lease(repo.store, job_id, key)
    return lease is not None and lapsed(lease, utcnow())


def _mark(repo: JobRepository, record: JobRecord, key: str, options: dict, state: AnalysisState, *, error: str | None = None) -> None:
    """Record option set ``key``'s state (and, where the record mirrors it, the job's)."""
    write_run_state(repo.store, record.id, key, state, options, error=error)
    if mirrored_on_record(record, key):
        set_record_analysis(repo, record.id, state, error=error)


def get_figure(
    repo: JobRepository,
    job_id: str,
    name: str,
    *,
    key: str,
    size: tuple[float, float, int] | None,
    fmt: str = "png",
    share_with: str | None = None,
    owner: str | None = None,
) -> bytes:
    """Figure ``name`` as ``fmt`` (``png``, ``svg``, ``pdf``); rendered on first request
    (:class:`FigurePending`, then stored) at a non-default ``size`` (width, height, dpi), with
    ``share_with``'s limits on shared axes, or in a format an older result was stored without.

    ``share_with``: another experiment, which must exist (and, with ``owner``, belong to that
    owner: 404 as for a missing id otherwise) and, to be rendered, have a result of the same
    option set (409 until it has).
    """
    record = repo.get(job_id)
    if name not in FIGURE_NAMES:
        raise ResourceMissing(f"no figure {name!r}; available: {list(FIGURE_NAMES)}")
    partner = _partner(repo, share_with, owner=owner) if share_with is not None else None
    if share_with == job_id:
        partner = share_with = None  # a figure on axes shared with itself is the figure
    if size == tuple(DEFAULT_FIGURE_SIZE):
        size = None  # the stored figure is this size
    if size is None and share_with is None:
        if fmt == "png":  # stored with every result
            return _stored(repo, record, key, f"figure {name!r}", lambda: repo.store.get_bytes(run_figure_key(job_id, key, name)))[0]
        try:
            return repo.store.get_bytes(run_figure_key(job_id, key, name, fmt=fmt))
        except ObjectNotFound:
            pass  # a result stored before SVG and PDF were: rendered on request at the default size
    width, height, dpi = size or DEFAULT_FIGURE_SIZE
    variant = figure_variant(width, height, dpi, share_with=share_with)
    try:
        return repo.store.get_bytes(run_figure_key(job_id, key, name, variant=variant, fmt=fmt))
    except ObjectNotFound:
        pass
    _stored(repo, record, key, f"figure {name!r}", lambda: repo.store.stat(run_summary_key(job_id, key)))
    if partner is not None:
        _partner_analysed(repo, partner, key)
    # six arguments as before when fmt and share_with are the defaults: a worker of the previous release takes them
    extra = (fmt, share_with) if fmt != "png" or share_with is not None else ()
    enqueue(celery_app.RENDER_FIGURE, job_id, key, name, width, height, dpi, *extra)  # nothing recorded: a retry asks again
    shared = f" on axes shared with experiment {share_with}" if share_with is not None else ""
    raise FigurePending(
        f"figure {name!r} as {fmt.upper()} at {figure_variant(width, height, dpi)}{shared} is being rendered; retry in a few seconds"
    )


def _partner(repo: JobRepository, other_id: str, *, owner: str | None) -> JobRecord:
    """The experiment a figure shares its axes with: 404 when it is missing or (``owner`` given) another owner's."""
    other = repo.get(other_id)
    if owner is not None and other.owner != owner:
        raise JobNotFound("experiment", other_id)  # the very answer of a missing id
    return other


def _partner_analysed(repo: JobRepository, other: JobRecord, key: str) -> None:
    """409 while the partner has no result of option set ``key`` to draw its half of the pair from."""
    try:
        repo.store.stat(run_summary_key(other.id, key))
    except ObjectNotFound:
        reason = _missing(other, key, "the analysis", read_run_state(repo.store, other.id, key))
        raise JobConflict(
            f"cannot share axes with experiment {other.id}: it has no analysis with options {key} yet ({reason}); "
            "analyse it with the same options, then ask again"
        ) from None

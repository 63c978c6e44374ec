"""Operations common to every job kind: public views, artifacts, analysis and figures."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable, Iterator

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound
from lesde_contract.records import ArtifactInfo, JobPublic, JobRecord, JobStatus, utcnow
from lesde_runtime import purge, tombstones
from lesde_runtime.job_repository import JobConflict, JobRepository, runs_under_lost_lease

from lesde_api.operations.links import artifact_url, job_links, with_simulation_links


class ResourceMissing(LookupError):
    """A sub-resource (artifact, analysis, figure) that does not exist (yet)."""


def public_view(repo: JobRepository, record: JobRecord, *, with_spec: bool = True) -> JobPublic:
    spec = repo.get_spec(record.id) if with_spec else None
    return JobPublic(**record.model_dump(), spec=spec, links=job_links(repo.kind, record.id))


def list_artifacts(repo: JobRepository, job_id: str) -> list[ArtifactInfo]:
    repo.get(job_id)
    prefix = object_keys.job_prefix(repo.kind, job_id)
    hidden = {object_keys.cancel_key(repo.kind, job_id)}
    artifacts = []
    for info in repo.store.list(prefix):
        if info.key in hidden:
            continue
        name = info.key[len(prefix) :]
        artifacts.append(
            ArtifactInfo(
                name=name,
                key=info.key,
                size=info.size,
                content_type=content_type_of(name),
                url=artifact_url(repo.kind, job_id, name),
            )
        )
    return artifacts


def content_type_of(name: str) -> str:
    if name.endswith(".npz"):
        return "application/octet-stream"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


#: an artifact name: relative path segments of these characters, none of them "." or ".." (checked before the store is asked)
ARTIFACT_SEGMENT = re.compile(r"[A-Za-z0-9_@+=-][A-Za-z0-9._@+=-]*")


def plain_artifact_name(name: str) -> bool:
    """Whether ``name`` is a plain relative path of allowed characters (no ``.``/``..`` segment, NUL, backslash, ``//``)."""
    segments = name.split("/")
    return bool(name) and len(name) <= 1024 and all(ARTIFACT_SEGMENT.fullmatch(part) for part in segments)


def open_artifact(repo: JobRepository, job_id: str, name: str) -> tuple[Iterator[bytes], int]:
    """Stream of the artifact's bytes and its size; :class:`ResourceMissing` if absent or not a plain name."""
    repo.get(job_id)
    if not plain_artifact_name(name) or name == "cancel":
        raise ResourceMissing(
            f"no artifact named {name!r}: names are relative paths of letters, digits and . _ - @ + = (no '.' or '..' segment)"
        )
    key = object_keys.job_prefix(repo.kind, job_id) + name
    if key == object_keys.status_key(repo.kind, job_id):  # the record as its owner may see it: no worker host or pid
        public = JobPublic.model_validate(repo.get(job_id).model_dump()).model_dump_json(exclude={"spec", "links"}, indent=2).encode()
        return iter([public]), len(public)
    try:
        size = repo.store.stat(key).size
        return repo.store.iter_bytes(key), size
    except ObjectNotFound:
        raise ResourceMissing(f"no artifact named {name!r} in {repo.kind} {job_id}") from None


def _finished_or_conflict(record: JobRecord, what: str) -> None:
    if not record.status.finished:
        raise JobConflict(
            f"{what} of {record.kind} {record.id} is not available while the job is {record.status.value}; "
            "poll the job until it has finished"
        )


def get_simulation_summary(repo: JobRepository, job_id: str) -> dict:
    """A simulation's result JSON, with its figures' links."""
    record = repo.get(job_id)
    try:
        return with_simulation_links(repo.store.get_json(object_keys.analysis_key(repo.kind, job_id, "summary")), job_id)
    except ObjectNotFound:
        _finished_or_conflict(record, "the analysis")
        detail = f": {record.analysis_error}" if record.analysis_error else ""
        if record.status is not JobStatus.succeeded:
            detail = f": the job {record.status.value}"
        raise ResourceMissing(f"no analysis 'summary' for {repo.kind} {job_id}{detail}") from None


def get_figure(repo: JobRepository, job_id: str, name: str) -> bytes:
    record = repo.get(job_id)
    try:
        return repo.store.get_bytes(object_keys.figure_key(repo.kind, job_id, name))
    except ObjectNotFound:
        _finished_or_conflict(record, "figures")
        available = sorted(
            info.key.rsplit("/", 1)[-1].removesuffix(".png")
            for info in repo.store.list(object_keys.job_prefix(repo.kind, job_id) + "figures/")
        )
        raise ResourceMissing(f"no figure {name!r} for {repo.kind} {job_id}; available: {available}") from None


def delete_job(repo: JobRepository, job_id: str, *, schedule_purge: Callable[[float, Callable[[], object]], None] | None = None) -> None:
    """Delete a job that is not running (409 while it is: cancel first), including an
    experiment whose analysis is still queued or running.

    Order: the tombstone (:func:`lesde_runtime.tombstones.bury`) first, then the objects. Every
    worker write checks the tombstone before and after it (``guarded_write``), so the
    analysis (or a redelivered task) stops at its next write and a write racing the
    delete removes itself. The one gap, a write that lands after the delete without its
    writer seeing the tombstone (the writer died between write and check, or the server
    completed a PUT the client had given up on), can only land within
    :func:`~lesde_runtime.tombstones.purge_delay_s` of the tombstone: the job's prefix is deleted
    again after that delay (``schedule_purge(delay, purge)``; by default the gateway's
    timer, :func:`lesde_runtime.purge.purge_later`), and the reaper's
    :func:`~lesde_runtime.tombstones.purge_buried` does it for a gateway that restarted meanwhile.
    The tombstone stays, so later writers stop too.
    """
    record = repo.get(job_id)
    if record.status is JobStatus.running and not runs_under_lost_lease(record, utcnow()):  # a gone worker writes nothing more
        raise JobConflict(f"{repo.kind} {job_id} is running; cancel it first, then delete it")
    if record.status is JobStatus.queued:
        repo.request_cancel(job_id)  # before the tombstone, which refuses record writes
    tombstones.bury(repo.store, repo.kind, job_id)
    repo.delete(job_id)
    (schedule_purge or purge.purge_later)(tombstones.purge_delay_s(), lambda: tombstones.purge(repo.store, repo.kind, job_id))

"""Operations common to every job kind: public views, artifacts, analysis and figures."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator

from lesde import keys
from lesde.jobs import JobConflict, JobRepository
from lesde.records import ArtifactInfo, JobPublic, JobRecord, JobStatus
from lesde.storage import ObjectNotFound
from lesde_api.operations.links import artifact_url, job_links, with_simulation_links


class ResourceMissing(LookupError):
    """A sub-resource (artifact, analysis, figure) that does not exist (yet)."""


def public_view(repo: JobRepository, record: JobRecord, *, with_spec: bool = True) -> JobPublic:
    spec = repo.get_spec(record.id) if with_spec else None
    return JobPublic(**record.model_dump(), spec=spec, links=job_links(repo.kind, record.id))


def list_artifacts(repo: JobRepository, job_id: str) -> list[ArtifactInfo]:
    repo.get(job_id)
    prefix = keys.job_prefix(repo.kind, job_id)
    hidden = {keys.cancel_key(repo.kind, job_id)}
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


def open_artifact(repo: JobRepository, job_id: str, name: str) -> tuple[Iterator[bytes], int]:
    """Stream of the artifact's bytes and its size; :class:`ResourceMissing` if absent."""
    repo.get(job_id)
    if not name or ".." in name.split("/") or name == "cancel":
        raise ResourceMissing(f"no artifact named {name!r}")
    key = keys.job_prefix(repo.kind, job_id) + name
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
        return with_simulation_links(repo.store.get_json(keys.analysis_key(repo.kind, job_id, "summary")), job_id)
    except ObjectNotFound:
        _finished_or_conflict(record, "the analysis")
        detail = f": {record.analysis_error}" if record.analysis_error else ""
        if record.status is not JobStatus.succeeded:
            detail = f": the job {record.status.value}"
        raise ResourceMissing(f"no analysis 'summary' for {repo.kind} {job_id}{detail}") from None


def get_figure(repo: JobRepository, job_id: str, name: str) -> bytes:
    record = repo.get(job_id)
    try:
        return repo.store.get_bytes(keys.figure_key(repo.kind, job_id, name))
    except ObjectNotFound:
        _finished_or_conflict(record, "figures")
        available = sorted(
            info.key.rsplit("/", 1)[-1].removesuffix(".png")
            for info in repo.store.list(keys.job_prefix(repo.kind, job_id) + "figures/")
        )
        raise ResourceMissing(f"no figure {name!r} for {repo.kind} {job_id}; available: {available}") from None


def delete_job(repo: JobRepository, job_id: str) -> None:
    record = repo.get(job_id)
    if record.status is JobStatus.running:
        raise JobConflict(f"{repo.kind} {job_id} is running; cancel it first, then delete it")
    if record.status is JobStatus.queued:
        repo.request_cancel(job_id)
    repo.delete(job_id)

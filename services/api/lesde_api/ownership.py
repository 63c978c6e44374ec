"""Another owner's job is a missing job: the router-wide dependency that says so.

Each job router declares :func:`owned_by_caller` once for all its routes, so a route added
later that takes the id is guarded without doing anything (``tests/api/test_ownership.py``
walks every route of the app to hold it to that). The answer for another owner's id is
:class:`~lesde_runtime.job_repository.JobNotFound`, the very 404 of an id that does not exist, so an id
reveals nothing about whether someone else's job has it.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from lesde_contract.records import JobKind
from lesde_runtime.job_repository import JobNotFound, JobRepository

from lesde_api.auth import caller_of
from lesde_api.deps import StoreDep


def owned_by_caller(kind: JobKind, id_param: str) -> Callable[..., None]:
    """A dependency: when ownership is enforced and the route's path has ``id_param``, the
    job must exist and belong to the caller, else 404 as for a missing id."""

    def require_owner(request: Request, store: StoreDep) -> None:
        job_id = request.path_params.get(id_param)
        if job_id is None or not caller_of(request).enforced:
            return
        record = JobRepository(store, kind).get(job_id)  # JobNotFound for a missing or malformed id
        if record.owner != caller_of(request).owner:
            raise JobNotFound(kind, job_id)

    return require_owner

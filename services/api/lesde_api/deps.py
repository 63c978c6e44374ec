"""FastAPI dependencies as typed aliases (one place builds settings and the store)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Query, Request
from lesde_contract.object_store import ObjectStore
from lesde_contract.records import JobStatus
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.settings import ApiSettings, LimitSettings
from lesde_runtime.storage import gateway_policy, make_store

from lesde_api.auth import caller_of
from lesde_api.operations import quota


@lru_cache
def get_store() -> ObjectStore:
    # The gateway's short retry budget: a request answers 503 quickly during an outage.
    return make_store(retry=gateway_policy())


@lru_cache
def get_api_settings() -> ApiSettings:
    return ApiSettings()


@lru_cache
def get_limits() -> LimitSettings:
    return LimitSettings()


StoreDep = Annotated[ObjectStore, Depends(get_store)]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_api_settings)]
LimitsDep = Annotated[LimitSettings, Depends(get_limits)]


def get_experiments(store: StoreDep) -> JobRepository:
    return JobRepository(store, "experiment")


def get_simulations(store: StoreDep) -> JobRepository:
    return JobRepository(store, "simulation")


def get_sweeps(store: StoreDep) -> JobRepository:
    return JobRepository(store, "sweep")


def get_datasets(store: StoreDep) -> JobRepository:
    return JobRepository(store, "dataset")


ExperimentsDep = Annotated[JobRepository, Depends(get_experiments)]
SimulationsDep = Annotated[JobRepository, Depends(get_simulations)]
SweepsDep = Annotated[JobRepository, Depends(get_sweeps)]
DatasetsDep = Annotated[JobRepository, Depends(get_datasets)]


def get_owner(request: Request) -> str:
    """Who submits: the owner of the caller's API key (``LESDE_DEFAULT_OWNER`` when no keys are configured)."""
    return caller_of(request).owner


OwnerDep = Annotated[str, Depends(get_owner)]


@dataclass(frozen=True)
class Listing:
    """What a listing asks for: filters and the page. ``nobody`` when the filter names
    another owner than the caller (ownership enforced): the page is empty, whoever exists."""

    status: JobStatus | None
    owner: str | None
    offset: int
    limit: int
    nobody: bool = False


def get_listing(
    request: Request,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    owner: Annotated[
        str | None, Query(max_length=100, description="Only this owner's jobs; with API keys, only your own name lists anything.")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Listing:
    caller = caller_of(request)
    if caller.enforced:  # a listing shows the caller's jobs only
        return Listing(status=status_filter, owner=caller.owner, offset=offset, limit=limit, nobody=owner not in (None, caller.owner))
    return Listing(status=status_filter, owner=owner, offset=offset, limit=limit)


ListingDep = Annotated[Listing, Depends(get_listing)]


class SubmissionQuota:
    """Admits an owner's new jobs under ``LESDE_MAX_UNFINISHED_JOBS_PER_OWNER`` (:mod:`lesde_api.operations.quota`)."""

    def __init__(self, store: ObjectStore, limit: int) -> None:
        self.store = store
        self.limit = limit

    def admit(self, owner: str, *, adding: int = 1) -> AbstractContextManager[None]:
        return quota.admitted(self.store, owner, adding=adding, limit=self.limit)


def get_quota(store: StoreDep, settings: ApiSettingsDep) -> SubmissionQuota:
    return SubmissionQuota(store, settings.max_unfinished_jobs_per_owner)


QuotaDep = Annotated[SubmissionQuota, Depends(get_quota)]

"""FastAPI dependencies as typed aliases (one place builds settings and the store)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Header, Query

from lesde.jobs import JobRepository
from lesde.records import JobStatus
from lesde.settings import ApiSettings, LimitSettings
from lesde.storage import ObjectStore, gateway_policy, make_store


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


ExperimentsDep = Annotated[JobRepository, Depends(get_experiments)]
SimulationsDep = Annotated[JobRepository, Depends(get_simulations)]
SweepsDep = Annotated[JobRepository, Depends(get_sweeps)]


def get_owner(
    settings: ApiSettingsDep,
    x_lesde_owner: Annotated[str | None, Header(max_length=100, pattern=r"^[\w.@-]+$")] = None,
) -> str:
    """Who submits. Until authentication lands, a header names the owner (or the default)."""
    return x_lesde_owner or settings.default_owner


OwnerDep = Annotated[str, Depends(get_owner)]



@dataclass(frozen=True)
class Listing:
    """What a listing asks for: filters and the page."""

    status: JobStatus | None
    owner: str | None
    offset: int
    limit: int


def get_listing(
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    owner: Annotated[str | None, Query(max_length=100)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Listing:
    return Listing(status=status_filter, owner=owner, offset=offset, limit=limit)


ListingDep = Annotated[Listing, Depends(get_listing)]

"""FastAPI dependencies as typed aliases (one place builds settings and the store)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Header

from lesde.jobs import JobRepository
from lesde.settings import ApiSettings, LimitSettings
from lesde.storage import ObjectStore, make_store


@lru_cache
def get_store() -> ObjectStore:
    return make_store()


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


ExperimentsDep = Annotated[JobRepository, Depends(get_experiments)]
SimulationsDep = Annotated[JobRepository, Depends(get_simulations)]


def get_owner(
    settings: ApiSettingsDep,
    x_lesde_owner: Annotated[str | None, Header(max_length=100, pattern=r"^[\w.@-]+$")] = None,
) -> str:
    """Who submits. Until authentication lands, a header names the owner (or the default)."""
    return x_lesde_owner or settings.default_owner


OwnerDep = Annotated[str, Depends(get_owner)]

"""Settings every service reads from the environment (prefix ``LESDE_``).

One pydantic-settings class per concern; each service builds the ones it needs.
Secrets (S3 keys) have no defaults: a service that talks to S3 refuses to start
without them, so a forgotten variable never silently means "anonymous".
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreKind(StrEnum):
    s3 = "s3"
    local = "local"


class StoreSettings(BaseSettings):
    """Where objects live: an S3/MinIO bucket or a local directory."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    store: StoreKind = StoreKind.s3
    local_store_dir: Path = Path(".lesde/store")
    s3_endpoint: str = "minio:9000"
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "lesde"
    s3_secure: bool = False
    s3_region: str | None = None

    @model_validator(mode="after")
    def _secrets_for_s3(self) -> "StoreSettings":
        if self.store is StoreKind.s3 and (self.s3_access_key is None or self.s3_secret_key is None):
            raise ValueError("LESDE_S3_ACCESS_KEY and LESDE_S3_SECRET_KEY must be set when LESDE_STORE=s3")
        return self


class BrokerSettings(BaseSettings):
    """The Celery broker. ``filesystem://`` selects the embedded, Redis-free transport."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    broker_url: str = "redis://redis:6379/0"
    broker_dir: Path = Path(".lesde/broker")


class LimitSettings(BaseSettings):
    """Caps that keep one request from monopolising the cluster."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    max_trial_iterations: int = Field(default=100_000_000, ge=1)
    max_import_bytes: int = Field(default=2_000_000_000, ge=1)
    max_sweep_points: int = Field(default=200, ge=1)  # children of one sweep
    max_sweep_trial_iterations: int = Field(default=1_000_000_000, ge=1)  # summed over a sweep's children


class ApiSettings(BaseSettings):
    """Settings of the HTTP gateway only."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    default_owner: str = "anonymous"
    page_size_max: int = Field(default=500, ge=1)


class TrainerSettings(BaseSettings):
    """Settings of the training worker only."""

    model_config = SettingsConfigDict(env_prefix="LESDE_", extra="ignore")

    data_dir: Path = Path(".lesde/data")
    device: str = "auto"
    cpu_threads: int = Field(default=0, ge=0, le=1_024)  # torch threads on CPU; 0: the CPUs we may use
    chunk_iterations: int = Field(default=500, ge=1, le=1_000_000)

"""Build the store a deployment is configured for."""

from __future__ import annotations

from lesde.settings import StoreKind, StoreSettings
from lesde.storage.base import ObjectStore


def make_store(settings: StoreSettings | None = None) -> ObjectStore:
    settings = settings or StoreSettings()
    if settings.store is StoreKind.local:
        from lesde.storage.local import LocalStore

        return LocalStore(settings.local_store_dir)
    from lesde.storage.s3 import S3Store

    assert settings.s3_access_key is not None and settings.s3_secret_key is not None  # checked by settings
    return S3Store(
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        bucket=settings.s3_bucket,
        secure=settings.s3_secure,
        region=settings.s3_region,
    )

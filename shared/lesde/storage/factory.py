"""Build the store a deployment is configured for."""

from __future__ import annotations

from lesde.settings import StoreKind, StoreSettings
from lesde.storage.base import ObjectStore
from lesde.storage.retry import RetryPolicy, worker_policy

# A connect that takes longer than this is a server that is not there (a refused
# connection answers at once): give the retry loop the time instead.
CONNECT_TIMEOUT_S = 3.0


def make_store(settings: StoreSettings | None = None, *, retry: RetryPolicy | None = None) -> ObjectStore:
    """The configured store; ``retry`` (default: the workers' budget, ``LESDE_STORE_RETRY_SECONDS``)
    says how long an operation rides out an outage. The gateway passes its short budget."""
    settings = settings or StoreSettings()
    retry = retry or worker_policy()
    if settings.store is StoreKind.local:
        from lesde.storage.local import LocalStore

        return LocalStore(settings.local_store_dir, retry=retry)
    from lesde.storage.s3 import S3Store

    assert settings.s3_access_key is not None and settings.s3_secret_key is not None  # checked by settings
    return S3Store(
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        bucket=settings.s3_bucket,
        secure=settings.s3_secure,
        region=settings.s3_region,
        retry=retry,
        connect_timeout_s=min(CONNECT_TIMEOUT_S, max(retry.budget_s, 0.5)),
    )

"""Build the store a deployment is configured for."""

from __future__ import annotations

from typing import Any

from lesde_contract.object_store import ObjectStore

from lesde_runtime.settings import BrokerSettings, StoreKind, StoreSettings
from lesde_runtime.storage.key_locks import KeyLocks, RedisKeyLocks
from lesde_runtime.storage.retry import RetryPolicy, worker_policy

# A connect that takes longer than this is a server that is not there (a refused
# connection answers at once): give the retry loop the time instead.
CONNECT_TIMEOUT_S = 3.0


def make_store(settings: StoreSettings | None = None, *, retry: RetryPolicy | None = None) -> ObjectStore:
    """The configured store; ``retry`` (default: the workers' budget, ``LESDE_STORE_RETRY_SECONDS``)
    says how long an operation rides out an outage. The gateway passes its short budget."""
    settings = settings or StoreSettings()
    retry = retry or worker_policy()
    if settings.store is StoreKind.local:
        from lesde_runtime.storage.local import LocalStore

        return LocalStore(settings.local_store_dir, retry=retry)
    from lesde_runtime.storage.s3 import S3Store

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
        key_locks=broker_key_locks(),
    )


def broker_key_locks(broker: BrokerSettings | None = None) -> KeyLocks | None:
    """Locks in the broker's Redis, for an S3 server that ignores conditional PUTs; ``None``
    where the broker is not Redis (the store then locks within its process, and says so).

    Every service already reaches that Redis, so the fallback needs no server of its own. The
    connection is opened on the first lock only: with a server that honours conditions, never."""
    url = (broker or BrokerSettings()).broker_url
    if not url.startswith(("redis://", "rediss://")):
        return None
    return RedisKeyLocks(lambda: _redis_client(url))


def _redis_client(url: str) -> Any:
    """A redis-py client for ``url``, made by kombu's Redis transport (what Celery uses), so
    that the contract declares no Redis client of its own."""
    from celery import Celery

    connection = Celery("lesde-key-locks", broker=url, set_as_current=False).connection_for_write()
    return connection.default_channel.client

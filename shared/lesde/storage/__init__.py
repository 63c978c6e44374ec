"""Object storage: one interface, an S3/MinIO implementation and a local-directory one."""

from lesde.storage.base import ObjectInfo, ObjectNotFound, ObjectStore, PreconditionFailed, StoreUnavailable
from lesde.storage.factory import make_store
from lesde.storage.retry import RetryPolicy, gateway_policy, outage_task_options, worker_policy

__all__ = [
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "PreconditionFailed",
    "RetryPolicy",
    "StoreUnavailable",
    "gateway_policy",
    "make_store",
    "outage_task_options",
    "worker_policy",
]

"""Object storage: one interface, an S3/MinIO implementation and a local-directory one."""

from lesde_contract.object_store import ObjectInfo, ObjectNotFound, ObjectStore, PreconditionFailed, StoreUnavailable

from lesde_runtime.storage.factory import make_store
from lesde_runtime.storage.retry import RetryPolicy, gateway_policy, outage_task_options, worker_policy

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

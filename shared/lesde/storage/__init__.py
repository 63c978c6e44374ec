"""Object storage: one interface, an S3/MinIO implementation and a local-directory one."""

from lesde.storage.base import ObjectInfo, ObjectNotFound, ObjectStore, StoreUnavailable
from lesde.storage.factory import make_store

__all__ = ["ObjectInfo", "ObjectNotFound", "ObjectStore", "StoreUnavailable", "make_store"]

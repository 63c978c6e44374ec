"""The object-store interface every service codes against.

Objects are immutable blobs under string keys (DESIGN section 4). Writers PUT whole
objects; readers never see a half-written one (both implementations guarantee it).

Objects that several processes rewrite (job records) are read with their *version*
(:meth:`ObjectStore.get_versioned`) and written back with a compare-and-swap
(:meth:`ObjectStore.put_if`): the write lands only if the object still has the version
that was read, else :class:`PreconditionFailed`, and the writer reads again. How a store
keeps that promise is its own affair (an S3 conditional PUT, a lock); its callers see one
semantic.
"""

from __future__ import annotations

import builtins
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO


class ObjectNotFound(KeyError):
    """No object under this key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no object under key {self.key!r}"


class StoreUnavailable(RuntimeError):
    """The backing store cannot serve the operation. The message names the operation and the
    object key, never the host, port or bucket (it reaches HTTP answers and job records).

    ``retryable``: the failure may pass (a connection error, a 5xx answer), so
    :class:`~lesde_runtime.storage.retry.RetryPolicy` tries again; otherwise (access denied, no
    bucket) waiting would not help.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class PreconditionFailed(RuntimeError):
    """A compare-and-swap lost: the object no longer has the version the writer read (or,
    for a create, it exists already). Nothing was written; read again and retry."""

    def __init__(self, key: str, expected: str | None) -> None:
        found = "exists already" if expected is None else f"is no longer at version {expected}"
        super().__init__(f"the object under {key!r} {found}")
        self.key = key
        self.expected = expected


def content_version(data: bytes) -> str:
    """A version that names the content itself (stores without a version of their own).

    Content-named versions admit A-B-A (a record rewritten to bytes it had before has
    its old version again); that is harmless for a compare-and-swap of whole records: a
    writer whose read matches the current bytes computed its change from the current state.
    """
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class ObjectStore(ABC):
    """Put, get, list and delete whole objects by key."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        """Store ``data`` under ``key`` atomically, replacing any previous object."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes:
        """Return the object's bytes; raise :class:`ObjectNotFound`."""

    @abstractmethod
    def iter_bytes(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Yield the object in pieces (for streamed downloads); raise :class:`ObjectNotFound` before yielding."""

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Size of the object; raise :class:`ObjectNotFound`."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """All objects whose key starts with ``prefix``, in lexicographic key order."""

    @abstractmethod
    def list_children(self, prefix: str) -> builtins.list[str]:
        """Immediate 'sub-folders' of ``prefix`` (keys up to the next '/'), sorted."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove one object; a missing key is not an error (deletes are idempotent)."""

    @abstractmethod
    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` when the store cannot serve requests."""

    def get_versioned(self, key: str) -> tuple[bytes, str]:
        """The object's bytes and its version, for a later :meth:`put_if`; raise :class:`ObjectNotFound`.

        This fallback names the version by the content (:func:`content_version`); a store
        with versions of its own (S3's ETag) overrides it."""
        data = self.get_bytes(key)
        return data, content_version(data)

    def put_if(self, key: str, data: bytes, *, expect: str | None, content_type: str = "application/octet-stream") -> str:
        """Store ``data`` under ``key`` only if the object is still at version ``expect``
        (``None``: only if there is no object); return the new version. Raise
        :class:`PreconditionFailed` (nothing written) otherwise.

        A store that cannot compare and swap does not offer it: this default refuses."""
        raise NotImplementedError(f"{type(self).__name__} offers no conditional writes (tried to write {key})")

    def put_file(self, key: str, handle: BinaryIO, size: int, *, content_type: str = "application/octet-stream") -> None:
        """Store ``size`` bytes read from ``handle`` under ``key`` atomically; stores override it to stream."""
        self.put_bytes(key, handle.read(size), content_type=content_type)

    def list_keys(self, folder: str) -> builtins.list[str]:
        """Keys of the objects directly in ``folder`` (not in its sub-folders), in byte order.

        Keys only, no sizes: what an index listing needs, one request per 1,000 keys on S3.
        Stores override it; this fallback filters the recursive :meth:`list`.
        """
        return [info.key for info in self.list(folder) if "/" not in info.key[len(folder) :]]

    def first_keys(self, folder: str, n: int) -> tuple[builtins.list[str], bool]:
        """At least the first ``n`` keys directly in ``folder`` in byte order (more when they
        come in the same request), and whether that is all of them. On S3 one request per
        1,000 keys read, so a listing page needs one request however many keys follow.
        This fallback reads them all."""
        return self.list_keys(folder), True

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix``; return how many."""
        keys = [info.key for info in self.list(prefix)]
        for key in keys:
            self.delete(key)
        return len(keys)

    def put_json(self, key: str, value: Any) -> None:
        self.put_bytes(key, json.dumps(value, separators=(",", ":")).encode(), content_type="application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

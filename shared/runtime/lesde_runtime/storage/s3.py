"""Object store on S3/MinIO through the ``minio`` client.

An S3 PUT is atomic per object, which gives the same never-half-written guarantee as
the local store. The bucket is created on first use if missing.

Every operation goes through :meth:`S3Store._call`: connection errors and 5xx answers
become a retryable :class:`StoreUnavailable` that :class:`~lesde_runtime.storage.retry.RetryPolicy`
retries for its budget; the messages name the operation and key, never the endpoint or
bucket (minio's and urllib3's own messages do, so they are not passed on).

Compare-and-swap (:meth:`S3Store.put_if`): the ETag is the version. A server that honours
conditional PUTs (:meth:`S3Store.honours_conditions`, probed once per store object) gets
``If-Match: <etag>`` / ``If-None-Match: *`` (:mod:`lesde_runtime.storage.s3_conditions`); for one that
ignores them the ETag is compared and the object written under a lock of the key
(:mod:`lesde_runtime.storage.key_locks`: Redis where configured).
"""

from __future__ import annotations

import builtins
import io
import logging
from collections.abc import Callable, Iterator
from typing import BinaryIO, TypeVar

import urllib3
from lesde_contract.object_store import ObjectInfo, ObjectNotFound, ObjectStore, PreconditionFailed, StoreUnavailable
from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError

from lesde_runtime.storage.key_locks import KeyLocks, ProcessKeyLocks
from lesde_runtime.storage.retry import RetryPolicy, describe, unavailable, worker_policy
from lesde_runtime.storage.s3_conditions import (
    PROBE_PREFIX,
    ConditionsNotSent,
    ConditionSupport,
    conditional_put,
    etag_of,
    probe_conditions,
    rejects_the_headers,
)
from lesde_runtime.storage.s3_keys import first_folder_keys, folder_keys

T = TypeVar("T")
log = logging.getLogger(__name__)

# What the probe saw, per store class, endpoint and bucket: one probe per process (a worker
# makes a store per task). No lock: two threads that probe at once both conclude the same.
_PROBED: dict[tuple[type, str, str], ConditionSupport] = {}

_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound"}
# S3 error codes that say "try again" whatever the status (throttling, a slow disk).
_TRANSIENT_CODES = {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "OperationAborted", "XMinioServerNotInitialized"}
_NO_BUCKET = "NoSuchBucket"


class S3Store(ObjectStore):
    def __init__(
        self,
        *,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        secure: bool = False,
        region: str | None = None,
        create_bucket: bool = True,
        retry: RetryPolicy | None = None,
        connect_timeout_s: float = 3.0,
        key_locks: KeyLocks | None = None,
    ) -> None:
        # No retries inside urllib3: ``retry`` retries whole operations for a budget in
        # seconds, and the connect timeout only has to notice a dead server.
        http = urllib3.PoolManager(
            # maxsize: one connection per thread that may use the store at once (the gateway runs up to 40 request
            # threads, anyio's default; 16 logged "Connection pool is full" thousands of times under load)
            timeout=urllib3.Timeout(connect=connect_timeout_s, read=60.0),
            retries=False,
            maxsize=64,
        )
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region, http_client=http)
        self.endpoint = endpoint
        self.bucket = bucket
        self.retry = retry or worker_policy()
        self._bucket_checked = False
        self._create_bucket = create_bucket
        # Used only if the server ignores conditional PUTs; without Redis, a lock of this process (logged).
        self.key_locks = key_locks or ProcessKeyLocks()
        self._conditions: ConditionSupport | None = None

    # -- errors and retries ------------------------------------------------------------
    def _call(self, operation: str, key: str | None, action: Callable[[], T], *, retry: bool = True) -> T:
        """``action()`` (which talks to S3) with the bucket checked, errors translated and outages retried."""

        def attempt() -> T:
            try:
                self._ensure_bucket()
                return action()
            except S3Error as error:
                if error.code in _MISSING and key is not None:
                    raise ObjectNotFound(key) from None
                if error.code == _NO_BUCKET:
                    self._bucket_checked = False  # deleted behind our back: the next attempt recreates it
                status = error.response.status if error.response is not None else 0
                retryable = status >= 500 or error.code in _TRANSIENT_CODES or error.code == _NO_BUCKET
                raise unavailable(operation, key, f"{error.code}, HTTP {status}", retryable=retryable) from error
            except ServerError as error:
                raise unavailable(operation, key, f"HTTP {error.status_code}", retryable=error.status_code >= 500) from error
            except InvalidResponseError as error:
                code = getattr(error, "_code", 0) or 0
                raise unavailable(operation, key, f"HTTP {code}, not an S3 answer", retryable=code >= 500 or code == 429) from error
            except (urllib3.exceptions.HTTPError, OSError, MinioException) as error:
                raise unavailable(operation, key, describe(error), retryable=True) from error

        return self.retry.run(attempt) if retry else attempt()

    def _ensure_bucket(self) -> None:
        if self._bucket_checked:
            return
        if not self.client.bucket_exists(self.bucket):
            if not self._create_bucket:
                raise StoreUnavailable("the object store's bucket does not exist (create it, or check LESDE_S3_BUCKET)")
            try:
                self.client.make_bucket(self.bucket)
            except S3Error as error:
                if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        self._bucket_checked = True

    # -- operations --------------------------------------------------------------------
    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        self.put_file(key, io.BytesIO(data), len(data), content_type=content_type)

    def put_file(self, key: str, handle: BinaryIO, size: int, *, content_type: str = "application/octet-stream") -> None:
        # A retry sends the bytes again from where they started; a stream that cannot
        # rewind gets one attempt.
        start = handle.tell() if handle.seekable() else None

        def put() -> None:
            if start is not None:
                handle.seek(start)
            self.client.put_object(self.bucket, key, handle, size, content_type=content_type)

        self._call("put", key, put, retry=start is not None)

    def get_bytes(self, key: str) -> bytes:
        def read() -> bytes:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        return self._call("get", key, read)

    def iter_bytes(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        response = self._call("get", key, lambda: self.client.get_object(self.bucket, key))

        def pieces() -> Iterator[bytes]:
            # Once bytes have been handed on, a failure cannot be retried from here.
            try:
                yield from response.stream(chunk_size)
            except (urllib3.exceptions.HTTPError, OSError) as error:
                raise unavailable("read", key, describe(error), retryable=False) from error
            finally:
                response.close()
                response.release_conn()

        return pieces()

    def stat(self, key: str) -> ObjectInfo:
        stat = self._call("stat", key, lambda: self.client.stat_object(self.bucket, key))
        return ObjectInfo(key=key, size=int(stat.size or 0))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        # Read whole inside the retry (a listing that fails halfway starts again), and
        # sorted here: not every S3 server lists in byte order (SeaweedFS walks its
        # directory tree, giving "a/b/1" before "a/b-1").
        found = self._call(
            "list",
            prefix,
            lambda: [
                ObjectInfo(key=obj.object_name, size=int(obj.size or 0))
                for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
                if not obj.is_dir
            ],
        )
        found.sort(key=lambda info: info.key)
        return iter(found)

    def list_keys(self, folder: str) -> builtins.list[str]:
        # Names only, parsed lean (s3_keys); sorted as in list() (server order is not byte order everywhere).
        return sorted(self._call("list", folder, lambda: folder_keys(self.client, self.bucket, folder)))

    def first_keys(self, folder: str, n: int) -> tuple[builtins.list[str], bool]:
        keys, complete = self._call("list", folder, lambda: first_folder_keys(self.client, self.bucket, folder, n))
        return sorted(keys), complete

    def list_children(self, prefix: str) -> builtins.list[str]:
        return sorted(
            self._call(
                "list",
                prefix,
                lambda: [obj.object_name for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=False) if obj.is_dir],
            )
        )

    def delete(self, key: str) -> None:
        self._call("delete", key, lambda: self.client.remove_object(self.bucket, key))

    # -- compare-and-swap ------------------------------------------------------------------
    def get_versioned(self, key: str) -> tuple[bytes, str]:
        """The object and its ETag, from one GET."""

        def read() -> tuple[bytes, str]:
            response = self.client.get_object(self.bucket, key)
            try:
                return response.read(), etag_of(response.headers.get("etag", ""))
            finally:
                response.close()
                response.release_conn()

        return self._call("get", key, read)

    def put_if(self, key: str, data: bytes, *, expect: str | None, content_type: str = "application/octet-stream") -> str:
        """Write ``data`` if the object's ETag is still ``expect`` (``None``: if there is no
        object); return the new ETag, or raise :class:`PreconditionFailed`.

        Retried through outages like every write. A PUT whose answer was lost may have
        landed: when a retry is then refused, the object holding exactly ``data`` means the
        earlier attempt wrote it, and that is success (another writer producing the very
        same bytes from the same version would have made the same change)."""
        send = self._conditional_put if self.honours_conditions() else self._locked_put
        tries = 0

        def attempt() -> str:
            nonlocal tries
            tries += 1
            try:
                return send(key, data, expect, content_type)
            except PreconditionFailed:
                landed = self._version_holding(key, data) if tries > 1 else None
                if landed is None:
                    raise
                return landed

        return self._call("put", key, attempt)

    def honours_conditions(self) -> bool:
        """Whether the server refuses PUTs whose ``If-Match`` / ``If-None-Match`` do not hold.

        Measured once per process and bucket, at the first conditional write, by
        :func:`~lesde_runtime.storage.s3_conditions.probe_conditions` (a probe object written with
        conditions that must be refused); logged with what was seen. A probe cut short by
        an outage concludes nothing and runs again at the next write."""
        if self._conditions is None:
            server = (type(self), self.endpoint, self.bucket)
            if server not in _PROBED:
                support = self._call("probe", PROBE_PREFIX, self._probe)
                self._log_support(support)
                _PROBED[server] = support
            self._conditions = _PROBED[server]
        return self._conditions.honoured

    def _log_support(self, support: ConditionSupport) -> None:
        findings = "; ".join(support.findings)
        if support.honoured:
            log.info("the S3 server honours conditional PUTs (%s): job records are written by compare-and-swap", findings)
            return
        log.warning(
            "the S3 server does not honour conditional PUTs (%s): job records are compared and written under %s",
            findings,
            "a Redis lock per record"
            if self.key_locks.between_processes
            else "a lock of this process only (no Redis configured): writers in other processes can still lose each other's updates",
        )

    def _probe(self) -> ConditionSupport:
        try:
            return probe_conditions(
                lambda key, data, expect: self._conditional_put(key, data, expect, "application/octet-stream"),
                lambda key: etag_of(self.client.stat_object(self.bucket, key).etag or ""),
                lambda key: self.client.remove_object(self.bucket, key),
            )
        except ConditionsNotSent as error:
            return ConditionSupport(honoured=False, findings=[str(error)])
        except (S3Error, InvalidResponseError) as error:
            if not rejects_the_headers(error):
                raise  # an outage or a refusal of another kind: the store's usual translation
            return ConditionSupport(honoured=False, findings=[f"a conditional PUT was rejected ({getattr(error, 'code', 'HTTP 501')})"])

    def _conditional_put(self, key: str, data: bytes, expect: str | None, content_type: str) -> str:
        return conditional_put(self.client, self.bucket, key, data, expect=expect, content_type=content_type)

    def _locked_put(self, key: str, data: bytes, expect: str | None, content_type: str) -> str:
        """Compare the ETag and write while holding the key's lock (a server that ignores conditions)."""
        with self.key_locks.hold(f"{self.bucket}/{key}"):
            try:
                current: str | None = etag_of(self.client.stat_object(self.bucket, key).etag or "")
            except S3Error as error:
                if error.code not in _MISSING:
                    raise
                current = None
            if current != expect:
                raise PreconditionFailed(key, expect)
            return etag_of(self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type).etag or "")

    def _version_holding(self, key: str, data: bytes) -> str | None:
        """The object's ETag if it holds exactly ``data`` now; else None."""
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as error:
            if error.code in _MISSING:
                return None
            raise
        try:
            return etag_of(response.headers.get("etag", "")) if response.read() == data else None
        finally:
            response.close()
            response.release_conn()

    def ping(self) -> None:
        self._bucket_checked = False
        self._call("be reached", None, lambda: None)

"""Object store on S3/MinIO through the ``minio`` client.

An S3 PUT is atomic per object, which gives the same never-half-written guarantee as
the local store. The bucket is created on first use if missing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

import urllib3
from minio import Minio
from minio.error import S3Error

from lesde.storage.base import ObjectInfo, ObjectNotFound, ObjectStore, StoreUnavailable

_MISSING = {"NoSuchKey", "NoSuchObject", "NotFound"}


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
    ) -> None:
        # Short timeouts and few retries: a readiness probe must answer quickly.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3.0, read=60.0),
            retries=urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
            maxsize=16,
        )
        self.client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region, http_client=http
        )
        self.bucket = bucket
        self._bucket_checked = False
        self._create_bucket = create_bucket

    def _ensure_bucket(self) -> None:
        if self._bucket_checked:
            return
        try:
            if not self.client.bucket_exists(self.bucket):
                if not self._create_bucket:
                    raise StoreUnavailable(f"bucket {self.bucket!r} does not exist")
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as error:
                    if error.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
        except (S3Error, urllib3.exceptions.HTTPError, OSError) as error:
            raise StoreUnavailable(f"S3 store unreachable: {error}") from error
        self._bucket_checked = True

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        self.put_file(key, io.BytesIO(data), len(data), content_type=content_type)

    def put_file(self, key: str, handle: BinaryIO, size: int, *, content_type: str = "application/octet-stream") -> None:
        self._ensure_bucket()
        self.client.put_object(self.bucket, key, handle, size, content_type=content_type)

    def _get(self, key: str):  # noqa: ANN202 - urllib3 response
        self._ensure_bucket()
        try:
            return self.client.get_object(self.bucket, key)
        except S3Error as error:
            if error.code in _MISSING:
                raise ObjectNotFound(key) from None
            raise

    def get_bytes(self, key: str) -> bytes:
        response = self._get(key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def iter_bytes(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        response = self._get(key)

        def pieces() -> Iterator[bytes]:
            try:
                yield from response.stream(chunk_size)
            finally:
                response.close()
                response.release_conn()

        return pieces()

    def stat(self, key: str) -> ObjectInfo:
        self._ensure_bucket()
        try:
            stat = self.client.stat_object(self.bucket, key)
        except S3Error as error:
            if error.code in _MISSING:
                raise ObjectNotFound(key) from None
            raise
        return ObjectInfo(key=key, size=int(stat.size or 0))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        self._ensure_bucket()
        # Sorted here: not every S3 server lists in byte order (SeaweedFS walks its
        # directory tree, giving "a/b/1" before "a/b-1").
        found = [
            ObjectInfo(key=obj.object_name, size=int(obj.size or 0))
            for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            if not obj.is_dir
        ]
        found.sort(key=lambda info: info.key)
        yield from found

    def list_children(self, prefix: str) -> list[str]:
        self._ensure_bucket()
        return sorted(
            obj.object_name
            for obj in self.client.list_objects(self.bucket, prefix=prefix, recursive=False)
            if obj.is_dir
        )

    def delete(self, key: str) -> None:
        self._ensure_bucket()
        self.client.remove_object(self.bucket, key)

    def ping(self) -> None:
        self._bucket_checked = False
        self._ensure_bucket()

"""Object store on a local directory: the embedded default (no MinIO needed).

Keys map to paths under ``root``. Writes go to a temporary file in the same directory
and are renamed into place, so a reader sees the old object or the new one, never half.

Compare-and-swap (:meth:`LocalStore.put_if`): the version is a hash of the content, and the
compare and the rename happen under an ``fcntl.flock`` of the key's lock file
(:mod:`lesde_runtime.storage.file_lock`), so writers in any process of this host exclude each other.
One host only: a folder shared over the network gets no guarantee from ``flock``. Lock
files are hidden as temporary files are (``.<name>.lock.partial``, never listed) and
removed with their key.

Errors: a key whose path the file system cannot even name (a component over 255 bytes)
holds no object, so reading it is :class:`ObjectNotFound`; other OS errors become
:class:`StoreUnavailable` (retried by ``retry`` when they may pass: a full disk, a
stale network mount), with messages that name the key but not the folder.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, TypeVar

from lesde_contract.object_store import ObjectInfo, ObjectNotFound, ObjectStore, PreconditionFailed, StoreUnavailable, content_version

from lesde_runtime.storage.file_lock import exclusive
from lesde_runtime.storage.retry import TRANSIENT_ERRNOS, RetryPolicy, describe, unavailable, worker_policy

T = TypeVar("T")

_TMP_SUFFIX = ".partial"
_LOCK_SUFFIX = ".lock" + _TMP_SUFFIX
_LONGEST_READABLE_LOCK_NAME = 200  # bytes of a key's last segment that still fit in its lock file's name
_NO_SUCH_PATH = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class LocalStore(ObjectStore):
    def __init__(self, root: Path | str, *, retry: RetryPolicy | None = None) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.retry = retry or worker_policy()

    def _path(self, key: str) -> Path:
        if not key or key.startswith("/") or ".." in key.split("/") or key.endswith(_TMP_SUFFIX):
            raise ValueError(f"invalid object key {key!r}")
        return self.root / key

    @staticmethod
    def _check_prefix(prefix: str) -> None:
        if prefix.startswith("/") or ".." in prefix.split("/"):
            raise ValueError(f"invalid key prefix {prefix!r}")

    def _call(self, operation: str, key: str, action: Callable[[], T], *, reading: bool, retry: bool = True) -> T:
        """``action()`` with OS errors translated (see the module docstring) and passing ones retried."""

        def attempt() -> T:
            try:
                return action()
            except OSError as error:
                if error.errno is None:
                    raise  # not an answer of the file system (no errno): not ours to translate
                unnamable = error.errno == errno.ENAMETOOLONG
                if reading and (unnamable or isinstance(error, _NO_SUCH_PATH)):
                    raise ObjectNotFound(key) from None
                if unnamable:
                    raise ValueError(f"invalid object key {key[:80]!r}...: a name in it is too long for the file system") from None
                # A write that meets a missing folder raced a delete that pruned it: try again.
                retryable = error.errno in TRANSIENT_ERRNOS or isinstance(error, FileNotFoundError)
                raise unavailable(operation, key, describe(error), retryable=retryable) from error

        return self.retry.run(attempt) if retry else attempt()

    @staticmethod
    def _has_object(directory: Path) -> bool:
        """True if a visible object lies anywhere below ``directory`` (not just folders or .partial files)."""
        for _dirpath, _dirs, files in os.walk(directory):
            if any(not name.endswith(_TMP_SUFFIX) for name in files):
                return True
        return False

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        self.put_file(key, io.BytesIO(data), len(data))

    def put_file(self, key: str, handle: BinaryIO, size: int, *, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        start = handle.tell() if handle.seekable() else None  # a retry rewinds; a stream that cannot gets one attempt

        def put() -> None:
            if start is not None:
                handle.seek(start)
            _replace(path, handle)

        self._call("put", key, put, reading=False, retry=start is not None)

    def put_if(self, key: str, data: bytes, *, expect: str | None, content_type: str = "application/octet-stream") -> str:
        """Replace the object if its content still hashes to ``expect`` (``None``: if there is
        none), under the key's file lock; return the new content's hash."""
        path = self._path(key)

        def swap() -> str:
            lock_file = _lock_file(path)
            with exclusive(lock_file):
                try:
                    current: str | None = content_version(path.read_bytes())
                except FileNotFoundError:
                    current = None
                if current != expect:
                    if current is None:  # a late writer of a deleted object leaves no lock file behind
                        lock_file.unlink(missing_ok=True)
                    raise PreconditionFailed(key, expect)
                _replace(path, io.BytesIO(data))
            return content_version(data)

        return self._call("put", key, swap, reading=False)

    def get_bytes(self, key: str) -> bytes:
        path = self._path(key)
        return self._call("get", key, path.read_bytes, reading=True)

    def iter_bytes(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        path = self._path(key)
        handle = self._call("get", key, lambda: path.open("rb"), reading=True)

        def pieces() -> Iterator[bytes]:
            with handle:
                while piece := self._call("read", key, lambda: handle.read(chunk_size), reading=False, retry=False):
                    yield piece

        return pieces()

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)

        def size() -> int:
            if not path.is_file():
                raise FileNotFoundError(errno.ENOENT, "not a file")
            return path.stat().st_size

        return ObjectInfo(key=key, size=self._call("stat", key, size, reading=True))

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        self._check_prefix(prefix)
        base = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root

        def walk() -> list[ObjectInfo]:
            if not base.is_dir():
                return []
            found = []
            for dirpath, _dirs, files in os.walk(base):
                for name in files:
                    if name.endswith(_TMP_SUFFIX):
                        continue
                    key = Path(dirpath, name).relative_to(self.root).as_posix()
                    if key.startswith(prefix):
                        try:
                            found.append(ObjectInfo(key=key, size=Path(dirpath, name).stat().st_size))
                        except FileNotFoundError:
                            continue  # deleted while we walked
            return found

        found = self._listing(prefix, walk)
        found.sort(key=lambda info: info.key)
        return iter(found)

    def _listing(self, prefix: str, walk: Callable[[], builtins.list[T]]) -> builtins.list[T]:
        """A listing: nothing under a prefix the file system cannot name."""
        try:
            return self._call("list", prefix, walk, reading=True)
        except ObjectNotFound:
            return []

    def list_keys(self, folder: str) -> builtins.list[str]:
        # One directory read, no stat per file: an index folder can hold 10,000 entries.
        self._check_prefix(folder)
        if folder and not folder.endswith("/"):
            raise ValueError(f"a folder ends with '/', got {folder!r}")

        def scan() -> list[str]:
            entries = list(os.scandir(self.root / folder if folder else self.root))
            return sorted(folder + entry.name for entry in entries if not entry.name.endswith(_TMP_SUFFIX) and entry.is_file())

        return self._listing(folder, scan)

    def list_children(self, prefix: str) -> builtins.list[str]:
        # S3 semantics: the common prefixes up to the next '/' of the keys under ``prefix``
        # (so "" lists the top level, and a folder without objects is not listed).
        self._check_prefix(prefix)
        parent, _, stem = prefix.rpartition("/")
        base = self.root / parent if parent else self.root
        head = parent + "/" if parent else ""

        def scan() -> list[str]:
            if not base.is_dir():
                return []
            return sorted(
                head + entry.name + "/"
                for entry in base.iterdir()
                if entry.name.startswith(stem) and entry.is_dir() and self._has_object(entry)
            )

        return self._listing(prefix, scan)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            self._call("delete", key, lambda: _unlink_with_lock_file(path), reading=True)
        except ObjectNotFound:
            pass  # a name the file system cannot hold was never stored

    def delete_prefix(self, prefix: str) -> int:
        removed = super().delete_prefix(prefix)
        # Drop the now-empty folders so listings of children stay truthful.
        base = self.root / prefix
        if prefix.endswith("/") and base.is_dir():
            for dirpath, _dirs, _files in sorted(os.walk(base), key=lambda item: -len(item[0])):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    pass
        return removed

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StoreUnavailable("the local store's folder is not writable")


def _replace(path: Path, handle: BinaryIO) -> None:
    """Write ``handle`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=_TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as target:
            shutil.copyfileobj(handle, target, 1 << 20)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _lock_file(path: Path) -> Path:
    """The lock file of the object at ``path``: hidden beside it as a temporary file is."""
    name = path.name if len(path.name.encode()) <= _LONGEST_READABLE_LOCK_NAME else hashlib.sha256(path.name.encode()).hexdigest()
    return path.with_name(f".{name}{_LOCK_SUFFIX}")


def _unlink_with_lock_file(path: Path) -> None:
    """Remove the object and, if it has one, its lock file (under the lock, so that a writer
    waiting for it moves on to a new one: see :mod:`lesde_runtime.storage.file_lock`)."""
    lock_file = _lock_file(path)
    if not lock_file.exists():
        path.unlink(missing_ok=True)
        return
    with exclusive(lock_file):
        path.unlink(missing_ok=True)
        lock_file.unlink(missing_ok=True)

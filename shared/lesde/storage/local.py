"""Object store on a local directory: the embedded default (no MinIO needed).

Keys map to paths under ``root``. Writes go to a temporary file in the same directory
and are renamed into place, so a reader sees the old object or the new one, never half.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from lesde.storage.base import ObjectInfo, ObjectNotFound, ObjectStore, StoreUnavailable

_TMP_SUFFIX = ".partial"


class LocalStore(ObjectStore):
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not key or key.startswith("/") or ".." in key.split("/") or key.endswith(_TMP_SUFFIX):
            raise ValueError(f"invalid object key {key!r}")
        return self.root / key

    @staticmethod
    def _check_prefix(prefix: str) -> None:
        if prefix.startswith("/") or ".." in prefix.split("/"):
            raise ValueError(f"invalid key prefix {prefix!r}")

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
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=_TMP_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as target:
                shutil.copyfileobj(handle, target, 1 << 20)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def iter_bytes(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

        def pieces() -> Iterator[bytes]:
            with handle:
                while piece := handle.read(chunk_size):
                    yield piece

        return pieces()

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return ObjectInfo(key=key, size=path.stat().st_size)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        self._check_prefix(prefix)
        base = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not base.is_dir():
            return iter(())
        found = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.endswith(_TMP_SUFFIX):
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(ObjectInfo(key=key, size=Path(dirpath, name).stat().st_size))
        found.sort(key=lambda info: info.key)
        return iter(found)

    def list_children(self, prefix: str) -> list[str]:
        # S3 semantics: the common prefixes up to the next '/' of the keys under ``prefix``
        # (so "" lists the top level, and a folder without objects is not listed).
        self._check_prefix(prefix)
        parent, _, stem = prefix.rpartition("/")
        base = self.root / parent if parent else self.root
        if not base.is_dir():
            return []
        head = parent + "/" if parent else ""
        return sorted(
            head + entry.name + "/"
            for entry in base.iterdir()
            if entry.name.startswith(stem) and entry.is_dir() and self._has_object(entry)
        )

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

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
            raise StoreUnavailable(f"local store {self.root} is not writable")

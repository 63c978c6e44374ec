"""A recorded run folder seen as an object store (read-only), so the analyzer reads it as it
reads a stored experiment: key ``experiments/<run id>/<path>`` is the file ``<folder>/<path>``."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from pathlib import Path

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectInfo, ObjectNotFound, ObjectStore


class RunFolderStore(ObjectStore):
    """The objects of one run, ``run_id``, held in ``folder`` (the layout of :mod:`lesde.recorder.run_folder`)."""

    def __init__(self, folder: Path | str, run_id: str) -> None:
        self.folder = Path(folder)
        self.prefix = object_keys.job_prefix("experiment", run_id)

    def _path(self, key: str) -> Path:
        if not key.startswith(self.prefix) or ".." in key.split("/"):
            raise ObjectNotFound(key)
        return self.folder / key[len(self.prefix) :]

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def iter_bytes(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        data = self.get_bytes(key)
        return iter([data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] or [b""])

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return ObjectInfo(key=key, size=path.stat().st_size)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        found = [
            ObjectInfo(key=self.prefix + path.relative_to(self.folder).as_posix(), size=path.stat().st_size)
            for path in self.folder.rglob("*")
            if path.is_file() and not path.name.endswith(".partial")
        ]
        return iter(sorted((info for info in found if info.key.startswith(prefix)), key=lambda info: info.key))

    def list_children(self, prefix: str) -> builtins.list[str]:
        return sorted({prefix + info.key[len(prefix) :].split("/", 1)[0] for info in self.list(prefix) if "/" in info.key[len(prefix) :]})

    def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream") -> None:
        raise PermissionError(f"a recorded run folder is read-only here (tried to write {key})")

    def delete(self, key: str) -> None:
        raise PermissionError(f"a recorded run folder is read-only here (tried to delete {key})")

    def ping(self) -> None:
        if not self.folder.is_dir():
            raise ObjectNotFound(str(self.folder))

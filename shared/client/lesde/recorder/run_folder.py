"""A recorded run on disk: the contents of an experiment's prefix in the object store.

Layout (the same objects the trainer writes under ``experiments/<id>/``, so the analyzer
reads a run folder and a stored experiment with one code path)::

    <folder>/spec.json                        what was recorded (classes, trials, the recorder)
    <folder>/chunks/<stream>/<first>-<last>.npz
    <folder>/manifest.json                    written last: the chunks, their checksums, how far it got

The manifest names chunks by their store key (``experiments/<run id>/chunks/...``); the
run id is a fresh random id, replaced by the server's job id when the run is uploaded.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

import numpy as np
from lesde_contract import object_keys
from lesde_contract.chunks.format import checksum, encode_chunk
from lesde_contract.chunks.manifest import Manifest

SPEC_FILE = "spec.json"
MANIFEST_FILE = "manifest.json"


class RunFolderExists(FileExistsError):
    """The folder already holds a recorded run (its manifest); a new run would mix with it."""


def new_run_id() -> str:
    """A random id in the store's id alphabet (``[a-z0-9]{16}``)."""
    return secrets.token_hex(8)


def relative_path(key: str) -> str:
    """A store key of the run (``experiments/<id>/chunks/...``) as a path inside its folder."""
    parts = key.split("/", 2)
    if len(parts) != 3 or parts[0] != "experiments":
        raise ValueError(f"not a key of an experiment's objects: {key!r}")
    return parts[2]


class RunFolder:
    """Writes one recorded run's chunks, spec and manifest into ``folder``."""

    def __init__(self, folder: Path | str, *, run_id: str | None = None) -> None:
        self.folder = Path(folder)
        if (self.folder / MANIFEST_FILE).exists():
            raise RunFolderExists(
                f"{self.folder} already holds a recorded run ({MANIFEST_FILE}); choose a new folder, delete it, or pass overwrite=True"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.manifest = Manifest(job_id=run_id or new_run_id())

    def put(self, stream: str, first: int, last: int, arrays: dict[str, np.ndarray]) -> None:
        """Write one chunk (iterations ``first..last``) and list it (the manifest is written by :meth:`commit`)."""
        data = encode_chunk(arrays)
        key = object_keys.chunk_key(self.manifest.job_id, stream, first, last)
        _write_atomically(self.folder / relative_path(key), data)
        self.manifest.chunks[stream].append(
            {"key": key, "first": first, "last": last, "records": len(arrays["iteration"]), "checksum": checksum(data), "size": len(data)}
        )

    def commit(self, spec: dict, iterations_done: int) -> None:
        """Write the spec, then the manifest (complete): the run is readable from here on."""
        _write_atomically(self.folder / SPEC_FILE, json.dumps(spec, indent=1).encode())
        self.manifest.iterations_done = iterations_done
        self.manifest.complete = True
        _write_atomically(self.folder / MANIFEST_FILE, json.dumps(self.manifest.to_json(), indent=1).encode())


def remove_run(folder: Path | str) -> None:
    """Delete the recorded run in ``folder`` (its manifest, spec, chunks and spool), nothing else there."""
    folder = Path(folder)
    for name in (MANIFEST_FILE, SPEC_FILE):
        (folder / name).unlink(missing_ok=True)
    for sub in ("chunks", ".spool"):
        shutil.rmtree(folder / sub, ignore_errors=True)


def read_run(folder: Path | str) -> tuple[Manifest, dict]:
    """``(manifest, spec)`` of a recorded run folder; FileNotFoundError naming what is missing."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.exists():
        raise FileNotFoundError(f"{folder} is not a recorded run: it has no {MANIFEST_FILE} (was Recorder.close() called?)")
    manifest = Manifest.from_json(json.loads(manifest_path.read_text()))
    spec = json.loads((folder / SPEC_FILE).read_text())
    return manifest, spec


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary name and rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)

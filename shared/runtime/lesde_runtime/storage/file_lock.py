"""An exclusive ``fcntl.flock`` on a lock file: the local store's compare-and-swap holds one per key.

``flock`` excludes every process of the host that locks the same file (and the threads of
one process too, each opening its own descriptor). It is released when the descriptor is
closed, also when the holder dies, so a crashed writer never leaves a key locked.

A lock file may be removed (the local store removes a key's lock file with the key, so that
emptied folders can be pruned). Whoever takes the lock therefore checks, once it holds it,
that the path still names the file it locked; if the file was removed meanwhile, another
writer may lock a new file of the same name, so it starts again with that one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``lock_file`` (created if missing) while the block runs."""
    while True:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if _names(lock_file, descriptor):
                break
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)  # removed while we waited: lock the file now under that name
    try:
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _names(lock_file: Path, descriptor: int) -> bool:
    """Whether ``lock_file`` is still the file open as ``descriptor``."""
    try:
        current = os.stat(lock_file)
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino)

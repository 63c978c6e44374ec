"""An index of job records kept in the store itself, so that a listing page costs O(page).

Without it a listing reads every record of its kind. With it, each record has one small
object (an *entry*) in each folder a listing can ask for::

    index/<kind>/all/<order>-<id>
    index/<kind>/status/<status>/<order>-<id>
    index/<kind>/owner/<owner>/all/<order>-<id>
    index/<kind>/owner/<owner>/status/<status>/<order>-<id>
    index/<kind>/complete                 # every record stored before the index has its entries

``<order>`` is created-at inverted (10^17 - 1 minus microseconds since the epoch, zero
padded), so byte order of the names is newest first, ties in id order as before. A listing
lists the names in one folder (keys only: 1,000 a request on S3, one directory read on the
local store), takes its page by slicing, and reads only that page's records, in parallel;
``count`` is the number of names. So a page costs one keys-only request per 1,000 matching
jobs (for the count) and one read per row. Progress is not in the name because it changes
every chunk; the record of each row is read anyway, and it is the truth.

Write order (:class:`lesde_runtime.job_repository.JobRepository`), chosen so that a crash leaves an extra
entry, never a record missing from a listing:

- create: the entries, then the record;
- a save whose status has no entry yet (a status change, or a record from before the
  index): the new status's entries, then the record, then the other statuses' entries;
- delete: the job's objects and record, then every entry.

A writer that dies between two of these steps leaves entries whose record is gone or has
another status. Listings drop such a row from the page (so the page can be short) but
count it until :func:`heal` removes it. :func:`heal` is the periodic repair (the reaper
runs it): it lists every entry, then reads every record (O(stored jobs), so not per
request), writes the entries a record lacks and deletes extra entries older than
``LESDE_INDEX_HEAL_GRACE_S``. Each entry's body is the time it was written, and a
younger extra entry may belong to a writer between its index write and its record write.
The next write of a record also restores its entries when its status entry is missing.
Record writes are compare-and-swaps (:meth:`lesde_runtime.job_repository.JobRepository.update`): of two writers
racing on one record (a cancel and a worker's start) one wins and removes the other statuses'
entries; the loser writes nothing, and if it gives up rather than retrying, the entries it
wrote for a status the record never took are extra entries until a heal.

:func:`rebuild` migrates a store written before the index existed (a heal, then the
``complete`` marker); a listing runs it for its kind the first time it finds no marker.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound, ObjectStore
from lesde_contract.records import JobKind, JobRecord, JobStatus

from lesde_runtime.settings import JobIndexSettings

KINDS: tuple[JobKind, ...] = ("experiment", "simulation", "sweep", "dataset")
ROOT = "index/"
_NEWEST_FIRST = 10**17 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Owners that are safe as one key segment on every store keep their name (readable in
# the bucket); any other (".", "..", "/", very long) becomes a hash, marked by "~".
_READABLE_OWNER = re.compile(r"^[A-Za-z0-9_@-][A-Za-z0-9_.@-]{0,99}$")
_RECORD_BATCH = 256

T = TypeVar("T")
R = TypeVar("R")


@lru_cache
def _settings() -> JobIndexSettings:
    return JobIndexSettings()


# -- names ---------------------------------------------------------------------
def owner_segment(owner: str) -> str:
    """The owner as one key segment."""
    if _READABLE_OWNER.match(owner):
        return owner
    return "~" + hashlib.sha256(owner.encode()).hexdigest()


def folder(kind: JobKind, *, status: JobStatus | None = None, owner: str | None = None) -> str:
    """The folder whose entries are the jobs of ``kind`` matching both filters (None: any)."""
    return _folder(kind, None if owner is None else owner_segment(owner), _tail(status))


def _tail(status: JobStatus | None) -> str:
    return "all/" if status is None else f"status/{JobStatus(status).value}/"


def _folder(kind: JobKind, segment: str | None, tail: str) -> str:
    return f"{ROOT}{kind}/" + ("" if segment is None else f"owner/{segment}/") + tail


def entry_name(record: JobRecord) -> str:
    """``<inverted created-at>-<id>``: byte order is newest first."""
    created = record.created_at if record.created_at.tzinfo else record.created_at.replace(tzinfo=UTC)
    micros = (created - _EPOCH) // timedelta(microseconds=1)
    return f"{_NEWEST_FIRST - micros:017d}-{record.id}"


def job_id_of(name: str) -> str:
    return name.rsplit("-", 1)[-1]


def entry_keys(kind: JobKind, record: JobRecord) -> list[str]:
    """The four entries the record has at its current status."""
    name = entry_name(record)
    return [folder(kind) + name, folder(kind, owner=record.owner) + name, *_status_keys(kind, record, record.status)]


def _status_keys(kind: JobKind, record: JobRecord, status: JobStatus) -> list[str]:
    name = entry_name(record)
    return [folder(kind, status=status) + name, folder(kind, status=status, owner=record.owner) + name]


def _other_status_keys(kind: JobKind, record: JobRecord) -> list[str]:
    return [key for status in JobStatus if status is not record.status for key in _status_keys(kind, record, status)]


def complete_marker(kind: JobKind) -> str:
    return f"{ROOT}{kind}/complete"


# -- parallel store calls ----------------------------------------------------------
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_settings().index_read_threads, thread_name_prefix="job-index")
        return _pool


def _forget_pool_after_fork() -> None:
    # A prefork worker's child inherits the pool object but none of its threads (and
    # perhaps a held lock): it makes its own on first use.
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _each(call: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``call`` on every item, at once when there are several (each is one store request)."""
    if len(items) <= 1:
        return [call(item) for item in items]
    return list(_executor().map(call, items))


def _put_entries(store: ObjectStore, entries: Sequence[str]) -> None:
    written = f"{time.time():.3f}".encode()
    _each(lambda key: store.put_bytes(key, written, content_type="text/plain"), entries)


def _delete(store: ObjectStore, entries: Sequence[str]) -> None:
    _each(store.delete, entries)


# -- writes (called by JobRepository around its record writes) -----------------------
def add(store: ObjectStore, kind: JobKind, record: JobRecord) -> None:
    """Write the record's entries: before the record itself, so it is never unlisted."""
    _put_entries(store, entry_keys(kind, record))


@contextmanager
def recording(store: ObjectStore, kind: JobKind, record: JobRecord, *, moved: bool = False) -> Iterator[None]:
    """Wrap a write of ``record``: its entries before it when its status has none, the
    other statuses' entries removed after it. A progress save costs one existence check.

    ``moved``: the write changes the record's status. Its new status may have entries
    already (an earlier attempt of the same compare-and-swap wrote them, then lost the
    race), and the old status's entries must still go after the write."""
    present = store.exists(folder(kind, status=record.status) + entry_name(record))
    if present and not moved:
        yield
        return
    if not present:
        add(store, kind, record)
    yield  # an error in the record write skips the removal: the old status is still the record's
    _delete(store, _other_status_keys(kind, record))


def forget(store: ObjectStore, kind: JobKind, record: JobRecord) -> None:
    """Remove every entry of a deleted job (after its record is gone)."""
    _delete(store, entry_keys(kind, record) + _other_status_keys(kind, record))


# -- reads -------------------------------------------------------------------------
def read_records(store: ObjectStore, kind: JobKind, job_ids: Sequence[str]) -> list[JobRecord | None]:
    """The records of ``job_ids``, read in parallel; None where one is gone."""

    def read(job_id: str) -> JobRecord | None:
        try:
            return JobRecord.model_validate(store.get_json(object_keys.status_key(kind, job_id)))
        except ObjectNotFound:
            return None

    return _each(read, job_ids)


def stored_records(store: ObjectStore, kind: JobKind) -> Iterator[JobRecord]:
    """Every record of ``kind`` in the store, found by walking the records, not the index."""
    job_ids = [prefix.rstrip("/").rsplit("/", 1)[-1] for prefix in store.list_children(f"{kind}s/")]
    for start in range(0, len(job_ids), _RECORD_BATCH):
        # None: half-created, or deleted meanwhile
        yield from (record for record in read_records(store, kind, job_ids[start : start + _RECORD_BATCH]) if record)


def page(
    store: ObjectStore,
    kind: JobKind,
    *,
    status: JobStatus | None = None,
    owner: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[JobRecord], int]:
    """Newest first: ``(records on the page, entries matching)``."""
    _ensure_complete(store, kind)
    where = folder(kind, status=status, owner=owner)
    keys, complete = store.first_keys(where, offset + limit)
    names = [key[len(where) :] for key in keys]
    rows = read_records(store, kind, [job_id_of(name) for name in names[offset : offset + limit]])
    matching = [
        record
        for record in rows
        if record is not None and (status is None or record.status == status) and (owner is None or record.owner == owner)
    ]
    return matching, len(names) if complete else _counts.get(store, where)


class _FolderCounts:
    """Entry counts of large folders (more than one listing request of names), kept for
    ``LESDE_INDEX_COUNT_TTL_S`` and refreshed in the background once older: a listing page
    then costs its own request and records, not one request per 1,000 matching jobs. The
    count may lag the folder by about that long; 0 counts on every call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: weakref.WeakKeyDictionary[ObjectStore, dict[str, tuple[int, float]]] = weakref.WeakKeyDictionary()
        self._refreshing: set[tuple[int, str]] = set()

    def get(self, store: ObjectStore, where: str) -> int:
        ttl = _settings().index_count_ttl_s
        now = time.monotonic()
        with self._lock:
            known = self._known.setdefault(store, {}).get(where)
        if known is None or ttl == 0:
            return self._count(store, where)
        count, at = known
        if now - at >= ttl:
            self._refresh_later(store, where)
        return count

    def _count(self, store: ObjectStore, where: str) -> int:
        count = len(store.list_keys(where))
        with self._lock:
            self._known.setdefault(store, {})[where] = (count, time.monotonic())
        return count

    def _refresh_later(self, store: ObjectStore, where: str) -> None:
        token = (id(store), where)
        with self._lock:
            if token in self._refreshing:
                return
            self._refreshing.add(token)

        def refresh() -> None:
            try:
                self._count(store, where)
            except Exception:  # noqa: BLE001 - the next listing tries again
                pass
            finally:
                with self._lock:
                    self._refreshing.discard(token)

        _executor().submit(refresh)


_counts = _FolderCounts()


# -- repair and migration ------------------------------------------------------------
@dataclass(frozen=True)
class Healed:
    """What a heal pass changed: entries written, entries removed, extras left for being young."""

    added: int = 0
    removed: int = 0
    young: int = 0

    def __add__(self, other: Healed) -> Healed:
        return Healed(self.added + other.added, self.removed + other.removed, self.young + other.young)


def heal(store: ObjectStore, kinds: Iterable[JobKind] = KINDS, *, grace_s: float | None = None) -> Healed:
    """Make the index match the records: O(stored jobs) requests, for a periodic pass."""
    grace = _settings().index_heal_grace_s if grace_s is None else grace_s
    healed = Healed()
    for kind in kinds:
        # Entries first, records second: an entry written after this listing is not judged,
        # and a record read after it is seen at its newest status.
        present = _present_entries(store, kind)
        expected = {key for record in stored_records(store, kind) for key in entry_keys(kind, record)}
        missing = sorted(expected - present)
        _put_entries(store, missing)
        extra = sorted(present - expected)
        now = time.time()
        written = _each(lambda key: _written_at(store, key), extra)
        old = [key for key, at in zip(extra, written, strict=True) if now - at >= grace]
        _delete(store, old)
        healed += Healed(added=len(missing), removed=len(old), young=len(extra) - len(old))
    return healed


def _present_entries(store: ObjectStore, kind: JobKind) -> set[str]:
    """Every entry of ``kind``, folder by folder (keys only: lean on S3 at 4 entries a job)."""
    segments = [None, *(prefix.rstrip("/").rsplit("/", 1)[-1] for prefix in store.list_children(f"{ROOT}{kind}/owner/"))]
    folders = [_folder(kind, segment, _tail(status)) for segment in segments for status in (None, *JobStatus)]
    return {key for keys_ in _each(store.list_keys, folders) for key in keys_}


def _written_at(store: ObjectStore, key: str) -> float:
    """When the entry was written; infinitely old when its body is not a time."""
    try:
        return float(store.get_bytes(key))
    except ObjectNotFound:
        return time.time()  # removed meanwhile (its job deleted): nothing left to delete
    except ValueError:
        return float("-inf")


def rebuild(store: ObjectStore, kinds: Iterable[JobKind] = KINDS) -> Healed:
    """Index every stored record (a store from before the index), then mark the kinds complete."""
    kinds = tuple(kinds)
    healed = heal(store, kinds)
    for kind in kinds:
        store.put_bytes(complete_marker(kind), b"", content_type="text/plain")
    return healed


_complete: weakref.WeakKeyDictionary[ObjectStore, set[str]] = weakref.WeakKeyDictionary()
_complete_lock = threading.Lock()


def _ensure_complete(store: ObjectStore, kind: JobKind) -> None:
    """Rebuild once when the store has no marker (one existence check per store and kind)."""
    if kind in _complete.get(store, ()):
        return
    with _complete_lock:  # one rebuild per process, not one per concurrent listing
        if kind in _complete.get(store, ()):
            return
        if not store.exists(complete_marker(kind)):
            rebuild(store, (kind,))
        _complete.setdefault(store, set()).add(kind)

"""A deleted job stays deleted: the tombstone that stops late writers.

The gateway's delete writes ``tombstones/<kind>/<id>`` (:func:`bury`) before it removes
the job's objects, and the tombstone stays. Workers write a job's results through
:func:`guarded_write`, which checks for the tombstone before the write and again after it,
and raises :class:`JobDeleted` so the worker stops. Job records are written by
compare-and-swap (:meth:`lesde_runtime.job_repository.JobRepository.update`), with the same two checks around
it: the compare-and-swap refuses a write after the delete removed the record, and the checks
cover a delete that falls between its compare and its write (``JobRepository._write`` says why each stays).

Why nothing is left behind (on a store that reads its own writes, as S3, SeaweedFS,
MinIO and a local folder do): a write whose second check sees no tombstone landed
before the tombstone was written, so before the delete listed the job's objects, and
the delete removes it; a write whose second check sees the tombstone removes itself.
What remains is a writer that dies between its write and its second check, or a PUT the
server completes after the client gave up on it. For those the job's objects are
deleted once more when no write checked before the tombstone can still land
(:func:`purge_delay_s`): the gateway's purge timer (:mod:`lesde_runtime.purge`) runs that, and
:func:`purge_buried` repeats it for deletes whose timer was lost with a restarted gateway
(the reaper runs it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound, ObjectStore

from lesde_runtime.settings import StoreRetrySettings

log = logging.getLogger(__name__)

PENDING_PURGE = "tombstones/pending-purge/"  # <kind>/<id>, holding the delete's time: cleared once purged
REQUEST_TIMEOUT_S = 60.0  # the longest one store request may take (the S3 store's read timeout)
PURGE_MARGIN_S = 30.0


class JobDeleted(RuntimeError):
    """The job was deleted while a worker held it: stop, write nothing more."""

    def __init__(self, kind: str, job_id: str) -> None:
        super().__init__(f"{kind} {job_id} was deleted; its worker stops")
        self.kind = kind
        self.job_id = job_id


def purge_delay_s(settings: StoreRetrySettings | None = None) -> float:
    """How long after a delete a write that checked before it may still land: a worker's
    store retry budget plus one request, plus a margin."""
    settings = settings or StoreRetrySettings()
    return settings.store_retry_seconds + REQUEST_TIMEOUT_S + PURGE_MARGIN_S


def bury(store: ObjectStore, kind: str, job_id: str, *, now: float | None = None) -> None:
    """Write the tombstone (first, before any object of the job is removed) and the note that its purge is due."""
    deleted_at = time.time() if now is None else now
    store.put_json(object_keys.tombstone_key(kind, job_id), {"deleted_at": deleted_at})
    store.put_json(f"{PENDING_PURGE}{kind}/{job_id}", {"deleted_at": deleted_at})


def is_buried(store: ObjectStore, kind: str, job_id: str) -> bool:
    return store.exists(object_keys.tombstone_key(kind, job_id))


def check_alive(store: ObjectStore, kind: str, job_id: str) -> None:
    """Raise :class:`JobDeleted` if the job has been deleted."""
    if is_buried(store, kind, job_id):
        raise JobDeleted(kind, job_id)


def guarded_write(store: ObjectStore, kind: str, job_id: str, key: str, write: Callable[[], None]) -> None:
    """Run ``write`` (which stores ``key``) for a job that has not been deleted; raise
    :class:`JobDeleted` otherwise, removing ``key`` again if the delete came while it was written."""
    check_alive(store, kind, job_id)
    write()
    confirm_written(store, kind, job_id, key)


def confirm_written(store: ObjectStore, kind: str, job_id: str, key: str) -> None:
    """The check after a write of ``key``: if the job was deleted meanwhile, remove ``key``
    again and raise :class:`JobDeleted` (the second half of :func:`guarded_write`)."""
    if is_buried(store, kind, job_id):
        store.delete(key)
        raise JobDeleted(kind, job_id)


def purge(store: ObjectStore, kind: str, job_id: str) -> int:
    """Delete the job's objects again (what late writers left) and clear its pending purge; return how many were left."""
    left = store.delete_prefix(object_keys.job_prefix(kind, job_id))
    store.delete(f"{PENDING_PURGE}{kind}/{job_id}")
    if left:
        log.warning("%s %s: removed %d objects written after its delete", kind, job_id, left)
    return left


def purge_buried(store: ObjectStore, *, now: float | None = None, delay_s: float | None = None) -> list[str]:
    """Purge every deleted job whose delete is older than ``delay_s`` (default :func:`purge_delay_s`);
    return their ``<kind>/<id>``. Costs one listing plus a read per delete not yet purged."""
    now = time.time() if now is None else now
    delay_s = purge_delay_s() if delay_s is None else delay_s
    purged = []
    for key in store.list(PENDING_PURGE):
        kind, _, job_id = key.key[len(PENDING_PURGE) :].partition("/")
        try:
            deleted_at = float(store.get_json(key.key)["deleted_at"])
        except ObjectNotFound:
            continue  # purged meanwhile
        if now - deleted_at >= delay_s:
            purge(store, kind, job_id)
            purged.append(f"{kind}/{job_id}")
    return purged

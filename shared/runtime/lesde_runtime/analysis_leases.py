"""Leases on running analyses: a killed analyzer's analysis is started again within a minute.

A training job holds its lease in its record (:mod:`lesde_runtime.leases`); an analysis is one of
possibly several option sets of an experiment, so its lease is an object of its own,
``leases/analysis/<job>.<options key>.json`` (``{"kind", "job_id", "options_key", "options",
"holder", "host", "pid", "expires_at"}``), written when the run starts, renewed every
``heartbeat_seconds`` by a daemon thread and deleted when the run records its outcome.
Kept apart from the job, the leases of all running analyses are one short listing: the
reaper reads it every pass (O(running analyses)), and a lease that expired, or whose
process is gone on this host, has its analysis queued again (:func:`lapsed`). The gateway
applies the same test when an analysis is asked for again while it says ``running``.

``kind`` says whose analysis it is: ``experiment`` (one option set of an experiment), or
``sweep`` (the cross-child analysis of a sweep, key :data:`SWEEP_KEY`; the reaper queues
it again as ``ANALYZE_SWEEP``). A lease written before kinds existed is an experiment's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound, ObjectStore
from lesde_contract.records import Lease, utcnow

from lesde_runtime.leases import holder_gone, new_lease
from lesde_runtime.settings import LeaseSettings

log = logging.getLogger(__name__)

__all__ = ["KINDS", "SWEEP_KEY", "held_analysis", "iter_analysis_leases", "lapsed", "read_analysis_lease", "drop_analysis_lease"]

KINDS = ("experiment", "sweep")
SWEEP_KEY = "sweep"  # the options key of a sweep's one cross-child analysis


def _body(kind: str, job_id: str, options_key: str, options: dict, lease: Lease) -> dict:
    return {
        "kind": kind, "job_id": job_id, "options_key": options_key, "options": options, "holder": lease.holder, "host": lease.host,
        "pid": lease.pid, "heartbeat_at": lease.heartbeat_at.isoformat(), "expires_at": lease.expires_at.isoformat(),
    }  # fmt: skip


def read_analysis_lease(store: ObjectStore, job_id: str, options_key: str) -> dict | None:
    try:
        return store.get_json(object_keys.analysis_lease_key(job_id, options_key))
    except ObjectNotFound:
        return None


def drop_analysis_lease(store: ObjectStore, job_id: str, options_key: str) -> None:
    store.delete(object_keys.analysis_lease_key(job_id, options_key))


def iter_analysis_leases(store: ObjectStore) -> Iterator[dict]:
    """Every analysis lease stored (unreadable ones skipped)."""
    for info in store.list(object_keys.ANALYSIS_LEASES_PREFIX):
        try:
            yield store.get_json(info.key)
        except (ObjectNotFound, ValueError):
            continue


def lapsed(body: dict, now: datetime) -> bool:
    """Whether the analyzer holding lease ``body`` is gone: the lease expired, or its process died on this host."""
    if datetime.fromisoformat(body["expires_at"]) <= now:
        return True
    lease = Lease(holder=body["holder"], host=body["host"], pid=body["pid"],
                  heartbeat_at=datetime.fromisoformat(body["heartbeat_at"]), expires_at=datetime.fromisoformat(body["expires_at"]))  # fmt: skip
    return holder_gone(lease)


@contextmanager
def held_analysis(
    store: ObjectStore, job_id: str, options_key: str, options: dict, settings: LeaseSettings | None = None, *, kind: str = "experiment"
) -> Iterator[None]:
    """Hold a lease on analysis ``(job_id, options_key)`` of a ``kind`` job while the block runs; drop it after.

    The lease is renewed every ``heartbeat_seconds`` from a daemon thread (a failed renewal
    is logged and tried at the next beat; the thread never raises into the analysis). The
    thread is stopped and joined before the lease is dropped, so no renewal lands after it.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: {kind!r} is not one of {KINDS}")
    settings = settings or LeaseSettings()
    from lesde_runtime.leases import _KEPT_HERE  # this process keeps it alive: holder_gone must not say otherwise

    lease = new_lease(utcnow(), settings)
    target = object_keys.analysis_lease_key(job_id, options_key)
    _KEPT_HERE.add(lease.holder)
    store.put_json(target, _body(kind, job_id, options_key, options, lease))
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(settings.heartbeat_seconds):
            now = utcnow()
            renewed = lease.model_copy(update={"heartbeat_at": now, "expires_at": now + timedelta(seconds=settings.lease_seconds)})
            try:
                store.put_json(target, _body(kind, job_id, options_key, options, renewed))
            except Exception as error:  # noqa: BLE001 - the store is down: the next beat tries again
                log.warning("analysis %s/%s: lease not renewed (%s: %s)", job_id, options_key, type(error).__name__, error)

    thread = threading.Thread(target=renew, name=f"analysis-lease-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=settings.heartbeat_seconds + 30)
        _KEPT_HERE.discard(lease.holder)
        try:
            store.delete(target)
        except Exception as error:  # noqa: BLE001 - left behind, it expires and the reaper finds the outcome recorded
            log.warning("analysis %s/%s: lease not dropped (%s: %s)", job_id, options_key, type(error).__name__, error)

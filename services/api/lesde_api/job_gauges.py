"""Gauges ``/metrics`` reads from the store and the broker when scraped, cached a few seconds.

- ``lesde_jobs{kind, status}``: jobs of each kind in each status, as the listing index holds
  them (:mod:`lesde_runtime.job_index`): a keys-only listing of one index folder per pair, so a
  scrape costs about 15 listing requests, and none within ``CACHE_SECONDS`` of the last
  (several scrapers, or several replicas' scrapes, cost one). A sweep counts as its stored
  status says (the gateway's answers aggregate its children's; its children count as
  experiments).
- ``lesde_queue_messages{queue}``: messages waiting in each queue, where the broker tells
  it (Redis, the filesystem transport: :mod:`lesde_runtime.queue_depth`); absent otherwise.

A store or broker that cannot be read leaves its gauge out of that scrape (logged), rather
than failing the whole scrape: the HTTP metrics still come.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from lesde_contract.object_store import ObjectStore
from lesde_contract.records import JobStatus
from lesde_runtime import celery_app, job_index
from lesde_runtime.queue_depth import queue_depths
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

CACHE_SECONDS = 5.0

T = TypeVar("T")


class _Cached(Generic[T]):
    """A value recomputed at most every ``CACHE_SECONDS`` (one computation at a time)."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self.compute = compute
        self._lock = threading.Lock()
        self._value: tuple[T] | None = None  # (the value,) once computed
        self._at = float("-inf")

    def get(self) -> T:
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= CACHE_SECONDS:
                self._value = (self.compute(),)
                self._at = time.monotonic()
            return self._value[0]


def count_jobs(store: ObjectStore) -> dict[tuple[str, str], int]:
    """``{(kind, status): jobs}`` from the index (a listing's ``count`` for a page of none)."""
    return {
        (kind, status.value): job_index.page(store, kind, status=status, limit=0)[1] for kind in job_index.KINDS for status in JobStatus
    }


class JobGauges:
    """A prometheus_client collector of one store's job counts and the broker's queue depths."""

    def __init__(self, store: ObjectStore) -> None:
        self._jobs = _Cached(lambda: _or_none(lambda: count_jobs(store), "job counts"))
        self._queues = _Cached(lambda: _or_none(lambda: queue_depths(celery_app.app), "queue depths"))

    def collect(self) -> Iterator[Metric]:
        jobs = self._jobs.get()
        if jobs is not None:
            family = GaugeMetricFamily("lesde_jobs", "Jobs by kind and status, from the listing index.", labels=["kind", "status"])
            for (kind, status), count in sorted(jobs.items()):
                family.add_metric([kind, status], count)
            yield family
        queues = self._queues.get()
        if queues is not None:
            family = GaugeMetricFamily("lesde_queue_messages", "Messages waiting in each queue of the broker.", labels=["queue"])
            for queue, depth in sorted(queues.items()):
                family.add_metric([queue], depth)
            yield family


def _or_none(read: Callable[[], T], what: str) -> T | None:
    try:
        return read()
    except Exception as error:  # noqa: BLE001 - a gauge left out, the scrape still answers
        log.warning("/metrics: %s not read: %s", what, error)
        return None


_by_store: weakref.WeakKeyDictionary[ObjectStore, JobGauges] = weakref.WeakKeyDictionary()
_by_store_lock = threading.Lock()


def gauges_for(store: ObjectStore) -> JobGauges:
    """The collector of ``store`` (one per store, so its cache lives across scrapes)."""
    with _by_store_lock:
        gauges = _by_store.get(store)
        if gauges is None:
            gauges = _by_store[store] = JobGauges(store)
        return gauges

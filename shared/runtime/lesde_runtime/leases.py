"""A worker's lease on the job it runs: claim it, keep it alive, let it go.

Celery delivers a task at least once: after a worker's death, after a broker restart, or
twice at once when a message is re-sent. The lease, kept in the job's record, says which
worker runs the job and until when that is believed:

- :func:`hold_lease` starts the job under a new lease (or learns it is not to run here:
  :meth:`~lesde_runtime.job_repository.JobRepository.start` refuses a job another worker holds a live lease
  on, and fails one that killed its worker ``max_attempts`` times in a row);
- while the job runs, a daemon thread (:class:`LeaseKeeper`) renews the lease every
  ``heartbeat_seconds``. The thread never raises into the task: a failed renewal (the
  store is down) is logged and tried again at the next beat, and a lease found taken by
  someone else sets :attr:`LeaseKeeper.lost`, which the job checks before it writes;
- when the block ends the renewals stop. A job that ended without recording an outcome
  (the process is going down) has its lease expire at once, so it resumes without waiting.

A worker that dies stops renewing; once the lease expires, :mod:`lesde_runtime.reaper` requeues
the job. A lease held by a process of this very host (and PID namespace) that no longer
exists, such as a pool child the kernel killed, is void at once: Celery's own redelivery
of that task then resumes the job without waiting for the expiry.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from lesde_contract.records import Lease, utcnow

from lesde_runtime.job_repository import JobRepository, LeaseLost
from lesde_runtime.settings import LeaseSettings

log = logging.getLogger(__name__)

__all__ = ["LeaseKeeper", "hold_lease", "holder_gone", "new_lease"]

# Holders whose lease a keeper of this process renews right now: a lease naming this
# process but none of these was left behind by a task of ours that has ended.
_KEPT_HERE: set[str] = set()


def _process_space() -> str:
    """This host's name, with the PID namespace: process ids compare only within one."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/pid-ns-{namespace}"


def new_lease(now: datetime, settings: LeaseSettings) -> Lease:
    """A lease for this process, valid ``lease_seconds`` from ``now``."""
    host, pid = _process_space(), os.getpid()
    return Lease(
        holder=f"{host}:{pid}:{secrets.token_hex(4)}",
        host=host,
        pid=pid,
        heartbeat_at=now,
        expires_at=now + timedelta(seconds=settings.lease_seconds),
    )


def holder_gone(lease: Lease) -> bool:
    """Whether the process holding ``lease`` is known to be dead.

    Only a process of this host and PID namespace can be checked: one that no longer
    exists (a killed pool child), or this process while it keeps no such lease (a task of
    ours that ended without finishing the job). A live process with the same id, or any
    process elsewhere, counts as alive: its lease must expire.
    """
    if lease.host != _process_space():
        return False
    if lease.pid == os.getpid():
        return lease.holder not in _KEPT_HERE
    try:
        os.kill(lease.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


class LeaseKeeper:
    """Renews the lease ``lease`` on job ``job_id`` every heartbeat from a daemon thread."""

    def __init__(
        self, repo: JobRepository, job_id: str, lease: Lease, settings: LeaseSettings, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.repo = repo
        self.job_id = job_id
        self.lease = lease
        self.settings = settings
        self.clock = clock
        self._stopping = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(target=self._beat_until_stopped, name=f"lease-{job_id}", daemon=True)

    @property
    def holder(self) -> str:
        return self.lease.holder

    @property
    def lost(self) -> bool:
        """True once the job was found running under someone else's lease (or not at all)."""
        return self._lost.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            # A renewal in flight may wait on the store's retries; the thread is a daemon,
            # so an unfinished one never keeps the worker from exiting.
            self._thread.join(timeout=5.0)

    def confirm(self) -> bool:
        """Wait until ``lease_settle_seconds`` have passed since the claim, then check the job
        still runs under this lease, before the job writes anything.

        A claim through :meth:`~lesde_runtime.job_repository.JobRepository.start` is a compare-and-swap: of two
        workers handed the job at the same moment only one wins, the other is refused. This
        re-read stays for a record replaced without that check (``mark_running``, a repair
        by hand, a store whose writers bypass the record's lock): the worker whose lease was
        overwritten learns it here, at the cost of one read."""
        waited = (self.clock() - self.lease.heartbeat_at).total_seconds()
        time.sleep(max(0.0, self.settings.lease_settle_seconds - waited))
        if not self.repo.holds_lease(self.job_id, self.holder):
            log.warning("%s %s was claimed by another worker at the same time; leaving it to that one", self.repo.kind, self.job_id)
            self._lost.set()
        return not self.lost

    def beat(self) -> None:
        """Renew the lease once. Never raises: a lost lease is remembered in :attr:`lost`."""
        try:
            self.repo.renew_lease(self.job_id, self.holder, now=self.clock(), lease_seconds=self.settings.lease_seconds)
        except LeaseLost as error:
            log.warning("lease lost: %s; the job stops before its next write", error)
            self._lost.set()
            self._stopping.set()
        except Exception as error:  # noqa: BLE001 - beat never raises: a store outage is outlasted by the lease
            log.warning(
                "%s %s: lease not renewed (%s: %s); trying again at the next beat", self.repo.kind, self.job_id, type(error).__name__, error
            )

    def _beat_until_stopped(self) -> None:
        while not self._stopping.wait(self.settings.heartbeat_seconds):
            self.beat()


@contextmanager
def hold_lease(repo: JobRepository, job_id: str, settings: LeaseSettings | None = None) -> Iterator[LeaseKeeper | None]:
    """Start job ``job_id`` under a lease of this process and renew it while the block runs.

    Yields the :class:`LeaseKeeper`, or ``None`` when the job is not to run here (see
    :meth:`~lesde_runtime.job_repository.JobRepository.start`: gone, finished, cancelled, held by another
    worker, or out of attempts); the block then writes nothing.
    """
    settings = settings or LeaseSettings()
    lease = new_lease(utcnow(), settings)
    _KEPT_HERE.add(lease.holder)  # before the claim: a concurrent claim in this process must see it alive
    try:
        if repo.start(job_id, lease=lease, holder_gone=holder_gone, max_attempts=settings.max_attempts) is None:
            yield None
            return
        keeper = LeaseKeeper(repo, job_id, lease, settings)
        keeper.start()
        try:
            yield keeper
        finally:
            keeper.stop()
            _let_expire(repo, job_id, lease.holder)
    finally:
        _KEPT_HERE.discard(lease.holder)


def _let_expire(repo: JobRepository, job_id: str, holder: str) -> None:
    """Expire the lease of a job still running under it (the block ended without an outcome:
    the process is going down), so the next delivery resumes it at once. A no-op after
    ``mark_finished``, which removes the lease."""
    try:
        repo.release_lease(job_id, holder, now=utcnow())
    except Exception as error:  # noqa: BLE001 - best effort: the lease then simply expires on its own
        log.warning("%s %s: lease not released (%s: %s)", repo.kind, job_id, type(error).__name__, error)


def run_leased(repo: JobRepository, job_id: str, work: Callable[[], None], settings: LeaseSettings | None = None) -> None:
    """``work()`` under the job's lease (:func:`hold_lease`); nothing when another worker holds it."""
    with hold_lease(repo, job_id, settings) as lease:
        if lease is not None:
            work()

"""One writer at a time per object key: the fallback for an S3 server that ignores conditional PUTs.

Where the server honours ``If-Match`` (SeaweedFS, MinIO, AWS), a compare-and-swap is one
request and no lock is taken. Where it does not (:meth:`lesde_runtime.storage.s3.S3Store.honours_conditions`
says so, measured once), :meth:`~lesde_runtime.storage.s3.S3Store.put_if` reads the current ETag,
compares and writes while holding the key's lock here, so that every writer going through
``put_if`` sees one compare-and-swap semantic:

- :class:`RedisKeyLocks`: a lock in Redis (the broker's server), ``SET key token NX PX ttl``
  to take it and a compare-and-delete script to release it, so a writer never releases a lock
  that expired under it and was taken by another. Safe between processes and hosts.
- :class:`ProcessKeyLocks`: a ``threading.Lock`` per key. Safe between the threads of one
  process only: the last resort where no Redis is configured, announced in the log.

A lock only protects writers that take it: a plain ``put_bytes`` or ``delete`` of the same key
bypasses it (the job repository's tombstone check after each write covers the delete).
"""

from __future__ import annotations

import logging
import random
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from lesde_runtime.storage.retry import unavailable

log = logging.getLogger(__name__)

# A lock outlives the longest critical section it guards: a stat and a PUT of S3Store.put_if,
# each at most a connect (3 s) and a read (60 s) timeout. A holder that dies inside one
# (a rare event: the section lasts milliseconds) keeps the record's writers waiting that long.
LOCK_TTL_S = 150.0
# How long a writer waits for a held lock before it reports the store as (retryably) unavailable.
LOCK_WAIT_S = 10.0

# Delete the lock only if it still holds our token: a lock that expired under a slow holder
# and was taken by another writer is not released by the slow one.
_RELEASE_IF_OURS = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


class KeyLocks(ABC):
    """A lock per object key."""

    #: whether two processes (or hosts) taking the lock of one key exclude each other
    between_processes: bool = False

    @abstractmethod
    def hold(self, key: str) -> AbstractContextManager[None]:
        """A context manager that holds the lock of ``key`` while its block runs."""


class ProcessKeyLocks(KeyLocks):
    """One ``threading.Lock`` per key, dropped when no thread holds or waits for it."""

    between_processes = False

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, tuple[threading.Lock, list[int]]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        try:
            with lock:
                yield
        finally:
            with self._guard:
                users[0] -= 1
                if users[0] == 0:
                    del self._locks[key]


class RedisKeyLocks(KeyLocks):
    """A Redis lock per key (``SET NX PX`` with a random token, released by compare-and-delete).

    ``connect`` returns a redis-py compatible client (``set``, ``eval``); it is called on the
    first lock, so a deployment whose store honours conditions never connects. Redis errors
    become a retryable :class:`~lesde_contract.object_store.StoreUnavailable` naming the key, never the server.
    """

    between_processes = True

    def __init__(
        self,
        connect: Callable[[], Any],
        *,
        ttl_s: float = LOCK_TTL_S,
        wait_s: float = LOCK_WAIT_S,
        namespace: str = "lesde:object-lock:",
    ) -> None:
        self._connect = connect
        self._client: Any = None
        self._client_lock = threading.Lock()
        self.ttl_s = ttl_s
        self.wait_s = wait_s
        self.namespace = namespace

    def _redis(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    def _ask(self, key: str, request: Callable[[Any], Any]) -> Any:
        try:
            return request(self._redis())
        except Exception as error:  # redis-py raises its own types (not OSError) for a dead server
            raise unavailable("lock", key, f"Redis: {type(error).__name__}", retryable=True) from error

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        name, token = self.namespace + key, secrets.token_hex(16)
        deadline = time.monotonic() + self.wait_s
        pause = 0.002
        while not self._ask(key, lambda redis: redis.set(name, token, nx=True, px=max(1, int(self.ttl_s * 1000)))):
            if time.monotonic() >= deadline:
                raise unavailable("lock", key, f"another writer held it for {self.wait_s:.0f} s", retryable=True)
            time.sleep(pause * (0.5 + random.random()))
            pause = min(0.05, pause * 2)
        try:
            yield
        finally:
            try:
                self._ask(key, lambda redis: redis.eval(_RELEASE_IF_OURS, 1, name, token))
            except Exception as error:  # noqa: BLE001 - unreleased, the lock expires after ttl_s on its own
                log.warning("lock of %r not released (%s); it expires in %.0f s", key, error, self.ttl_s)

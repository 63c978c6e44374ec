"""Compare-and-swap in the object stores (ObjectStore.get_versioned / put_if): a stale version
is refused, the current one accepted, a create only lands on no object; on the local store
(flock) and on the S3 store against the test stack's SeaweedFS (If-Match / If-None-Match),
and on an S3 server that ignores the conditions, which the probe finds out and a Redis
lock then stands in for."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import urllib3
from lesde_contract.object_store import ObjectStore, PreconditionFailed, StoreUnavailable
from lesde_runtime.optimistic import ConflictRetry, WriteContention
from lesde_runtime.storage.key_locks import ProcessKeyLocks
from lesde_runtime.storage.local import LocalStore
from lesde_runtime.storage.s3 import S3Store

from tests.fixtures.record_writers import ConditionsIgnoredS3Store, CountingLocks, redis_locks

if TYPE_CHECKING:
    from tests.conftest import S3TestSettings

KEY = "experiments/0123456789abcdef/status.json"


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    return request.getfixturevalue(f"{request.param}_store")


@contextlib.contextmanager
def _s3_store_of(store_type: type[S3Store], s3_settings: S3TestSettings, **options: object) -> Iterator[S3Store]:
    store = store_type(
        endpoint=s3_settings.endpoint,
        access_key=s3_settings.access_key,
        secret_key=s3_settings.secret_key,
        bucket=f"lesde-t-{uuid.uuid4().hex[:8]}",
        **options,
    )
    try:
        yield store
    finally:
        with contextlib.suppress(Exception):
            store.delete_prefix("")
            store.client.remove_bucket(store.bucket)


# --------------------------------------------------------------------------- the contract, on both stores


def test_a_create_lands_only_on_no_object_and_a_swap_only_from_the_current_version(store: ObjectStore) -> None:
    first = store.put_if(KEY, b"first", expect=None)
    assert store.get_versioned(KEY) == (b"first", first)
    with pytest.raises(PreconditionFailed):
        store.put_if(KEY, b"a second create", expect=None)
    second = store.put_if(KEY, b"second", expect=first)
    assert second != first
    with pytest.raises(PreconditionFailed, match="no longer at version"):
        store.put_if(KEY, b"written from a stale read", expect=first)
    assert store.get_versioned(KEY) == (b"second", second)  # nothing of the refused writes landed


def test_a_version_of_a_deleted_object_is_refused(store: ObjectStore) -> None:
    version = store.put_if(KEY, b"record", expect=None)
    store.delete(KEY)
    with pytest.raises(PreconditionFailed):
        store.put_if(KEY, b"brought back by a late writer", expect=version)
    assert not store.exists(KEY)


def test_of_writers_racing_from_one_version_exactly_one_wins(store: ObjectStore) -> None:
    base = store.put_if(KEY, b"0", expect=None)
    start, won, lost = threading.Barrier(8), [], []

    def swap(i: int) -> None:
        start.wait()
        try:
            store.put_if(KEY, f"writer {i}".encode(), expect=base)
            won.append(i)
        except PreconditionFailed:
            lost.append(i)

    threads = [threading.Thread(target=swap, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(lost) == 7
    assert store.get_bytes(KEY) == f"writer {won[0]}".encode()


def test_the_local_stores_lock_files_are_never_listed_and_go_with_their_key(local_store: LocalStore) -> None:
    local_store.put_if(KEY, b"record", expect=None)
    assert [info.key for info in local_store.list("")] == [KEY]
    assert local_store.list_keys("experiments/0123456789abcdef/") == [KEY]
    version = local_store.get_versioned(KEY)[1]
    assert local_store.delete_prefix("experiments/") == 1
    assert not (local_store.root / "experiments").exists()  # no lock file kept the folder alive
    with pytest.raises(PreconditionFailed):
        local_store.put_if(KEY, b"a late writer", expect=version)
    assert local_store.delete_prefix("experiments/") == 0
    assert not (local_store.root / "experiments").exists()  # nor the late writer's


# --------------------------------------------------------------------------- S3: what the server honours


def test_seaweedfs_honours_conditional_puts_and_the_probe_leaves_nothing(s3_store: S3Store) -> None:
    assert s3_store.honours_conditions()
    findings = s3_store._conditions.findings
    assert findings == [
        "If-None-Match: * on a missing object: written",
        "If-None-Match: * on an existing object: refused",
        "If-Match with a wrong ETag: refused",
        "If-Match with the current ETag: written",
        "If-Match on a missing object: refused",
    ]
    assert list(s3_store.list("")) == []


def test_a_server_that_ignores_conditions_is_found_out_and_a_redis_lock_stands_in(s3_settings: S3TestSettings, redis_url: str) -> None:
    locks = CountingLocks(redis_locks(redis_url))
    with _s3_store_of(ConditionsIgnoredS3Store, s3_settings, key_locks=locks) as store:
        assert not store.honours_conditions()
        assert "If-Match with a wrong ETag: accepted: the condition was ignored" in store._conditions.findings
        first = store.put_if(KEY, b"first", expect=None)
        with pytest.raises(PreconditionFailed):
            store.put_if(KEY, b"a second create", expect=None)
        second = store.put_if(KEY, b"second", expect=first)
        with pytest.raises(PreconditionFailed):
            store.put_if(KEY, b"stale", expect=first)
        assert store.get_versioned(KEY) == (b"second", second)
        assert locks.taken == 4  # every compare-and-swap went through the lock


def test_without_redis_the_fallback_locks_within_the_process(s3_settings: S3TestSettings) -> None:
    with _s3_store_of(ConditionsIgnoredS3Store, s3_settings) as store:
        test_of_writers_racing_from_one_version_exactly_one_wins(store)
        assert isinstance(store.key_locks, ProcessKeyLocks)


class _RejectsConditionalHeaders(S3Store):
    """A server that answers any conditional PUT with 501 NotImplemented (some S3 services do)."""

    def _conditional_put(self, key: str, data: bytes, expect: str | None, content_type: str) -> str:
        from minio.error import S3Error

        raise S3Error(None, "NotImplemented", "A header you provided implies functionality that is not implemented", key, "r", "h")


def test_a_server_that_rejects_the_headers_gets_the_lock_instead(s3_settings: S3TestSettings) -> None:
    with _s3_store_of(_RejectsConditionalHeaders, s3_settings) as store:
        assert not store.honours_conditions()
        assert store._conditions.findings == ["a conditional PUT was rejected (NotImplemented)"]
        first = store.put_if(KEY, b"first", expect=None)
        with pytest.raises(PreconditionFailed):
            store.put_if(KEY, b"stale", expect="0" * 32)
        assert store.get_versioned(KEY) == (b"first", first)


class _AnswerLostOnce(S3Store):
    """The first conditional PUT reaches the server, but its answer is lost on the way back."""

    lost = False

    def _conditional_put(self, key: str, data: bytes, expect: str | None, content_type: str) -> str:
        version = super()._conditional_put(key, data, expect, content_type)
        if not self.lost and not key.startswith("lesde-probes/"):
            self.lost = True
            raise urllib3.exceptions.ProtocolError("connection reset while reading the answer")
        return version


def test_a_put_whose_answer_was_lost_is_found_written_on_the_retry(s3_settings: S3TestSettings) -> None:
    with _s3_store_of(_AnswerLostOnce, s3_settings) as store:
        first = store.put_if(KEY, b"first", expect=None)  # the retry's create is refused: the object is ours
        assert store.lost and store.get_versioned(KEY) == (b"first", first)
        store.lost = False
        with pytest.raises(PreconditionFailed):
            store.put_if(KEY, b"someone else's bytes", expect="0" * 32)  # a refusal on the first try stays one


# --------------------------------------------------------------------------- locks and retries


def test_a_redis_lock_is_released_only_by_its_holder(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    slow = redis_locks(redis_url)
    slow.ttl_s = 0.05
    name = f"test/{uuid.uuid4().hex}"
    with slow.hold(name):
        threading.Event().wait(0.2)  # the slow holder's lock expires under it ...
        fast = redis_locks(redis_url)
        with fast.hold(name):  # ... and another writer takes it
            pass
        client.set(slow.namespace + name, "the third writer's token", px=10_000)
    assert client.get(slow.namespace + name) == b"the third writer's token"  # the slow holder's release left it
    client.delete(slow.namespace + name)


def test_a_held_redis_lock_makes_a_waiter_report_the_store_busy(redis_url: str) -> None:
    holder, waiter = redis_locks(redis_url), redis_locks(redis_url)
    waiter.wait_s = 0.1
    name = f"test/{uuid.uuid4().hex}"
    with holder.hold(name), pytest.raises(StoreUnavailable, match="could not lock") as raised, waiter.hold(name):
        pass
    assert raised.value.retryable


def test_an_unreachable_redis_is_a_retryable_store_outage() -> None:
    from lesde_runtime.storage.key_locks import RedisKeyLocks

    def refused() -> object:
        raise ConnectionRefusedError(111, "connection refused")

    with pytest.raises(StoreUnavailable) as raised, RedisKeyLocks(refused).hold(KEY):
        pass
    assert raised.value.retryable and "127.0.0.1" not in str(raised.value)


def test_a_compare_and_swap_that_keeps_losing_gives_up_as_a_retryable_outage() -> None:
    pauses: list[float] = []

    def always_lost() -> None:
        raise PreconditionFailed(KEY, "v1")

    with pytest.raises(WriteContention) as raised:
        ConflictRetry(attempts=5, sleep=pauses.append, jitter=lambda: 1.0).run(always_lost, key=KEY)
    assert raised.value.retryable and raised.value.attempts == 5
    assert pauses == [0.005, 0.01, 0.02, 0.04]  # doubling, one pause fewer than attempts


def test_the_services_fallback_lock_lives_in_the_brokers_redis(redis_url: str) -> None:
    from lesde_runtime.settings import BrokerSettings
    from lesde_runtime.storage.factory import broker_key_locks

    assert broker_key_locks(BrokerSettings(broker_url="filesystem://")) is None  # no Redis: the store locks within its process
    locks = broker_key_locks(BrokerSettings(broker_url=redis_url))
    name = f"test/{uuid.uuid4().hex}"
    with locks.hold(name):
        assert locks._redis().get(locks.namespace + name) is not None
    assert locks._redis().get(locks.namespace + name) is None

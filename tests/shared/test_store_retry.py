"""Store operations ride out an outage: backoff with jitter for at least the budget, then
StoreUnavailable naming the operation and key but no host, port or bucket.

The loop is tested with a fake clock and stubs that fail N times, not with a real outage:
when a real server comes back is not repeatable in a unit test (the fault tests stop and
start a real SeaweedFS; tests/integration/test_store_outage.py meets a real closed port).
"""

from __future__ import annotations

import errno
import io

import pytest
import urllib3
from lesde_contract.object_store import ObjectNotFound, StoreUnavailable
from lesde_runtime.storage import RetryPolicy
from lesde_runtime.storage.local import LocalStore
from lesde_runtime.storage.s3 import S3Store

ENDPOINT, BUCKET = "10.9.8.7:9123", "secret-bucket-name"


class FakeClock:
    """Time that passes only when the code under test sleeps (or an attempt takes time)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _policy(clock: FakeClock, budget: float, *, jitter: float = 1.0) -> RetryPolicy:
    return RetryPolicy(budget_s=budget, max_delay_s=5.0, clock=clock, sleep=clock.sleep, jitter=lambda: jitter)


def _failing(times: int, error: Exception, clock: FakeClock | None = None, *, takes: float = 0.0):
    calls = []

    def attempt() -> str:
        calls.append(1)
        if clock is not None:
            clock.now += takes
        if len(calls) <= times:
            raise error
        return "done"

    return attempt, calls


def test_a_passing_outage_costs_a_pause_not_the_operation():
    clock = FakeClock()
    attempt, calls = _failing(4, StoreUnavailable("down", retryable=True))
    assert _policy(clock, 60).run(attempt) == "done"
    assert len(calls) == 5 and clock.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.8])  # doubling (jitter 1: full pause)


def test_pauses_are_jittered_and_capped():
    clock = FakeClock()
    attempt, _calls = _failing(8, StoreUnavailable("down", retryable=True))
    _policy(clock, 600, jitter=0.0).run(attempt)
    assert clock.sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.5, 2.5])  # half of 0.1 .. 5 s


def test_gives_up_only_after_the_budget_with_the_attempts_in_the_message():
    clock = FakeClock()
    attempt, calls = _failing(10_000, StoreUnavailable("the object store could not get 'a/b' (connection refused)", retryable=True))
    with pytest.raises(StoreUnavailable, match=r"could not get 'a/b' \(connection refused\); gave up after \d+ attempts in 60.0 s"):
        _policy(clock, 60).run(attempt)
    assert clock.now - 1000.0 == pytest.approx(60.0)  # at least the budget, and the last pause ends on it
    assert 14 <= len(calls) <= 20 and max(clock.sleeps) <= 5.0


def test_slow_attempts_count_against_the_budget():
    clock = FakeClock()
    attempt, calls = _failing(10_000, StoreUnavailable("timed out", retryable=True), clock, takes=3.0)
    with pytest.raises(StoreUnavailable):
        _policy(clock, 2).run(attempt)
    assert len(calls) == 1 and clock.sleeps == []  # the one attempt outlasted the gateway's budget


def test_a_failure_that_will_not_pass_is_not_retried():
    clock = FakeClock()
    attempt, calls = _failing(1, StoreUnavailable("access denied"))
    with pytest.raises(StoreUnavailable, match="^access denied$"):
        _policy(clock, 60).run(attempt)
    assert len(calls) == 1 and clock.sleeps == []


class FlakyMinio:
    """Stands in for the minio client: refuses ``fails`` connections the way urllib3 does, then serves."""

    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.objects: dict[str, bytes] = {}
        self.puts = 0

    def _maybe_fail(self) -> None:
        if self.fails:
            self.fails -= 1
            refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
            try:
                raise urllib3.exceptions.NewConnectionError(
                    None, f"Failed to establish a new connection to {ENDPOINT}: {refused}"
                ) from refused
            except urllib3.exceptions.NewConnectionError as error:
                raise urllib3.exceptions.MaxRetryError(None, f"/{BUCKET}/key", error) from error

    def bucket_exists(self, _bucket: str) -> bool:
        self._maybe_fail()
        return True

    def put_object(self, _bucket: str, key: str, handle, size: int, **_options) -> None:
        data = handle.read(size)
        self._maybe_fail()  # after reading: a retry must rewind the stream
        self.objects[key] = data
        self.puts += 1

    def stat_object(self, _bucket: str, key: str):
        self._maybe_fail()
        return type("Stat", (), {"size": len(self.objects[key])})()


def _s3(client: FlakyMinio, clock: FakeClock, budget: float) -> S3Store:
    store = S3Store(endpoint=ENDPOINT, access_key="k", secret_key="s" * 8, bucket=BUCKET, retry=_policy(clock, budget))
    store.client = client
    return store


def test_s3_store_retries_connection_errors_and_rewinds_the_upload():
    clock, client = FakeClock(), FlakyMinio(fails=3)
    store = _s3(client, clock, 60)
    store.put_file("experiments/e/upload.csv", io.BytesIO(b"header\nrow\n"), 11)
    assert client.objects["experiments/e/upload.csv"] == b"header\nrow\n" and len(clock.sleeps) == 3
    assert store.stat("experiments/e/upload.csv").size == 11


def test_s3_store_outage_message_names_operation_and_key_not_the_endpoint():
    clock = FakeClock()
    store = _s3(FlakyMinio(fails=10_000), clock, 2)
    with pytest.raises(StoreUnavailable) as raised:
        store.stat("experiments/e/status.json")
    message = str(raised.value)
    assert message.startswith("the object store could not stat 'experiments/e/status.json' (connection refused); gave up after")
    assert "10.9.8.7" not in message and "9123" not in message and BUCKET not in message
    assert clock.now - 1000.0 == pytest.approx(2.0)


def test_local_store_a_name_too_long_for_the_file_system_holds_no_object(tmp_path):
    store = LocalStore(tmp_path)
    key = "experiments/abc/" + "x" * 300
    with pytest.raises(ObjectNotFound):
        store.stat(key)
    with pytest.raises(ObjectNotFound):
        store.get_bytes(key)
    assert not store.exists(key) and list(store.list(key)) == []
    store.delete(key)  # deletes stay idempotent
    with pytest.raises(ValueError, match="too long"):
        store.put_bytes(key, b"1")


def test_local_store_disk_errors_are_unavailable_without_the_folder(tmp_path, monkeypatch):
    clock = FakeClock()
    store = LocalStore(tmp_path / "secret-folder", retry=_policy(clock, 1))
    store.put_bytes("a/b", b"1")

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "secret-folder" / "a"))

    monkeypatch.setattr("lesde_runtime.storage.local.tempfile.mkstemp", full)
    with pytest.raises(StoreUnavailable) as raised:
        store.put_bytes("a/c", b"2")
    assert str(raised.value).startswith("the object store could not put 'a/c' (no space left on device)")
    assert "secret-folder" not in str(raised.value) and clock.sleeps  # retried: a full disk may be freed

"""The S3 store against real sockets: an unreachable server is StoreUnavailable within the
retry budget, with a message that names the operation and key but not the host, port or
bucket; a missing object on a real S3 server is ObjectNotFound at once, not retried.

(Stopping and restarting a real SeaweedFS in the middle of a run is the fault tests' job.)
"""

from __future__ import annotations

import time

import pytest
from lesde_contract.object_store import ObjectNotFound, StoreUnavailable
from lesde_runtime.settings import StoreKind, StoreRetrySettings, StoreSettings
from lesde_runtime.storage import gateway_policy, make_store

from tests.api.test_broker_down import socket_closed_port  # bound, never listening: connections are refused

BUCKET = "outage-bucket-name"


@pytest.fixture
def closed_port():
    with socket_closed_port() as port:
        yield port


def test_an_unreachable_server_is_unavailable_within_the_budget_without_its_address(closed_port):
    settings = StoreSettings(
        store=StoreKind.s3, s3_endpoint=f"127.0.0.1:{closed_port}", s3_access_key="k", s3_secret_key="s" * 8, s3_bucket=BUCKET
    )
    store = make_store(settings, retry=gateway_policy(StoreRetrySettings(api_store_retry_seconds=2)))
    began = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        store.get_bytes("experiments/0123456789abcdef/status.json")
    spent = time.monotonic() - began
    assert 2.0 <= spent < 4.0, spent  # at least the budget, then an answer
    message = str(raised.value)
    assert message.startswith("the object store could not get 'experiments/0123456789abcdef/status.json' (connection refused)")
    assert "127.0.0.1" not in message and str(closed_port) not in message and BUCKET not in message


def test_a_missing_object_on_a_real_server_is_not_retried(s3_store):
    assert s3_store.retry.budget_s >= 60  # the workers' budget: a miss must not wait for it
    s3_store.put_bytes("experiments/e/present", b"1")
    began = time.monotonic()
    with pytest.raises(ObjectNotFound):
        s3_store.get_bytes("experiments/e/absent")
    with pytest.raises(ObjectNotFound):
        s3_store.stat("experiments/e/absent")
    assert time.monotonic() - began < 2.0
    assert s3_store.get_bytes("experiments/e/present") == b"1"

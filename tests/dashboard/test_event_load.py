"""200 event streams on one sweep cost the gateway one watcher: /healthz and a status GET stay fast.

A real uvicorn (the guarded h11 protocol the launcher runs) on a local store; the sweep's
children stay queued (no worker), so every stream stays open. The streams are plain
sockets, as light as a client can be, so the test measures the server, not itself.
"""

from __future__ import annotations

import socket
import time

import httpx
import numpy as np
import pytest
from lesde_runtime.storage.local import LocalStore

from tests.fixtures.served import served_gateway
from tests.fixtures.sweeps import FixtureChild, write_sweep

STREAMS = 200
REQUESTS = 100
P95_LIMIT_S = 0.050


@pytest.fixture
def served(tmp_path):
    store = LocalStore(tmp_path / "store")
    sweep_id, children = write_sweep(
        store, [FixtureChild({"training.seed": seed}, status="queued") for seed in range(20)], axes=["training.seed"]
    )
    with served_gateway(tmp_path, {"LESDE_MAX_EVENT_STREAMS_PER_OWNER": str(2 * STREAMS)}) as (url, _process):
        yield int(url.rsplit(":", 1)[1]), sweep_id, children


def _open_stream(port: int, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
    received = b""
    while b"event: status" not in received:  # subscribed: its first event has arrived
        chunk = sock.recv(65536)
        assert chunk, "the stream closed"
        received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received[:200]
    return sock


def _p95(client: httpx.Client, path: str) -> float:
    took = []
    for _ in range(REQUESTS):
        began = time.perf_counter()
        assert client.get(path).status_code == 200
        took.append(time.perf_counter() - began)
    return float(np.percentile(took, 95))


def test_200_streams_on_one_sweep_leave_healthz_and_status_fast(served):
    port, sweep_id, children = served
    streams = [_open_stream(port, f"/v1/sweeps/{sweep_id}/events") for _ in range(STREAMS)]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _p95(client, "/healthz")  # warm-up
            health, status = _p95(client, "/healthz"), _p95(client, f"/v1/experiments/{children[0]}")
            print(f"with {STREAMS} open streams: /healthz p95 {1000 * health:.1f} ms, status GET p95 {1000 * status:.1f} ms")
            assert health < P95_LIMIT_S and status < P95_LIMIT_S, (health, status)
    finally:
        for sock in streams:
            sock.close()

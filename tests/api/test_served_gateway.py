"""The gateway as a real uvicorn process with API keys: bodies over the cap are refused over
the socket before they are sent whole, and the ``lesde`` command (a real process too)
authenticates with ``LESDE_API_KEY``.

Local store and filesystem broker in a temporary folder; no worker runs (nothing here
needs one).
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.served import served_gateway

KEY = "ada-served-key-0123456789"
MIB = 1 << 20
PIECE = 64 * 1024
ANSWER_TIMEOUT_S = 60
SLOW_LIMIT_S = 2.0  # the header deadline and body idle limit of this gateway (10 s and 30 s by default)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """``(url, environment)`` of a uvicorn serving the gateway with one key (ada)."""
    state = tmp_path_factory.mktemp("served")
    settings = {
        "LESDE_API_KEYS": f"ada={KEY}", "LESDE_BIND_HOST": "127.0.0.1",
        "LESDE_HEADER_TIMEOUT_S": str(SLOW_LIMIT_S), "LESDE_BODY_IDLE_TIMEOUT_S": str(SLOW_LIMIT_S),
    }  # fmt: skip
    with served_gateway(state, settings) as (url, _process):
        env = dict(os.environ) | settings | {"LESDE_STORE": "local", "LESDE_LOCAL_STORE_DIR": str(state / "store")}
        env.pop("LESDE_API_KEY", None)
        yield url, env


def _status_line(connection: socket.socket) -> str:
    """The first line the server answers (waits up to ANSWER_TIMEOUT_S)."""
    connection.settimeout(ANSWER_TIMEOUT_S)
    answer = b""
    while b"\r\n" not in answer:
        piece = connection.recv(4096)
        if not piece:
            break
        answer += piece
    return answer.split(b"\r\n", 1)[0].decode()


def _request_head(url: str, extra: str) -> bytes:
    host = url.removeprefix("http://")
    return (
        f"POST /v1/experiments HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\n{extra}\r\n"
    ).encode()


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=ANSWER_TIMEOUT_S)


def test_a_declared_2_mib_body_is_refused_before_it_is_sent(gateway):
    url, _env = gateway
    with _connect(url) as connection:
        connection.sendall(_request_head(url, f"Content-Length: {2 * MIB}\r\n") + b'{"name": "')  # and nothing more
        assert _status_line(connection).startswith("HTTP/1.1 413 ")


def test_a_chunked_body_is_refused_once_past_the_cap_without_its_end(gateway):
    url, _env = gateway
    with _connect(url) as connection:
        connection.sendall(_request_head(url, "Transfer-Encoding: chunked\r\n"))
        for _ in range(MIB // PIECE):  # exactly the cap
            connection.sendall(f"{PIECE:x}\r\n".encode() + b" " * PIECE + b"\r\n")
        # Then a few bytes past it, and never the terminating chunk. Small, so that the server has
        # read all we sent when it answers and closes (unread bytes would make the close a reset).
        connection.sendall(b"10\r\n" + b" " * 16 + b"\r\n")
        # The server can only answer now if it stopped reading at the cap instead of waiting for the rest.
        assert _status_line(connection).startswith("HTTP/1.1 413 ")


def test_the_cli_authenticates_with_lesde_api_key(gateway):
    url, env = gateway
    cli = [sys.executable, "-m", "lesde.cli", "--url", url]
    spec = str(Path(__file__).parents[2] / "examples" / "geomnist-small.json")
    without = subprocess.run([*cli, "list"], env=env, capture_output=True, text=True, timeout=ANSWER_TIMEOUT_S)
    assert without.returncode != 0 and "401" in without.stderr + without.stdout
    keyed = {**env, "LESDE_API_KEY": KEY}
    submitted = subprocess.run([*cli, "submit", spec], env=keyed, capture_output=True, text=True, timeout=ANSWER_TIMEOUT_S)
    assert submitted.returncode == 0, submitted.stderr
    listed = httpx.get(url + "/v1/experiments", headers={"Authorization": f"Bearer {KEY}"}, timeout=ANSWER_TIMEOUT_S).json()
    assert listed["count"] == 1 and listed["data"][0]["owner"] == "ada"


def test_a_wait_is_woken_by_the_job_s_events_not_its_next_poll(gateway):
    """The client follows the job's Server-Sent Events: a cancel made elsewhere ends a wait
    whose poll interval is a minute within seconds; without events it would wait the minute."""
    import threading

    from lesde.client import LesdeClient

    url, _env = gateway
    with LesdeClient(url, api_key=KEY) as waiting, LesdeClient(url, api_key=KEY) as other:
        job = waiting.submit_experiment({"training": {"iterations": 10, "trials": 1, "probe_per_class": 1}})
        threading.Timer(2.0, lambda: other.cancel(job["id"])).start()
        began = time.monotonic()
        record = waiting.wait(job["id"], poll_seconds=60.0, timeout=120.0)
        waited = time.monotonic() - began
    assert record["status"] == "cancelled"
    assert waited < 30.0, f"the wait took {waited:.1f} s: the events did not wake it"


def test_a_wait_polls_when_the_events_are_not_there(gateway, monkeypatch):
    """A server without the events route (or a proxy that refuses the stream): the wait polls."""
    import threading

    from lesde import client as client_module
    from lesde.client import LesdeClient

    url, _env = gateway
    real = client_module.EventWaker
    monkeypatch.setattr(client_module, "EventWaker", lambda http, path: real(http, path + "-nowhere"))
    with LesdeClient(url, api_key=KEY) as waiting, LesdeClient(url, api_key=KEY) as other:
        job = waiting.submit_experiment({"training": {"iterations": 10, "trials": 1, "probe_per_class": 1}})
        threading.Timer(1.0, lambda: other.cancel(job["id"])).start()
        record = waiting.wait(job["id"], poll_seconds=0.5, timeout=60.0)
    assert record["status"] == "cancelled"


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """Seconds until the server closes ``sock`` (reads EOF or a reset); fails after ``seconds``."""
    sock.settimeout(seconds)
    began = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - began


def test_a_client_that_never_finishes_its_headers_is_cut_off(gateway):
    url, _ = gateway
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and then nothing
        assert _closed_within(sock, 30) < SLOW_LIMIT_S + 5
    with socket.create_connection(("127.0.0.1", port)) as sock:  # slowloris: a header byte every second
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        began = time.monotonic()
        with pytest.raises(OSError):
            for _ in range(30):
                time.sleep(1.0)
                sock.sendall(b"X-a: b\r\n")
        assert time.monotonic() - began < SLOW_LIMIT_S + 5


def test_a_body_that_stops_arriving_is_cut_off_and_a_prompt_one_is_served(gateway):
    url, _ = gateway
    port = int(url.rsplit(":", 1)[1])
    head = f"POST /v1/experiments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head.encode() + b'{"name": ')  # 9 of 100 bytes, then silence
        assert _closed_within(sock, 30) < SLOW_LIMIT_S + 5
    # headers and body in good time still get their answer over the same guarded server
    assert httpx.get(url + "/healthz", timeout=ANSWER_TIMEOUT_S).status_code == 200

"""The gateway without keys serves loopback only: its startup refuses any other bind
address (``LESDE_BIND_HOST``) unless ``LESDE_ALLOW_ANONYMOUS=1``, and says it is open."""

import logging

import pytest
from fastapi.testclient import TestClient
from lesde_api.bind_rule import OpenBindRefused, is_loopback
from lesde_api.main import create_app


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "lab.example.org", ""])
def test_other_addresses_count_as_reachable(host):
    assert not is_loopback(host)


def test_an_open_gateway_refuses_a_non_loopback_bind_at_startup(monkeypatch):
    monkeypatch.setenv("LESDE_BIND_HOST", "0.0.0.0")
    with pytest.raises(OpenBindRefused, match="LESDE_ALLOW_ANONYMOUS=1"):
        with TestClient(create_app()):
            pass


@pytest.mark.parametrize(("variable", "value"), [("LESDE_ALLOW_ANONYMOUS", "1"), ("LESDE_API_KEYS", "ada=ada-key")])
def test_keys_or_an_explicit_opt_in_allow_it(monkeypatch, variable, value):
    monkeypatch.setenv("LESDE_BIND_HOST", "0.0.0.0")
    monkeypatch.setenv(variable, value)
    with TestClient(create_app()) as client:
        assert client.get("/healthz").status_code == 200


def test_an_open_gateway_says_so_at_start(monkeypatch, caplog):
    with caplog.at_level(logging.WARNING, logger="lesde_api"):
        with TestClient(create_app()):
            pass
    assert "no API keys are set" in caplog.text and "open" in caplog.text


def test_proc_addresses_decode_as_the_kernel_writes_them():
    from lesde_api.bind_rule import _proc_address

    assert _proc_address("0100007F") == "127.0.0.1" and _proc_address("00000000") == "0.0.0.0"
    assert _proc_address("00000000000000000000000001000000") == "::1"


def _serve(tmp_path, host: str, **extra: str):
    import os
    import subprocess
    import sys

    from lesde_launcher.stack import free_port

    env = dict(os.environ)
    env.update(LESDE_STORE="local", LESDE_LOCAL_STORE_DIR=str(tmp_path / "store"), LESDE_BROKER_URL="filesystem://",
               LESDE_BROKER_DIR=str(tmp_path / "broker"), **extra)  # fmt: skip
    for name in ("LESDE_API_KEYS", "LESDE_API_KEYS_FILE", "LESDE_BIND_HOST", "LESDE_ALLOW_ANONYMOUS"):
        if name not in extra:
            env.pop(name, None)
    (tmp_path / "broker").mkdir(exist_ok=True)
    log = tmp_path / "api.log"
    command = [sys.executable, "-m", "uvicorn", "lesde_api.main:app", "--host", host, "--port", str(free_port())]
    return subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT), log


def test_uvicorn_started_by_hand_on_every_interface_without_keys_stops_with_the_reason(tmp_path):
    """Whatever launched it: the address uvicorn really bound decides, not LESDE_BIND_HOST (unset here)."""
    process, log = _serve(tmp_path, "0.0.0.0")
    try:
        assert process.wait(timeout=120) is not None
    finally:
        process.kill()
    text = log.read_text()
    assert "listening on 0.0.0.0: refusing to serve 0.0.0.0 without API keys" in text, text


def test_the_opt_in_keeps_it_serving(tmp_path):
    import time

    import httpx

    process, log = _serve(tmp_path, "0.0.0.0", LESDE_ALLOW_ANONYMOUS="1")
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            try:
                port = process.args[-1]
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(1.0)  # the watcher has seen the socket by now and let it be
        assert process.poll() is None
    finally:
        process.kill()
        process.wait(timeout=30)

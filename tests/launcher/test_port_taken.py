"""``lesde up`` and ``lesde demo`` refuse a port that is taken, before starting anything.

The port is held by a real HTTP server that answers ``/readyz`` with 200, as another lab
server would: the launcher must not take it for its own gateway.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from lesde import cli
from lesde_launcher.stack import EmbeddedStack, PortUnavailable, check_port_free, free_port

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 120  # a `lesde` process on a busy machine: imports take most of it


class _Ready(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ready"}')

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def someone_elses_server() -> Iterator[int]:
    """The port of a running HTTP server that is not ours, and says it is ready."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _message(port: int) -> str:
    return f"error: port {port} on 127.0.0.1 is in use (another server?); choose another with --port\n"


def test_up_refuses_a_taken_port_before_starting_anything(someone_elses_server, tmp_path, capsys):
    state = tmp_path / "stack"
    assert cli.main(["up", "--port", str(someone_elses_server), "--state-dir", str(state)]) == 2
    out, err = capsys.readouterr()
    assert err == _message(someone_elses_server) and "serving" not in out
    assert not state.exists()  # no folder, so no process either


def test_demo_refuses_a_taken_port_too(someone_elses_server, tmp_path, capsys):
    state = tmp_path / "demo"
    spec = REPO / "examples" / "geomnist-small.json"
    assert cli.main(["demo", str(spec), "--port", str(someone_elses_server), "--state-dir", str(state)]) == 2
    assert capsys.readouterr().err.endswith(_message(someone_elses_server))
    assert not (state / "broker").exists() and not (state / "logs").exists()


def test_lesde_up_as_a_process_exits_non_zero_with_one_line(someone_elses_server, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("LESDE_API_KEYS", "LESDE_API_KEYS_FILE")}
    command = [sys.executable, "-m", "lesde.cli", "up", "--port", str(someone_elses_server), "--state-dir", str(tmp_path / "s")]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=CLI_TIMEOUT_S, cwd=REPO, env=env)
    assert finished.returncode == 2
    assert finished.stderr.endswith(_message(someone_elses_server)) and finished.stdout == ""


def test_the_stack_checks_its_port_first_and_passes_a_free_one(someone_elses_server, tmp_path):
    with pytest.raises(PortUnavailable, match=f"port {someone_elses_server} on 127.0.0.1 is in use"):
        EmbeddedStack(state_dir=tmp_path, port=someone_elses_server).start(timeout=1)
    assert not (tmp_path / "broker").exists()
    check_port_free("127.0.0.1", free_port())  # no error


def test_an_address_that_is_not_this_machines_is_refused_with_the_reason():
    # 192.0.2.0/24 is reserved for documentation (RFC 5737): never an address of this machine.
    with pytest.raises(PortUnavailable, match=r"cannot serve on 192\.0\.2\.1 port 8000 \(.+\); choose another --host or --port"):
        check_port_free("192.0.2.1", 8000)

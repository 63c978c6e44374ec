"""``lesde keys add``, the bind rule of ``lesde up`` / ``lesde demo``, and the client's key.

``lesde up`` is only run where it refuses before starting anything; the gateway's own
refusal is checked on a real uvicorn process.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from lesde import cli
from lesde.client import LesdeClient
from lesde_api.api_keys import key_digest
from lesde_api.deps import get_store
from lesde_api.main import create_app
from lesde_launcher import commands, keys
from lesde_launcher.stack import EmbeddedStack, free_port

START_TIMEOUT_S = 120


def test_keys_add_prints_a_key_and_appends_only_its_hash(tmp_path, capsys):
    key_file = tmp_path / "conf" / "api-keys"
    assert cli.main(["keys", "add", "ada", "--file", str(key_file)]) == 0
    ada_key = capsys.readouterr().out.strip()
    assert cli.main(["keys", "add", "bob", "--file", str(key_file)]) == 0
    out, err = capsys.readouterr()
    bob_key = out.strip()
    assert len(ada_key) >= 40 and ada_key != bob_key and "shown only now" in err
    assert key_file.read_text() == f"ada:{key_digest(ada_key)}\nbob:{key_digest(bob_key)}\n"
    assert ada_key not in key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_keys_add_uses_the_configured_file_and_refuses_bad_owners(tmp_path, monkeypatch, capsys):
    key_file = tmp_path / "api-keys"
    monkeypatch.setenv("LESDE_API_KEYS_FILE", str(key_file))
    assert cli.main(["keys", "add", "ada@lab"]) == 0
    assert key_file.read_text().startswith("ada@lab:")
    assert cli.main(["keys", "add", "a/b"]) == 2
    assert "owner 'a/b' is not allowed" in capsys.readouterr().err


def test_a_key_from_keys_add_opens_the_gateway_to_its_owner(tmp_path, monkeypatch, capsys, local_store):
    key_file = tmp_path / "api-keys"
    key_file.write_text("# lab keys\nold:" + "0" * 64)  # a hand-edited file without its last newline
    assert cli.main(["keys", "add", "ada", "--file", str(key_file)]) == 0
    key = capsys.readouterr().out.strip()
    monkeypatch.setenv("LESDE_API_KEYS_FILE", str(key_file))
    app = create_app()
    app.dependency_overrides[get_store] = lambda: local_store
    with TestClient(app) as client:
        assert client.get("/v1/experiments", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert client.get("/v1/experiments").status_code == 401


def test_up_refuses_a_non_loopback_bind_without_keys_before_starting_anything(tmp_path, capsys):
    state = tmp_path / "stack"
    assert cli.main(["up", "--host", "0.0.0.0", "--port", str(free_port()), "--state-dir", str(state)]) == 2
    err = capsys.readouterr().err
    assert "refusing to serve 0.0.0.0 without API keys" in err and "LESDE_ALLOW_ANONYMOUS=1" in err
    assert not state.exists()  # no process, no folder


def test_the_bind_rule_passes_with_keys_or_the_opt_in_and_says_when_open(monkeypatch, capsys):
    monkeypatch.setenv("LESDE_ALLOW_ANONYMOUS", "1")
    assert commands.access_check("0.0.0.0", "http://0.0.0.0:8000") is None
    assert "http://0.0.0.0:8000 is open" in capsys.readouterr().err
    monkeypatch.delenv("LESDE_ALLOW_ANONYMOUS")
    monkeypatch.setenv("LESDE_API_KEYS", "ada=ada-key")
    assert commands.access_check("0.0.0.0", "http://0.0.0.0:8000") is None
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("LESDE_API_KEYS", "ada")  # malformed: refused before anything starts
    assert "expected owner=key" in commands.access_check("127.0.0.1", "http://127.0.0.1:8000")


def test_the_stack_tells_the_gateway_its_bind_address(tmp_path):
    assert EmbeddedStack(state_dir=tmp_path, host="0.0.0.0").environment()["LESDE_BIND_HOST"] == "0.0.0.0"


def test_the_gateway_process_itself_refuses_an_open_non_loopback_bind(tmp_path):
    """A gateway started by hand (not through `lesde up`) checks LESDE_BIND_HOST at startup."""
    env = {k: v for k, v in os.environ.items() if k not in ("LESDE_API_KEYS", "LESDE_API_KEYS_FILE", "LESDE_ALLOW_ANONYMOUS")}
    env.update(
        LESDE_STORE="local",
        LESDE_LOCAL_STORE_DIR=str(tmp_path / "store"),
        LESDE_BROKER_URL="filesystem://",
        LESDE_BROKER_DIR=str(tmp_path / "broker"),
        LESDE_BIND_HOST="0.0.0.0",
    )
    # It listens on loopback all the same: the test must not open a port to the network.
    command = [sys.executable, "-m", "uvicorn", "lesde_api.main:app", "--host", "127.0.0.1", "--port", str(free_port())]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=START_TIMEOUT_S)
    assert finished.returncode != 0
    assert "refusing to serve 0.0.0.0 without API keys" in finished.stdout + finished.stderr


def test_the_client_sends_lesde_api_key_as_a_bearer_token(monkeypatch):
    monkeypatch.setenv("LESDE_API_KEY", "ada-key")
    with LesdeClient("http://127.0.0.1:1") as client:
        assert client.http.headers["Authorization"] == "Bearer ada-key"
    with LesdeClient("http://127.0.0.1:1", api_key="other") as client:
        assert client.http.headers["Authorization"] == "Bearer other"
    monkeypatch.delenv("LESDE_API_KEY")
    with LesdeClient("http://127.0.0.1:1") as client:
        assert "Authorization" not in client.http.headers and "X-Lesde-Owner" not in client.http.headers


@pytest.mark.parametrize("argv", [["keys"], ["keys", "add"]])
def test_keys_needs_an_action_and_an_owner(argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert keys.DEFAULT_KEY_FILE == ".lesde/api-keys"

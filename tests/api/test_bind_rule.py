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

"""The API in-process on a local-directory store and the filesystem broker (both real)."""

import pytest
from fastapi.testclient import TestClient
from lesde_api.deps import get_store
from lesde_api.main import create_app

from tests.fixtures import gateway

# The shared fixtures, registered here under their own names (a parameter of that name asks for one).
client, experiments, store = gateway.client, gateway.experiments, gateway.store

# Two owners' keys for the app of ``keyed_client`` (LESDE_API_KEYS takes the keys themselves).
API_KEYS = {"ada": "ada-key-0123456789", "bob": "bob-key-9876543210"}


@pytest.fixture
def bearer():
    """``bearer("ada")``: the Authorization header of that owner's key."""
    return lambda owner: {"Authorization": f"Bearer {API_KEYS[owner]}"}


@pytest.fixture
def keyed_app(store, monkeypatch):
    """The API with keys for two owners (so ownership is enforced), on the same real store."""
    monkeypatch.setenv("LESDE_API_KEYS", ",".join(f"{owner}={key}" for owner, key in API_KEYS.items()))
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    return app


@pytest.fixture
def keyed_client(keyed_app):
    with TestClient(keyed_app) as test_client:
        yield test_client


@pytest.fixture
def sent(monkeypatch):
    """Tasks the API enqueues, recorded instead of sent: these tests run no worker
    (tests/integration sends them over a real Redis to real workers)."""
    calls = []
    monkeypatch.setattr("lesde_runtime.celery_app.send", lambda *args: calls.append(args))
    return calls

"""The API in-process on a local-directory store and the filesystem broker (both real)."""

import pytest
from fastapi.testclient import TestClient

from lesde.jobs import JobRepository
from lesde.storage.local import LocalStore
from lesde_api.deps import get_store
from lesde_api.main import create_app


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


@pytest.fixture
def client(store):
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def experiments(store):
    return JobRepository(store, "experiment")


@pytest.fixture
def sent(monkeypatch):
    """Tasks the API enqueues, recorded instead of sent: these tests run no worker
    (tests/integration sends them over a real Redis to real workers)."""
    calls = []
    monkeypatch.setattr("lesde.celery_app.send", lambda *args: calls.append(args))
    return calls

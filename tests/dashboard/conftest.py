"""The gateway in-process (TestClient) on a local-directory store, as in tests/api, for the
dashboard's pages and the event streams; the browser test starts its own stack."""

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

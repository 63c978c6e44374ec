"""A store or broker that is down: 503 on every route, quickly, with a body that names what
failed but not the host, port or bucket.

The store is a real S3 client pointed at a real closed port (no server needed: the
connection is refused), with a short retry budget like the gateway's.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from lesde_api.deps import get_store
from lesde_api.main import create_app
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage import RetryPolicy
from lesde_runtime.storage.s3 import S3Store

from tests.api.test_broker_down import socket_closed_port  # bound, never listening: connections are refused

BUCKET = "private-bucket-name"


@pytest.fixture
def closed_port():
    with socket_closed_port() as port:
        yield port


@pytest.fixture
def down_client(closed_port):
    store = S3Store(endpoint=f"127.0.0.1:{closed_port}", access_key="k", secret_key="s" * 8, bucket=BUCKET, retry=RetryPolicy(budget_s=0.3))
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    with TestClient(app) as client:
        yield client


def _assert_sanitized(body: str, port: int) -> None:
    assert "127.0.0.1" not in body and str(port) not in body and BUCKET not in body, body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/experiments/0123456789abcdef"),
        ("GET", "/v1/experiments"),
        ("POST", "/v1/experiments"),
        ("DELETE", "/v1/simulations/0123456789abcdef"),
        ("GET", "/v1/experiments/0123456789abcdef/artifacts/manifest.json"),
        ("GET", "/v1/sweeps/0123456789abcdef"),
    ],
)
def test_a_store_that_is_down_is_503_naming_the_operation_not_the_address(down_client, closed_port, method, path):
    answer = down_client.request(method, path, json={} if method == "POST" else None)
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["detail"].startswith("the object store could not "), answer.text
    assert "connection refused" in answer.json()["detail"]
    _assert_sanitized(answer.text, closed_port)


def test_readiness_names_the_store_without_its_address(down_client, closed_port):
    ready = down_client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["storage"].startswith("unreachable: the object store could not be reached")
    _assert_sanitized(ready.text, closed_port)


def test_a_broker_that_is_down_is_503_without_its_address(client, store, monkeypatch):
    def refuse(*_args: object) -> None:
        raise ConnectionRefusedError("Error 111 connecting to 10.20.30.40:6379. Connection refused.")

    monkeypatch.setattr("lesde_runtime.celery_app.send", refuse)
    answer = client.post("/v1/experiments", json={})
    assert answer.status_code == 503 and "10.20.30.40" not in answer.text and "6379" not in answer.text
    assert answer.json()["detail"] == "the task broker is unreachable: Error 111 connecting to <address>. Connection refused."
    assert list(JobRepository(store, "experiment").iter_all()) == []  # refused: nothing recorded
    assert client.get("/v1/experiments").json()["count"] == 0


def test_an_artifact_name_too_long_for_the_file_system_is_404(client, experiments):
    job_id = experiments.create(spec={}, owner="a", name=None, total=1, unit="iterations").id
    answer = client.get(f"/v1/experiments/{job_id}/artifacts/figures/{'x' * 300}.png")
    assert answer.status_code == 404 and "no artifact named" in answer.json()["detail"]

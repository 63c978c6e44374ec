"""Keys and ownership: 401 without a valid key, 404 for another owner's id on EVERY route
that takes one (found by walking the app's routes, so a new route cannot escape), listings
that show the caller's jobs only, and key sources (inline, hashed file, reloads).

Real app, real local store, real filesystem broker; enqueued tasks are recorded (``sent``)
because no worker runs here.
"""

import re

import fastapi.routing
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from lesde_api.api_keys import KeyConfigError, key_digest
from lesde_api.deps import get_store
from lesde_api.main import create_app

EXPERIMENT = {"training": {"iterations": 20, "trials": 2, "eval_every": 10, "probe_every": 10, "probe_per_class": 2}}
SIMULATION = {"steps": 20, "runs": 2, "samples_per_class": 5, "record_every": 10}
SWEEP = {"name": "noise", "base": EXPERIMENT, "axes": {"training.seed": [1, 2]}}
UNKNOWN = "0123456789abcdef"
# The kind each id-taking path serves, by prefix; a route under another prefix fails the walk.
KIND_OF_PREFIX = {"/v1/experiments/": "experiment", "/v1/simulations/": "simulation", "/v1/sweeps/": "sweep", "/v1/datasets/": "dataset"}
ID_PARAMS = {"job_id", "sweep_id"}
# Values for the other path parameters: valid names, so only the id can make the answer a 404.
OTHER_PARAMS = {"name": "leode", "name:path": "spec.json", "digest": "0" * 64}
PARAM = re.compile(r"\{([^}]+)\}")
# The dashboard's pages take ids too, but read no job data: their script calls /v1 with the
# visitor's key (lesde_api.dashboard). Every other route that takes an id is walked.
PAGES_WITHOUT_DATA = ("/ui/",)
# Staged chunks are keyed by their owner and their sha256 (lesde_contract.object_keys.staged_chunk_key): the
# digest names no one else's object, so there is no id to walk (tests/api/test_run_imports.py
# checks that one owner's staged chunks are not another's).
SCOPED_BY_OWNER = ("/v1/imports/chunks/",)


def _objects(store) -> list[str]:
    return sorted(info.key for info in store.list(""))


def _jobs_of(client, headers) -> dict[str, str]:
    """One job of each kind, created through the API as the owner of ``headers``."""
    ids = {
        "experiment": client.post("/v1/experiments", json=EXPERIMENT, headers=headers),
        "simulation": client.post("/v1/simulations", json=SIMULATION, headers=headers),
        "sweep": client.post("/v1/sweeps", json=SWEEP, headers=headers),
        "dataset": client.post("/v1/datasets", files={"file": ("mine.npz", _npz())}, headers=headers),
    }
    for response in ids.values():
        assert response.status_code == 202, response.text
    return {kind: response.json()["id"] for kind, response in ids.items()}


def _npz() -> bytes:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(
        buffer,
        x_train=np.zeros((4, 8, 8), np.uint8),
        y_train=np.array([0, 0, 1, 1]),
        x_val=np.zeros((2, 8, 8), np.uint8),
        y_val=np.array([0, 1]),
    )
    return buffer.getvalue()


def all_routes(app) -> list[tuple[str, set[str]]]:
    """``(full path, methods)`` of every API route of ``app``, included routers' too.

    FastAPI from 0.12x on keeps an included router as one entry of ``app.routes``; its
    ``iter_route_contexts`` walks into them (older versions flatten ``app.routes`` itself)."""
    walk = getattr(fastapi.routing, "iter_route_contexts", None)
    if walk is not None:
        contexts = [context for context in walk(app.routes) if isinstance(context.original_route, APIRoute)]
        return [(context.path, set(context.methods)) for context in contexts]
    return [(route.path, set(route.methods)) for route in app.routes if isinstance(route, APIRoute)]


def _id_routes(app) -> list[tuple[str, str, str]]:
    """``(method, path template, kind)`` of every route whose path takes a job's id."""
    found = []
    for path, methods in all_routes(app):
        params = PARAM.findall(path)
        if not params:
            continue
        if path.startswith(PAGES_WITHOUT_DATA + SCOPED_BY_OWNER):
            continue
        assert ID_PARAMS & set(params), f"{path} takes {params} but no job id: teach this test (and the ownership rule) about it"
        kind = next((kind for prefix, kind in KIND_OF_PREFIX.items() if path.startswith(prefix)), None)
        assert kind is not None, f"{path}: a kind this test does not know takes an id"
        found.extend((method, path, kind) for method in sorted(methods - {"HEAD"}))
    return found


def _url(template: str, job_id: str) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        return job_id if name in ID_PARAMS else OTHER_PARAMS[name]

    return PARAM.sub(fill, template)


def _call(client, method: str, url: str, headers: dict):
    body = {"json": {}} if method == "POST" and url.endswith("/analysis") else {}
    return client.request(method, url, headers=headers, **body)


def test_every_route_that_takes_an_id_answers_another_owner_as_missing(keyed_app, keyed_client, bearer, store, sent):
    adas = _jobs_of(keyed_client, bearer("ada"))
    routes = _id_routes(keyed_app)
    # cancel, delete, status, artifacts, analysis, figures, exports and the sweep's own results, of every kind
    assert len(routes) >= 25 and {kind for _m, _p, kind in routes} == {"experiment", "simulation", "sweep", "dataset"}
    assert {("DELETE", "/v1/experiments/{job_id}"), ("POST", "/v1/sweeps/{sweep_id}/cancel")} <= {(m, p) for m, p, _k in routes}
    before = _objects(store)
    for method, template, kind in routes:
        missing = _call(keyed_client, method, _url(template, UNKNOWN), bearer("bob"))
        foreign = _call(keyed_client, method, _url(template, adas[kind]), bearer("bob"))
        assert missing.status_code == 404, (method, template, missing.text)
        assert foreign.status_code == 404, (method, template, foreign.text)
        # the very answer of a missing id: nothing tells bob that ada's id exists
        expected = missing.json()["detail"].replace(UNKNOWN, adas[kind])
        assert foreign.json() == {"message": expected, "field": None, "detail": expected}, (method, template)
    assert _objects(store) == before, "another owner's calls changed something"
    for kind, job_id in adas.items():
        own = keyed_client.get(f"/v1/{kind}s/{job_id}", headers=bearer("ada"))
        assert own.status_code == 200 and own.json()["status"] == "queued" and own.json()["owner"] == "ada"


def test_the_owner_keeps_every_operation(keyed_client, bearer, sent):
    adas = _jobs_of(keyed_client, bearer("ada"))
    experiment = adas["experiment"]
    assert keyed_client.get(f"/v1/experiments/{experiment}/artifacts", headers=bearer("ada")).status_code == 200
    assert keyed_client.post(f"/v1/experiments/{experiment}/cancel", headers=bearer("ada")).json()["status"] == "cancelled"
    assert keyed_client.delete(f"/v1/experiments/{experiment}", headers=bearer("ada")).status_code == 204
    assert keyed_client.post(f"/v1/sweeps/{adas['sweep']}/cancel", headers=bearer("ada")).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-key"}, {"Authorization": "Basic YWRhOmtleQ=="}])
def test_every_v1_route_needs_a_valid_key(keyed_app, keyed_client, bearer, headers, store, sent):
    adas = _jobs_of(keyed_client, bearer("ada"))
    before = _objects(store)
    walked = 0
    for path, methods in all_routes(keyed_app):
        if not path.startswith("/v1"):
            continue
        kind = next((kind for prefix, kind in KIND_OF_PREFIX.items() if path.startswith(prefix)), "experiment")
        for method in methods - {"HEAD"}:
            response = keyed_client.request(method, _url(path, adas[kind]), headers=headers, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert "API key" in response.json()["detail"]
            walked += 1
    assert walked >= 30
    assert _objects(store) == before
    assert keyed_client.get("/healthz").status_code == 200  # probes need no key


def test_wrong_key_says_invalid_token_and_missing_key_says_required(keyed_client):
    missing = keyed_client.get("/v1/experiments")
    wrong = keyed_client.get("/v1/experiments", headers={"Authorization": "Bearer nope"})
    required = "an API key is required: send Authorization: Bearer <key>"
    assert missing.json() == {"message": required, "field": None, "detail": required}
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"] and "error" not in missing.headers["www-authenticate"]


def test_listings_show_the_callers_jobs_only(keyed_client, bearer, sent):
    adas, bobs = _jobs_of(keyed_client, bearer("ada")), _jobs_of(keyed_client, bearer("bob"))
    for kind in ("experiment", "simulation", "sweep"):
        mine = keyed_client.get(f"/v1/{kind}s", headers=bearer("ada")).json()
        # a sweep's children are experiments of the same owner
        assert adas[kind] in {item["id"] for item in mine["data"]} and {item["owner"] for item in mine["data"]} == {"ada"}
        assert bobs[kind] not in {item["id"] for item in mine["data"]}
        asked_for_bob = keyed_client.get(f"/v1/{kind}s", params={"owner": "bob"}, headers=bearer("ada"))
        assert asked_for_bob.status_code == 200 and asked_for_bob.json() == {"data": [], "count": 0}
        own_filter = keyed_client.get(f"/v1/{kind}s", params={"owner": "ada"}, headers=bearer("ada")).json()
        assert own_filter["count"] == mine["count"]
    assert keyed_client.get("/v1/experiments", headers=bearer("ada")).json()["count"] == 3  # one alone, two sweep children


def test_without_keys_the_gateway_is_open_as_before(client, sent):
    record = client.post("/v1/experiments", json=EXPERIMENT).json()
    assert record["owner"] == "anonymous"
    assert client.get(f"/v1/experiments/{record['id']}").status_code == 200


def _app_with_key_file(store, monkeypatch, path):
    monkeypatch.setenv("LESDE_API_KEYS_FILE", str(path))
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    return app


def test_a_hashed_key_file_is_followed_as_it_changes(store, monkeypatch, tmp_path, sent):
    key_file = tmp_path / "api-keys"
    key_file.write_text(f"# owner:sha256\nada:{key_digest('ada-secret')}\n")
    with TestClient(_app_with_key_file(store, monkeypatch, key_file)) as client:
        assert client.get("/v1/experiments", headers={"Authorization": "Bearer ada-secret"}).status_code == 200
        assert client.get("/v1/experiments", headers={"Authorization": "Bearer cy-secret"}).status_code == 401
        key_file.write_text(key_file.read_text() + f"cy:{key_digest('cy-secret')}\n")  # added without a restart
        assert client.get("/v1/experiments", headers={"Authorization": "Bearer cy-secret"}).status_code == 200
        key_file.write_text(f"cy:{key_digest('cy-secret')}\n")  # ada's key revoked
        assert client.get("/v1/experiments", headers={"Authorization": "Bearer ada-secret"}).status_code == 401
        key_file.write_text("cy:not-a-digest\n")  # a broken edit keeps the last good keys
        assert client.get("/v1/experiments", headers={"Authorization": "Bearer cy-secret"}).status_code == 200


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("LESDE_API_KEYS", "ada", "LESDE_API_KEYS pair 1: expected owner=key"),
        ("LESDE_API_KEYS", "ada=k1,a/b=k2", "LESDE_API_KEYS pair 2: owner 'a/b' is not allowed"),
        ("LESDE_API_KEYS", "ada=same,bob=same", "one key is configured for two owners"),
        ("LESDE_API_KEYS_FILE", "/nonexistent/keys", "is not a file"),
    ],
)
def test_a_malformed_key_source_refuses_to_load(monkeypatch, variable, value, words):
    monkeypatch.setenv(variable, value)
    with pytest.raises(KeyConfigError, match=re.escape(words)):
        create_app()


def test_an_empty_key_file_closes_every_v1_route(store, monkeypatch, tmp_path):
    key_file = tmp_path / "api-keys"
    key_file.write_text("")
    with TestClient(_app_with_key_file(store, monkeypatch, key_file)) as client:
        assert client.get("/v1/experiments").status_code == 401

"""Request limits: 413 before a body is read whole, 422 for NaN and infinities and for
unknown query parameters, the per-owner quota of unfinished jobs (429), the simulation
cost cap (the ode is not charged for samples_per_class).

The streaming checks drive the real app through its ASGI interface with a body that
arrives in pieces and records how much of it the app pulled (the TestClient hands a body
over whole); ``tests/api/test_body_limit_server.py`` does it over a socket to uvicorn.
"""

import asyncio
import json
import threading

import pytest
from lesde_api.deps import get_api_settings, get_limits, get_store
from lesde_api.main import create_app
from lesde_api.operations.quota import QuotaExceeded, admitted
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.settings import ApiSettings, LimitSettings

TINY = {"training": {"iterations": 20, "trials": 2, "eval_every": 10, "probe_every": 10, "probe_per_class": 2}}
MIB = 1 << 20
PIECE = 64 * 1024


def _objects(store) -> list[str]:
    return sorted(info.key for info in store.list(""))


# -- 413 ------------------------------------------------------------------------------
def _drive(app, path: str, pieces, *, headers: dict[str, str]) -> tuple[int, dict, int]:
    """POST ``pieces`` (an iterable of bytes) to ``app`` as a streamed body; return the
    status, the JSON answer and how many body bytes the app pulled."""
    pulled = 0
    source = iter(pieces)
    sent = []

    async def receive():
        nonlocal pulled
        piece = next(source, None)
        if piece is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(piece)
        return {"type": "http.request", "body": piece, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], json.loads(body), pulled


def _json_pieces(total: int):
    """A syntactically valid JSON object of about ``total`` bytes, in 64 KiB pieces."""
    yield b'{"name": "'
    for _ in range(total // PIECE):
        yield b"x" * PIECE
    yield b'"}'


@pytest.fixture
def app(store):
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    return app


def test_a_2_mib_json_body_with_content_length_is_413_unread(app, client, store):
    before = _objects(store)
    status, answer, pulled = _drive(
        app, "/v1/experiments", [b"{" * 10], headers={"content-type": "application/json", "content-length": str(2 * MIB)}
    )
    assert (status, pulled) == (413, 0)
    message = "the request body exceeds this deployment's limit of 1,048,576 bytes (LESDE_MAX_JSON_BODY_BYTES)"
    assert answer == {"message": message, "field": None, "detail": message}
    # the same through an HTTP client, whole body in hand
    assert client.post("/v1/experiments", content=b" " * (2 * MIB), headers={"Content-Type": "application/json"}).status_code == 413
    assert _objects(store) == before


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_streamed_2_mib_body_is_cut_off_past_the_cap(app, store, content_type):
    before = _objects(store)
    status, answer, pulled = _drive(app, "/v1/experiments", _json_pieces(2 * MIB), headers={"content-type": content_type})
    assert status == 413 and "LESDE_MAX_JSON_BODY_BYTES" in answer["detail"]
    assert MIB < pulled <= MIB + PIECE + 16  # stopped at the first piece past the cap, never the whole 2 MiB
    assert _objects(store) == before


def test_a_body_under_the_cap_passes_streamed(app, store, sent):
    pieces = [json.dumps(TINY).encode()[:10], json.dumps(TINY).encode()[10:]]
    status, answer, _pulled = _drive(app, "/v1/experiments", pieces, headers={"content-type": "application/json"})
    assert status == 202 and answer["status"] == "queued"


def test_uploads_have_their_own_cap_streamed_too(store, monkeypatch, sent):
    monkeypatch.setenv("LESDE_MAX_IMPORT_BYTES", str(2 * MIB))
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    boundary = "lesdeboundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="run.csv"\r\nContent-Type: text/csv\r\n\r\n').encode()

    def upload(size: int):
        yield head + b"trial,itr,smp,y,y_logit0,y_logit1,tr_loss,val_loss,val_acc\n"
        for _ in range(size // PIECE):
            yield b"0,0,0,0,0.1,0.2,1.0,,\n".ljust(PIECE - 1, b"#") + b"\n"
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    status, answer, _pulled = _drive(app, "/v1/imports", upload(3 * MIB // 2), headers=headers)
    assert status == 202, answer  # over the JSON cap, under the upload cap: the gateway stores it
    status, answer, pulled = _drive(app, "/v1/imports", upload(4 * MIB), headers=headers)
    assert status == 413 and "LESDE_MAX_IMPORT_BYTES" in answer["detail"]
    assert pulled <= 2 * MIB + 64 * 1024 + 2 * PIECE


# -- NaN and infinities ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "raw", "field"),
    [
        ("/v1/experiments", '{"training": {"learning_rate": NaN}}', "training.learning_rate"),
        ("/v1/experiments", '{"name": "x", "dataset": {"label_noise": -Infinity}}', "dataset.label_noise"),
        ("/v1/simulations", '{"sigma": Infinity}', "sigma"),
        ("/v1/simulations", '{"steps": 20, "alpha": {"kind": "array", "values": [1.0, NaN]}}', "alpha.values.1"),
        ("/v1/sweeps", '{"base": {}, "axes": {"dataset.label_noise": [0, NaN]}}', "axes.dataset.label_noise.1"),
        ("/v1/simulations/phase-diagram", '{"grid": {"kind": "gap", "gaps": [Infinity]}}', "grid.gaps.0"),
    ],
)
def test_nan_and_infinities_are_422_naming_the_field(client, store, path, raw, field):
    before = _objects(store)
    response = client.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert [item["field"] for item in problem["detail"]] == [field]
    assert problem["message"] == f"{field}: Input should be a finite number; NaN and infinities are not allowed"
    assert _objects(store) == before


def test_nan_in_analysis_options_is_422(client, sent):
    job_id = client.post("/v1/experiments", json=TINY).json()["id"]
    response = client.post(
        f"/v1/experiments/{job_id}/analysis", content='{"verdict_tolerance": NaN}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "verdict_tolerance"


def test_a_non_finite_float_query_parameter_is_422_naming_it(client, sent):
    job_id = client.post("/v1/experiments", json=TINY).json()["id"]
    for value in ("nan", "inf", "-Infinity"):
        response = client.get(f"/v1/experiments/{job_id}/figures/leode.png", params={"width": value})
        assert response.status_code == 422, response.text
        assert response.json()["message"] == "width: Input should be a finite number; NaN and infinities are not allowed"


# -- unknown query parameters ------------------------------------------------------------------
def test_unknown_query_parameters_are_422_naming_each(client, sent):
    response = client.get("/v1/experiments", params={"status": "queued", "colour": "red", "limt": 5})
    assert response.status_code == 422
    problem = response.json()
    assert [item["field"] for item in problem["detail"]] == ["colour", "limt"]
    assert "this route takes: limit, offset, owner, status" in problem["message"]
    job_id = client.post("/v1/experiments", json=TINY).json()["id"]
    typo = client.get(f"/v1/experiments/{job_id}/analysis", params={"max_point": 10})
    assert typo.status_code == 422 and typo.json()["detail"][0]["field"] == "max_point"
    assert client.post(f"/v1/experiments/{job_id}/cancel", params={"force": "1"}).status_code == 422  # cancel takes none
    assert client.get("/healthz", params={"verbose": "1"}).status_code == 422


def test_declared_query_parameters_still_work(client, sent):
    client.post("/v1/experiments", json=TINY)
    assert client.get("/v1/experiments", params={"status": "queued", "limit": 5, "offset": 0, "owner": "anonymous"}).json()["count"] == 1


# -- quota of unfinished jobs -----------------------------------------------------------------------
def _with_quota(app, limit: int):
    app.dependency_overrides[get_api_settings] = lambda: ApiSettings(max_unfinished_jobs_per_owner=limit)


def test_quota_of_unfinished_jobs_is_429_with_retry_after(client, sent):
    _with_quota(client.app, 3)
    first = client.post("/v1/experiments", json=TINY).json()
    client.post("/v1/simulations", json={"steps": 20, "runs": 2, "samples_per_class": 5, "record_every": 10})  # counts too
    client.post("/v1/experiments", json=TINY)
    refused = client.post("/v1/experiments", json=TINY)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
    assert "has 3 unfinished (queued or running) jobs" in refused.json()["detail"]
    assert "LESDE_MAX_UNFINISHED_JOBS_PER_OWNER" in refused.json()["detail"]
    assert client.get("/v1/experiments").json()["count"] == 2  # nothing recorded for the refused one
    client.post(f"/v1/experiments/{first['id']}/cancel")  # a finished job frees its place
    assert client.post("/v1/experiments", json=TINY).status_code == 202


def test_a_sweep_counts_its_children(client, sent):
    _with_quota(client.app, 3)
    client.post("/v1/experiments", json=TINY)
    two_points = {"base": TINY, "axes": {"training.seed": [1, 2]}}
    assert client.post("/v1/sweeps", json=two_points).status_code == 202
    assert client.post("/v1/sweeps", json={"base": TINY, "axes": {"training.seed": [3]}}).status_code == 429
    too_big = client.post("/v1/sweeps", json={"base": TINY, "axes": {"training.seed": [1, 2, 3, 4]}})
    assert too_big.status_code == 422  # could never fit: not worth a retry
    assert too_big.json()["detail"][0]["field"] == "axes" and "allowed range: 1 to 3 points" in too_big.json()["message"]


def test_the_quota_is_per_owner(keyed_client, bearer, sent):
    _with_quota(keyed_client.app, 1)
    assert keyed_client.post("/v1/experiments", json=TINY, headers=bearer("ada")).status_code == 202
    assert keyed_client.post("/v1/experiments", json=TINY, headers=bearer("ada")).status_code == 429
    assert keyed_client.post("/v1/experiments", json=TINY, headers=bearer("bob")).status_code == 202


def test_concurrent_submissions_of_one_owner_never_overshoot(store):
    experiments = JobRepository(store, "experiment")
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def submit() -> None:
        start.wait()
        try:
            with admitted(store, "ada", adding=1, limit=3):
                experiments.create(spec={}, owner="ada", name=None, total=1, unit="iterations")
            outcomes.append("admitted")
        except QuotaExceeded:
            outcomes.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["admitted"] * 3 + ["refused"] * 5


# -- simulation cost -------------------------------------------------------------------------------
ODE = {"mode": "ode", "classes": 2, "samples_per_class": 1_000, "runs": 10, "steps": 10_000, "record_every": 10}


def test_an_ode_run_is_not_charged_for_its_samples(client, sent):
    assert client.post("/v1/simulations", json=ODE).status_code == 202
    sde = client.post("/v1/simulations", json={**ODE, "mode": "sde"})  # the same run moving every sample
    assert sde.status_code == 422 and sde.json()["detail"][0]["field"] == "runs"


def test_the_simulation_cost_caps_are_settings(client, sent):
    client.app.dependency_overrides[get_limits] = lambda: LimitSettings(max_simulation_work=1_000_000, max_phase_diagram_work=2_000_000)
    assert client.post("/v1/simulations", json=ODE).status_code == 202  # 10 x 10,000 x 2 x 2 = 400,000
    over = client.post("/v1/simulations", json={**ODE, "runs": 30})
    assert over.status_code == 422
    assert over.json()["detail"][0]["field"] == "runs"
    assert "LESDE_MAX_SIMULATION_WORK" in over.json()["message"] and "runs from 1 to 25" in over.json()["message"]
    grid = {"base": ODE, "grid": {"kind": "gap", "gaps": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}}
    diagram = client.post("/v1/simulations/phase-diagram", json=grid)
    assert diagram.status_code == 422 and diagram.json()["detail"][0]["field"] == "grid"
    assert "1 to 5 grid points" in diagram.json()["message"]

"""HTTP contract of /v1/experiments: status codes, headers, validation messages, listings."""

import json
import subprocess
import sys

import pytest
from lesde_contract import object_keys
from lesde_contract.records import JobStatus

TINY = {"training": {"iterations": 20, "trials": 2, "eval_every": 10, "probe_every": 10, "probe_per_class": 2}}


def _submit(client, body=TINY):
    response = client.post("/v1/experiments", json=body)
    assert response.status_code == 202, response.text
    return response


def test_submit_answers_202_location_and_queued_record(client):
    response = _submit(client)
    record = response.json()
    assert response.headers["location"] == f"/v1/experiments/{record['id']}"
    assert record["status"] == "queued"
    assert record["progress"] == {"done": 0, "total": 20, "unit": "iterations", "rate": None, "eta_seconds": None}
    assert record["owner"] == "anonymous"
    assert record["spec"]["training"]["trials"] == 2
    again = client.get(response.headers["location"]).json()
    assert again["id"] == record["id"] and again["status"] == "queued"


def test_submit_answers_an_estimate_of_the_training_time(client):
    from lesde_contract.specs import ExperimentSpec
    from lesde_contract.specs.duration import estimated_seconds

    record = _submit(client).json()
    spec = ExperimentSpec.model_validate(TINY)
    assert record["estimated_seconds"] == pytest.approx(estimated_seconds(spec)) and record["estimated_seconds"] > 0
    assert client.get(f"/v1/experiments/{record['id']}").json().get("estimated_seconds") is None  # the 202 only
    mlp = _submit(client, {**TINY, "model": {"name": "mlp"}}).json()
    assert mlp["estimated_seconds"] is None  # no reference rate for the torch kernels


def test_owner_is_the_api_keys_owner_and_a_header_cannot_claim_another(keyed_client, bearer):
    headers = {**bearer("ada"), "X-Lesde-Owner": "bob"}  # the header of old names nobody any more
    record = keyed_client.post("/v1/experiments", json=TINY, headers=headers).json()
    assert record["owner"] == "ada"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"training": {"trials": 0}}, "training.trials", "greater than or equal to 1"),
        ({"training": {"iterations": 2_000_000}}, "training.iterations", "less than or equal to 1000000"),
        ({"dataset": {"label_noise": 1.5}}, "dataset.label_noise", "less than 1"),
        ({"training": {"train_eval_samples": 0}}, "training.train_eval_samples", "greater than or equal to 1"),
        ({"training": {"trials": 10_000, "iterations": 1_000_000}}, "training.trials", "allowed range: 1 to"),
    ],
)
def test_invalid_spec_is_422_naming_field_and_range(client, body, field, words):
    response = client.post("/v1/experiments", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert field in [item["field"] for item in problem["detail"]]
    assert words in problem["message"]


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"null", b'"text"', b'{"training": 5}'])
def test_malformed_bodies_are_422_never_500(client, raw):
    response = client.post("/v1/experiments", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_unknown_id_is_404(client):
    for method, path in [
        ("GET", "/v1/experiments/0123456789abcdef"),
        ("POST", "/v1/experiments/0123456789abcdef/cancel"),
        ("DELETE", "/v1/experiments/0123456789abcdef"),
        ("GET", "/v1/experiments/0123456789abcdef/artifacts"),
        ("GET", "/v1/experiments/0123456789abcdef/analysis"),
        ("GET", "/v1/experiments/0123456789abcdef/figures/class-means.png"),
        ("GET", "/v1/experiments/..%2F..%2Fetc/analysis"),
    ]:
        assert client.request(method, path).status_code == 404, path


def test_cancel_queued_then_cancelling_again_is_409(client):
    job_id = _submit(client).json()["id"]
    assert client.post(f"/v1/experiments/{job_id}/cancel").json()["status"] == "cancelled"
    conflict = client.post(f"/v1/experiments/{job_id}/cancel")
    assert conflict.status_code == 409
    assert "already cancelled" in conflict.json()["detail"]


def test_list_is_paginated_and_filtered(client, experiments):
    ids = [_submit(client).json()["id"] for _ in range(3)]
    experiments.mark_running(ids[1])
    page = client.get("/v1/experiments", params={"limit": 2}).json()
    assert page["count"] == 3 and len(page["data"]) == 2
    running = client.get("/v1/experiments", params={"status": "running"}).json()
    assert [item["id"] for item in running["data"]] == [ids[1]]
    assert client.get("/v1/experiments", params={"status": "bogus"}).status_code == 422
    assert client.get("/v1/experiments", params={"limit": 0}).status_code == 422


def test_artifacts_listing_and_streamed_download(client, experiments, store):
    job_id = _submit(client).json()["id"]
    store.put_bytes(object_keys.chunk_key(job_id, "sampled", 0, 9), b"x" * 3000)
    listing = client.get(f"/v1/experiments/{job_id}/artifacts").json()
    names = {item["name"]: item for item in listing["data"]}
    assert {"spec.json", "status.json", "chunks/sampled/000000000-000000009.npz"} <= set(names)
    download = client.get(names["chunks/sampled/000000000-000000009.npz"]["url"])
    assert download.status_code == 200 and download.content == b"x" * 3000
    assert download.headers["content-length"] == "3000"
    assert client.get(f"/v1/experiments/{job_id}/artifacts/nope.npz").status_code == 404
    assert json.loads(client.get(f"/v1/experiments/{job_id}/artifacts/spec.json").content)["training"]["trials"] == 2


def test_analysis_is_409_while_running_404_when_absent_then_served(client, experiments, store):
    job_id = _submit(client).json()["id"]
    experiments.mark_running(job_id)
    assert client.get(f"/v1/experiments/{job_id}/analysis").status_code == 409
    assert client.get(f"/v1/experiments/{job_id}/figures/class-means.png").status_code == 409
    experiments.mark_finished(job_id, JobStatus.succeeded)
    assert client.get(f"/v1/experiments/{job_id}/analysis").status_code == 404
    store.put_json(object_keys.analysis_key("experiment", job_id, "summary"), {"ok": True})
    store.put_bytes(object_keys.figure_key("experiment", job_id, "class-means"), b"\x89PNG fake")
    served = client.get(f"/v1/experiments/{job_id}/analysis").json()
    assert served["ok"] is True  # the stored summary, plus the links the gateway builds
    assert served["figures"]["class-means"] == f"/v1/experiments/{job_id}/figures/class-means.png"
    assert served["series_url"] == f"/v1/experiments/{job_id}/analysis/series.npz"
    figure = client.get(f"/v1/experiments/{job_id}/figures/class-means.png")
    assert figure.headers["content-type"] == "image/png" and figure.content.startswith(b"\x89PNG")
    assert client.get(f"/v1/experiments/{job_id}/figures/Bad_Name.png").status_code == 422


def test_delete_removes_objects_but_not_while_running(client, experiments, store):
    keep, gone = _submit(client).json()["id"], _submit(client).json()["id"]
    experiments.mark_running(gone)
    assert client.delete(f"/v1/experiments/{gone}").status_code == 409
    experiments.mark_finished(gone, JobStatus.failed, error="boom")
    store.put_bytes(object_keys.chunk_key(gone, "sampled", 0, 9), b"x")
    assert client.delete(f"/v1/experiments/{gone}").status_code == 204
    assert client.get(f"/v1/experiments/{gone}").status_code == 404
    assert list(store.list(object_keys.job_prefix("experiment", gone))) == []
    assert client.get(f"/v1/experiments/{keep}").status_code == 200


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["storage"] == "ok" and ready.json()["broker"] == "ok"


def test_openapi_documents_the_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/experiments" in paths and "/v1/experiments/{job_id}/figures/{name}.png" in paths


def test_the_api_never_imports_torch_or_scipy():
    code = "import sys, lesde_api.main; print(sorted(m for m in ('torch', 'scipy', 'lesde_trainer', 'lesde_analyzer') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_cross_field_errors_name_the_field(client):
    response = client.post("/v1/experiments", json={"dataset": {"classes": ["triangle", "hexagon"]}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "dataset.classes"
    assert "allowed" in response.json()["message"]


CUSTOM = [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "flatten"},
    {"type": "linear", "out_features": 16},
    {"type": "relu"},
    {"type": "linear", "out_features": 3},
]


@pytest.mark.parametrize(
    ("layers", "field", "words"),
    [
        (
            [
                {"type": "conv2d", "out_channels": 4, "kernel_size": 9, "stride": 4},
                {"type": "maxpool2d", "kernel_size": 8},
                {"type": "flatten"},
                {"type": "linear", "out_features": 3},
            ],
            "model.layers.1",
            "maxpool2d kernel_size 8 is larger than its 6x6 input",
        ),
        ([*CUSTOM[:-1], {"type": "linear", "out_features": 4}], "model.layers.6", "but the data has 3 classes"),
        ([{"type": "linear", "out_features": 3}], "model.layers.0", "put a flatten before it"),
        ([*CUSTOM[:4], {"type": "dropout"}, *CUSTOM[4:]], "model.layers.4", "dropout is refused"),
        (
            [
                {"type": "flatten"},
                {"type": "linear", "out_features": 4096},
                {"type": "linear", "out_features": 4096},
                {"type": "linear", "out_features": 3},
            ],
            "model.layers",
            "parameters per trial; allowed range",
        ),
    ],
)
def test_a_custom_network_that_does_not_fit_the_data_is_422_naming_the_layer(client, layers, field, words):
    response = client.post("/v1/experiments", json={**TINY, "model": {"name": "custom", "layers": layers}})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["field"] == field and words in problem["message"], problem


def test_a_custom_network_is_accepted_and_its_layers_kept(client):
    record = _submit(client, {**TINY, "model": {"name": "custom", "layers": CUSTOM}}).json()
    assert record["spec"]["model"]["layers"][0] == {"type": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 1, "padding": 0}
    assert record["estimated_seconds"] is None  # no reference rate for the generic path
    assert client.post("/v1/experiments", json={**TINY, "model": {"name": "lenet", "layers": CUSTOM}}).status_code == 422

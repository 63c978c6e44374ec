"""A Recorder's run uploaded to the gateway (in-process) and imported by the analyzer's task:
staged chunks, resumable uploads, the import's checks and the numbers it leads to."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from lesde import Recorder, analyze
from lesde.client import LesdeApiError, LesdeClient
from lesde.recorder.upload import upload_run
from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
from lesde_analyzer.imports import run_import_job
from lesde_contract import object_keys
from lesde_contract.chunks import encode_chunk, load_manifest
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobRepository

K, R, STEPS = 3, 2, 240


@pytest.fixture
def lesde_client(client):
    wrapped = LesdeClient("http://testserver")
    wrapped.http = client
    return wrapped


def record_run(folder, *, seed: int = 0, chunk: int = 100) -> None:
    """Two 'models' whose class means separate like a training run's, logged trial after trial."""
    rng = np.random.default_rng(seed)
    probe_y = np.repeat(np.arange(K), 2)
    rec = Recorder(classes=["a", "b", "c"], trials=R, store=folder, chunk_iterations=chunk, name="recorded")
    for trial in range(R):
        for step in range(STEPS):
            y = int(rng.integers(K))
            logits = 0.01 * step * (np.eye(K)[y] - 1 / K) + 0.1 * rng.standard_normal(K)
            rec.log(step, logits.astype(np.float32)[None], y, trial=trial)
            if step % 40 == 0:
                probe = 0.01 * step * (np.eye(K)[probe_y] - 1 / K) + 0.1 * rng.standard_normal((probe_y.size, K))
                rec.probe(step, probe, probe_y, trial=trial)
                rec.evaluate(step, trial, val_acc=min(1.0, step / STEPS), val_loss=1.0 - step / STEPS)
    rec.close()


def test_an_uploaded_run_imports_as_an_experiment_with_the_same_analysis(lesde_client, store, tmp_path, sent):
    folder = tmp_path / "run"
    record_run(folder)
    local = analyze(folder)
    job = upload_run(folder, client=lesde_client)
    assert job["status"] == "queued" and job["spec"]["source"]["format"] == "lesde-run"
    assert (celery_app.IMPORT_EXPERIMENT, job["id"]) in [tuple(call[:2]) for call in sent]  # queued for the analyzer
    run_import_job(store, job["id"])
    record = lesde_client.get(job["id"])
    assert record["status"] == "succeeded", record.get("error")
    manifest = load_manifest(store, job["id"])
    assert manifest.iterations_done == STEPS and [e["first"] for e in manifest.chunks["sampled"]] == [0, 100, 200]
    # the recorder's chunk bytes arrive unchanged (same checksums), and the staging area is emptied
    uploaded = {e["checksum"] for entries in local_manifest(folder).values() for e in entries}
    assert {e["checksum"] for entries in manifest.chunks.values() for e in entries} == uploaded
    assert not list(store.list("staging/"))
    run_experiment_analysis(store, job["id"])
    served = lesde_client.analysis(job["id"], series=False)
    assert served["verdict"] == local.summary["verdict"]
    assert served["estimates"] == local.summary["estimates"]
    assert lesde_client.result(job["id"]).series["estimates/alpha_I"].tobytes() == local.series["estimates/alpha_I"].tobytes()


def local_manifest(folder) -> dict:
    import json

    return json.loads((folder / "manifest.json").read_text())["chunks"]


def test_a_resumed_upload_sends_only_the_chunks_the_server_lacks(lesde_client, store, tmp_path, sent, monkeypatch):
    folder = tmp_path / "run"
    record_run(folder, chunk=50)
    puts: list[str] = []
    real = lesde_client._request

    def failing_after_three(method, path, **kwargs):
        if method == "PUT":
            if len(puts) == 3:
                raise LesdeApiError(400, "the connection went away (simulated)")  # a 4xx: not retried
            puts.append(path)
        return real(method, path, **kwargs)

    monkeypatch.setattr(lesde_client, "_request", failing_after_three)
    with pytest.raises(LesdeApiError):
        upload_run(folder, client=lesde_client)
    assert len(puts) == 3
    monkeypatch.setattr(lesde_client, "_request", real)
    sent_again: list[str] = []

    def counting(method, path, **kwargs):
        if method == "PUT":
            sent_again.append(path)
        return real(method, path, **kwargs)

    monkeypatch.setattr(lesde_client, "_request", counting)
    job = upload_run(folder, client=lesde_client)
    total = sum(len(entries) for entries in local_manifest(folder).values())
    assert len(sent_again) == total - 3 and not set(sent_again) & set(puts)
    run_import_job(store, job["id"])
    assert lesde_client.get(job["id"])["status"] == "succeeded"


def test_a_chunk_whose_bytes_do_not_match_its_digest_is_refused_naming_the_field(client):
    data = encode_chunk({"iteration": np.arange(3)})
    wrong = "0" * 64
    answer = client.put(f"/v1/imports/chunks/{wrong}", content=data, headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 422 and answer.json()["field"] == "sha256"
    digest = hashlib.sha256(b"not an npz").hexdigest()
    answer = client.put(f"/v1/imports/chunks/{digest}", content=b"not an npz", headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 422 and answer.json()["field"] == "body" and "npz" in answer.json()["message"]
    good = hashlib.sha256(data).hexdigest()
    first = client.put(f"/v1/imports/chunks/{good}", content=data, headers={"Content-Type": "application/octet-stream"})
    again = client.put(f"/v1/imports/chunks/{good}", content=data, headers={"Content-Type": "application/octet-stream"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert client.put("/v1/imports/chunks/not-hex", content=data).status_code == 422


def test_a_run_whose_chunks_are_not_staged_is_refused_listing_them(client, tmp_path):
    folder = tmp_path / "run"
    record_run(folder)
    import json

    manifest = json.loads((folder / "manifest.json").read_text())
    body = {"classes": ["a", "b", "c"], "trials": R, "manifest": manifest}
    answer = client.post("/v1/imports/runs", json=body)
    assert answer.status_code == 409 and "not staged" in answer.json()["message"]
    bad = body | {"manifest": manifest | {"chunks": {"sampled": [], "logits": []}}}
    answer = client.post("/v1/imports/runs", json=bad)
    assert answer.status_code == 422 and "manifest.chunks" in answer.json()["field"]


def test_an_import_fails_naming_the_chunk_and_array_when_the_logits_do_not_fit_the_classes(lesde_client, store, tmp_path, sent):
    folder = tmp_path / "run"
    record_run(folder)
    import json

    spec = json.loads((folder / "spec.json").read_text())
    spec["dataset"]["classes"] = ["a", "b", "c", "d"]  # K = 4 declared, the logits have 3
    (folder / "spec.json").write_text(json.dumps(spec))
    job = upload_run(folder, client=lesde_client)
    run_import_job(store, job["id"])
    record = lesde_client.get(job["id"])
    assert record["status"] == "failed"
    assert "sampled chunk 0-99" in record["error"] and "logits" in record["error"]
    assert not store.exists(object_keys.run_upload_key(job["id"])) and not list(store.list("staging/"))
    assert JobRepository(store, "experiment").get(job["id"]).status.value == "failed"


def test_one_owners_staged_chunks_are_not_anothers(keyed_client, bearer, tmp_path):
    folder = tmp_path / "run"
    record_run(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = manifest["chunks"]["sampled"][0]
    data = (folder / entry["key"].split("/", 2)[2]).read_bytes()
    digest = entry["checksum"].removeprefix("sha256:")
    staged = keyed_client.put(
        f"/v1/imports/chunks/{digest}", content=data, headers=bearer("ada") | {"Content-Type": "application/octet-stream"}
    )
    assert staged.status_code == 201
    ask = {"checksums": [entry["checksum"]]}
    assert keyed_client.post("/v1/imports/chunks/missing", json=ask, headers=bearer("ada")).json()["missing"] == []
    assert keyed_client.post("/v1/imports/chunks/missing", json=ask, headers=bearer("bob")).json()["missing"] == [entry["checksum"]]
    only_that_chunk = manifest | {"chunks": {"sampled": [entry]}, "iterations_done": 100}
    body = {"classes": ["a", "b", "c"], "trials": R, "manifest": only_that_chunk}
    assert keyed_client.post("/v1/imports/runs", json=body, headers=bearer("bob")).status_code == 409


def test_lesde_import_uploads_a_run_folder(client, store, tmp_path, capsys, monkeypatch, sent):
    from lesde import cli

    class Unclosed(LesdeClient):
        def close(self) -> None:  # the TestClient is the fixture's to close
            pass

    def make(url: str) -> LesdeClient:
        made = Unclosed(url)
        made.http = client
        return made

    monkeypatch.setattr(cli, "LesdeClient", make)
    folder = tmp_path / "run"
    record_run(folder)
    assert cli.main(["import", str(folder), "--name", "from-cli"]) == 0
    out = capsys.readouterr().out
    assert "sent 5/5 chunks" in out
    job_id = out.split("as experiment ")[1].split()[0]
    run_import_job(store, job_id)
    assert client.get(f"/v1/experiments/{job_id}").json()["name"] == "from-cli"
    assert cli.main(["import", str(folder), "--classes", "x,y,z"]) == 2

"""A tiny experiment through the real API, real Celery workers over Redis, and a real S3 server.

Needs the services that ``make test`` starts (``scripts/test_stack.py``): a private
redis-server and a SeaweedFS S3 server. Nothing here is mocked.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from lesde.client import LesdeApiError, LesdeClient
from lesde_contract import object_keys
from lesde_contract.chunks import checksum, decode_chunk

from .helpers import watch

ITERATIONS, TRIALS, CHUNK, CLASSES = 60, 3, 25, 3
SPEC = {
    "name": "integration",
    "dataset": {"name": "geomnist", "train_per_class": 8, "val_per_class": 4, "seed": 1},
    "model": {"name": "lenet", "dtype": "float32"},
    "training": {
        "iterations": ITERATIONS,
        "trials": TRIALS,
        "learning_rate": 0.01,
        "eval_every": 20,
        "probe_every": 20,
        "probe_per_class": 2,
        "seed": 3,
    },
}


@pytest.fixture(scope="module")
def services(start_services):
    return start_services(chunk=CHUNK)


def test_experiment_end_to_end(services):
    stack, store = services
    with LesdeClient(stack.url) as client:
        submitted = client.submit_experiment(SPEC)
        assert submitted["status"] == "queued"
        record, statuses, progress = watch(client, submitted["id"])
        job_id = submitted["id"]

        assert record["status"] == "succeeded", record
        assert record["analysis"] == "succeeded", record
        assert statuses[-1] == "succeeded" and set(statuses) <= {"queued", "running", "succeeded"}
        assert progress == sorted(progress) and record["progress"]["done"] == ITERATIONS
        assert record["started_at"] and record["finished_at"] and record["finished_at"] >= record["started_at"]

        manifest = store.get_json(object_keys.manifest_key(job_id))
        assert manifest["complete"] and manifest["iterations_done"] == ITERATIONS

        # Every iteration of every trial is present exactly once, in order, with the right shapes.
        seen = []
        for entry in manifest["chunks"]["sampled"]:
            data = store.get_bytes(entry["key"])
            assert checksum(data) == entry["checksum"]
            chunk = decode_chunk(data)
            n = len(chunk["iteration"])
            assert chunk["logits"].shape == (n, TRIALS, CLASSES) and chunk["logits"].dtype == np.float32
            assert chunk["index"].shape == chunk["label"].shape == chunk["loss"].shape == (n, TRIALS)
            assert chunk["label"].dtype == np.int64 and chunk["index"].dtype == np.int64
            assert np.array_equal(chunk["class_count"].sum(axis=1), np.full(n, TRIALS))
            assert np.isfinite(chunk["logits"]).all() and np.isfinite(chunk["loss"]).all()
            seen.extend(chunk["iteration"].tolist())
        assert seen == list(range(ITERATIONS))
        assert [object_keys.parse_chunk_range(e["key"]) for e in manifest["chunks"]["sampled"]] == [(0, 24), (25, 49), (50, 59)]

        evals = [decode_chunk(store.get_bytes(e["key"])) for e in manifest["chunks"]["eval"]]
        assert np.concatenate([e["iteration"] for e in evals]).tolist() == [0, 20, 40, 60]
        assert all(e["val_acc"].shape[1] == TRIALS for e in evals)
        probes = [decode_chunk(store.get_bytes(e["key"])) for e in manifest["chunks"]["probe"]]
        assert np.concatenate([p["iteration"] for p in probes]).tolist() == [0, 20, 40, 60]
        assert probes[0]["logits"].shape[1:] == (TRIALS, 2 * CLASSES, CLASSES)

        summary = client.analysis(job_id)
        assert summary["iterations"] == ITERATIONS and summary["trials"] == TRIALS
        assert 0.0 <= summary["final"]["validation_accuracy"]["mean"] <= 1.0
        assert np.asarray(summary["class_means"]["probe"]["end"]).shape == (CLASSES, CLASSES)
        figure = client.figure(job_id, "class-means")
        assert figure.startswith(b"\x89PNG")

        names = {artifact["name"] for artifact in client.artifacts(job_id)}
        assert {"spec.json", "status.json", "manifest.json", "analysis/summary.json", "figures/class-means.png"} <= names

        assert client.list(status="succeeded")["count"] >= 1
        client.delete(job_id)
        assert list(store.list(object_keys.job_prefix("experiment", job_id))) == []


def test_cancel_a_running_experiment(services):
    stack, _store = services
    long = {**SPEC, "training": {**SPEC["training"], "iterations": 100_000}}
    with LesdeClient(stack.url) as client:
        job_id = client.submit_experiment(long)["id"]
        deadline = time.monotonic() + 120
        while client.get(job_id)["progress"]["done"] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.cancel(job_id)["status"] in ("running", "cancelled")
        record, _statuses, _progress = watch(client, job_id, timeout=120)
        assert record["status"] == "cancelled"
        assert record["progress"]["done"] < 100_000
        with pytest.raises(LesdeApiError) as conflict:
            client.cancel(job_id)
        assert conflict.value.status == 409

"""From your own training loop to the service: a tiny torch model trained here for 2 trials,
recorded with the Recorder, analysed in this process, then uploaded to the embedded stack
(real gateway, analyzer worker, Redis and S3), imported and analysed there; the summaries
agree to 1e-12.

Needs the services that ``make test`` starts (``scripts/test_stack.py``): Redis and S3.
"""

from __future__ import annotations

import time

import lesde
import numpy as np
import pytest
import torch
from lesde.client import LesdeClient

from tests.fixtures.analysis_checks import numbers_equal

from .helpers import watch

K, TRIALS, STEPS = 3, 2, 400


@pytest.fixture(scope="module")
def services(start_services):
    return start_services(chunk=50)


def train_and_record(folder) -> None:
    """Batch-size-1 SGD of a small MLP on three Gaussian blobs, each trial its own initialisation."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((K, 8)) * 1.5
    y_all = rng.integers(0, K, 600)
    x_all = torch.tensor(centres[y_all] + rng.standard_normal((600, 8)), dtype=torch.float32)
    y_all = torch.tensor(y_all)
    probe_x, probe_y = x_all[:30], y_all[:30]
    rec = lesde.Recorder(classes=["red", "green", "blue"], trials=TRIALS, store=folder, chunk_iterations=128, name="blobs")
    for trial in range(TRIALS):
        torch.manual_seed(trial)
        body = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU())
        head = torch.nn.Linear(16, K)
        optimizer = torch.nn.ModuleList([body, head])
        sgd = torch.optim.SGD(optimizer.parameters(), lr=0.05)
        order = torch.randperm(600, generator=torch.Generator().manual_seed(100 + trial))
        for step in range(STEPS):
            i = order[step % 600]
            logits = head(body(x_all[i : i + 1]))
            loss = torch.nn.functional.cross_entropy(logits, y_all[i : i + 1])
            sgd.zero_grad()
            loss.backward()
            sgd.step()
            rec.log(step, logits, y_all[i : i + 1], trial=trial, loss=loss.item())
            if step % 40 == 0 or step == STEPS - 1:
                with torch.no_grad():
                    features = body(probe_x)
                    rec.probe(step + 1, head(features), probe_y, trial=trial, features=features)
                    rec.evaluate(step + 1, trial, val_acc=float((head(features).argmax(1) == probe_y).float().mean()))
    rec.close()


def test_a_recorded_run_analysed_here_equals_its_upload_analysed_by_the_service(services, tmp_path):
    stack, _ = services
    folder = tmp_path / "blobs"
    train_and_record(folder)
    local = lesde.analyze(folder)
    with LesdeClient(stack.url) as client:
        job = client.upload_run(folder)
        record, _, _ = watch(client, job["id"], timeout=240)
        assert record["status"] == "succeeded", record.get("error")
        deadline = time.monotonic() + 240
        while client.get(job["id"])["analysis"] not in ("succeeded", "failed") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert client.get(job["id"])["analysis"] == "succeeded"
        served = client.analysis(job["id"], series=False)
        fetched = client.result(job["id"])
    assert numbers_equal(local.summary, served) == []
    assert local.summary["streams"]["features"] is not None and local.summary["trials"] == TRIALS
    for name, values in local.series.items():
        np.testing.assert_allclose(fetched.series[name], values, rtol=1e-12, atol=0, err_msg=name)

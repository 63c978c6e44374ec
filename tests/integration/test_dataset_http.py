"""Your own data and network through the real stack: an uploaded .npz validated by the
analyzer worker, a custom network with mini-batches on an imbalanced subset trained by the
trainer worker, its analysis stating the sampling model; a corrupt file fails its job.

Needs the services that ``make test`` starts (``scripts/test_stack.py``): Redis and S3.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from lesde.client import LesdeClient

from .helpers import watch

LAYERS = [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "flatten"},
    {"type": "linear", "out_features": 8},
    {"type": "relu"},
    {"type": "linear", "out_features": 3},
]


def shapes_npz(*, corrupt: bool = False) -> bytes:
    rng = np.random.default_rng(1)

    def images(n):
        x = rng.integers(0, 40, size=(3 * n, 16, 16)).astype(np.uint8)
        x[:n, 4:12, 4:12] = 250
        x[n : 2 * n, :, 7:9] = 250
        return x

    y_val = np.repeat(np.arange(3), 4)
    if corrupt:
        y_val[-1] = 5
    buffer = io.BytesIO()
    np.savez(
        buffer,
        x_train=images(20),
        y_train=np.repeat(np.arange(3), 20),
        x_val=images(4),
        y_val=y_val,
        class_names=np.array(["square", "bar", "noise"]),
    )
    return buffer.getvalue()


@pytest.fixture(scope="module")
def services(start_services):
    return start_services(chunk=50)


def _validated(client: LesdeClient, path) -> dict:
    record = client.upload_dataset(path, name=path.stem)
    deadline = time.monotonic() + 120
    while record["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        record = client.get(record["id"], kind="dataset")
    return record


def test_an_uploaded_data_set_trains_a_custom_network_with_mini_batches_on_the_real_stack(services, tmp_path):
    stack, _ = services
    good, bad = tmp_path / "shapes.npz", tmp_path / "broken.npz"
    good.write_bytes(shapes_npz())
    bad.write_bytes(shapes_npz(corrupt=True))
    with LesdeClient(stack.url) as client:
        broken = _validated(client, bad)
        assert broken["status"] == "failed" and broken["error"].startswith("y_val: label 5 is outside [0, 2]"), broken
        dataset = _validated(client, good)
        assert dataset["status"] == "succeeded", dataset
        assert dataset["info"]["shape"] == [1, 16, 16] and dataset["info"]["train_counts"] == [20, 20, 20]
        spec = {
            "dataset": {"name": "uploaded", "id": dataset["id"], "train_counts": [20, 10, 5], "val_per_class": 4},
            "model": {"name": "custom", "layers": LAYERS},
            "training": {
                "iterations": 150,
                "trials": 10,
                "batch_size": 4,
                "learning_rate": 0.05,
                "eval_every": 50,
                "probe_every": 25,
                "probe_per_class": 4,
            },
        }
        submitted = client.submit_experiment(spec)
        record, _statuses, _progress = watch(client, submitted["id"])
        assert record["status"] == "succeeded" and record["analysis"] == "succeeded", record
        summary = client.analysis(submitted["id"])
        assert summary["sampling"]["model"] == "imbalanced"
        assert summary["sampling"]["class_weights"] == pytest.approx([20 / 35, 10 / 35, 5 / 35])
        assert "mini-batches of 4" in summary["notes"]["sampling"]

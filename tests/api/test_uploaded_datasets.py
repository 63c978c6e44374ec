"""/v1/datasets: upload an .npz, its validation job, training on it by id, ownership and deletes."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from lesde_analyzer.datasets.validation_job import run_dataset_validation
from lesde_contract import object_keys

CUSTOM = [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "flatten"},
    {"type": "linear", "out_features": 3},
]


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def shapes(n_per_class=12, size=16, seed=0) -> dict:
    """3 classes of size x size grey images: a bright square, a bright bar, noise (uint8)."""
    rng = np.random.default_rng(seed)

    def images(n):
        x = rng.integers(0, 40, size=(3 * n, size, size)).astype(np.uint8)
        x[:n, 4:12, 4:12] = 250
        x[n : 2 * n, :, 7:9] = 250
        return x

    labels = lambda n: np.repeat(np.arange(3), n)  # noqa: E731
    return dict(
        x_train=images(n_per_class),
        y_train=labels(n_per_class),
        x_val=images(4),
        y_val=labels(4),
        class_names=np.array(["square", "bar", "noise"]),
    )


def upload(client, body: bytes, name="mine"):
    return client.post("/v1/datasets", files={"file": ("mine.npz", body)}, data={"name": name})


def validated(client, store, body: bytes) -> dict:
    answer = upload(client, body)
    assert answer.status_code == 202, answer.text
    run_dataset_validation(store, answer.json()["id"])
    return client.get(answer.headers["location"]).json()


def test_an_upload_is_validated_and_described(client, store, sent):
    answer = upload(client, npz_bytes(**shapes()))
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    dataset_id = answer.json()["id"]
    assert answer.headers["location"] == f"/v1/datasets/{dataset_id}"
    assert sent == [("lesde.validate_dataset", dataset_id)]
    run_dataset_validation(store, dataset_id)
    record = client.get(f"/v1/datasets/{dataset_id}").json()
    assert record["status"] == "succeeded"
    info = record["info"]
    assert info["shape"] == [1, 16, 16] and info["class_names"] == ["square", "bar", "noise"]
    assert info["train_counts"] == [12, 12, 12] and info["val_counts"] == [4, 4, 4] and len(info["sha256"]) == 64
    assert [item["id"] for item in client.get("/v1/datasets").json()["data"]] == [dataset_id]


@pytest.mark.parametrize(
    ("change", "array", "words"),
    [
        (lambda a: {**a, "x_train": np.full((36, 1, 16, 16), np.nan, dtype=np.float32)}, "x_train", "not finite"),
        (lambda a: {**a, "y_val": np.array([0, 1, 2, 7] * 3)}, "y_val", "label 7 is outside [0, 2]"),
        (lambda a: {**a, "y_train": a["y_train"][:-1]}, "y_train", "35 labels for 36 images"),
    ],
    ids=["nan-pixels", "label-out-of-range", "mismatched-lengths"],
)
def test_a_corrupt_file_fails_its_job_naming_the_array_and_touches_nothing_else(client, store, sent, change, array, words):
    good = validated(client, store, npz_bytes(**shapes()))
    record = validated(client, store, npz_bytes(**change(shapes())))
    assert record["status"] == "failed" and record["error"].startswith(f"{array}: ") and words in record["error"], record
    assert record["info"] is None and not store.exists(object_keys.dataset_file_key(record["id"]))
    assert client.get(f"/v1/datasets/{good['id']}").json()["status"] == "succeeded"


def test_a_huge_declared_shape_is_refused_from_its_header_alone(client, store, sent):
    arrays = shapes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, value in arrays.items():
            member = io.BytesIO()
            if name == "x_train":  # a header declaring 2 GB and no data behind it
                np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False, "shape": (500_000, 1, 32, 32)})
            else:
                np.save(member, value)
            archive.writestr(f"{name}.npy", member.getvalue())
    record = validated(client, store, buffer.getvalue())
    assert record["status"] == "failed" and record["error"].startswith("x_train: declares 2,048,000,000 bytes")


def test_training_on_it_by_id_checks_classes_counts_and_network(client, store, sent):
    dataset_id = validated(client, store, npz_bytes(**shapes()))["id"]
    spec = {
        "dataset": {"name": "uploaded", "id": dataset_id, "train_per_class": 10, "val_per_class": 4},
        "model": {"name": "custom", "layers": CUSTOM},
        "training": {"iterations": 20, "trials": 2, "eval_every": 10, "probe_every": 10, "probe_per_class": 2},
    }
    answer = client.post("/v1/experiments", json=spec)
    assert answer.status_code == 202, answer.text
    assert answer.json()["spec"]["dataset"]["classes"] == ["square", "bar", "noise"]  # all of the file's by default
    problems = [
        ({**spec, "dataset": {**spec["dataset"], "train_per_class": 13}}, "dataset.train_per_class", "allowed range: 1 to 12"),
        ({**spec, "dataset": {**spec["dataset"], "classes": ["square", "circle"]}}, "dataset.classes", "no class(es) ['circle']"),
        ({**spec, "model": {"name": "lenet"}}, "model.name", "lenet takes 32x32 images; this data set's are 16x16"),
        (
            {
                **spec,
                "model": {
                    "name": "custom",
                    "layers": [*CUSTOM[:2], {"type": "maxpool2d", "kernel_size": 8}, {"type": "maxpool2d", "kernel_size": 8}, *CUSTOM[3:]],
                },
            },
            "model.layers.3",
            "larger than its 1x1 input",
        ),
        ({**spec, "dataset": {**spec["dataset"], "id": "0123456789abcdef"}}, "dataset.id", "no data set 0123456789abcdef of yours"),
    ]
    for body, field, words in problems:
        refused = client.post("/v1/experiments", json=body)
        assert refused.status_code == 422 and refused.json()["field"] == field and words in refused.json()["message"], refused.text


def test_a_data_set_in_use_cannot_be_deleted_until_its_experiment_ends(client, store, sent):
    dataset_id = validated(client, store, npz_bytes(**shapes()))["id"]
    spec = {
        "dataset": {"name": "uploaded", "id": dataset_id, "train_per_class": 10, "val_per_class": 4},
        "model": {"name": "custom", "layers": CUSTOM},
        "training": {"iterations": 20, "trials": 2, "probe_per_class": 2},
    }
    experiment = client.post("/v1/experiments", json=spec).json()["id"]
    refused = client.delete(f"/v1/datasets/{dataset_id}")
    assert refused.status_code == 409 and experiment in refused.json()["message"]
    assert client.post(f"/v1/experiments/{experiment}/cancel").status_code == 200
    assert client.delete(f"/v1/datasets/{dataset_id}").status_code == 204
    assert client.get(f"/v1/datasets/{dataset_id}").status_code == 404


def test_another_owners_data_set_is_404_and_cannot_be_trained_on(keyed_client, bearer, store, sent):
    answer = keyed_client.post("/v1/datasets", files={"file": ("mine.npz", npz_bytes(**shapes()))}, headers=bearer("ada"))
    dataset_id = answer.json()["id"]
    run_dataset_validation(store, dataset_id)
    assert keyed_client.get(f"/v1/datasets/{dataset_id}", headers=bearer("ada")).status_code == 200
    assert keyed_client.get(f"/v1/datasets/{dataset_id}", headers=bearer("bob")).status_code == 404
    assert keyed_client.delete(f"/v1/datasets/{dataset_id}", headers=bearer("bob")).status_code == 404
    spec = {
        "dataset": {"name": "uploaded", "id": dataset_id, "train_per_class": 10, "val_per_class": 4},
        "model": {"name": "custom", "layers": CUSTOM},
        "training": {"iterations": 20, "trials": 2, "probe_per_class": 2},
    }
    refused = keyed_client.post("/v1/experiments", json=spec, headers=bearer("bob"))
    assert refused.status_code == 422 and refused.json()["field"] == "dataset.id"


def test_an_uploaded_data_set_trains_a_custom_network_and_is_analysed(client, store, sent, tmp_path):
    from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
    from lesde_runtime.settings import TrainerSettings
    from lesde_trainer.training_job import run_training_job

    dataset_id = validated(client, store, npz_bytes(**shapes(n_per_class=20)))["id"]
    # batch size 4 and an imbalanced training set (20, 12, 6 of the three classes)
    spec = {
        "dataset": {"name": "uploaded", "id": dataset_id, "train_counts": [20, 12, 6], "val_per_class": 4, "label_noise": 0.1},
        "model": {
            "name": "custom",
            "layers": [*CUSTOM[:4], {"type": "linear", "out_features": 8}, {"type": "relu"}, {"type": "linear", "out_features": 3}],
        },
        "training": {
            "iterations": 300,
            "trials": 10,
            "batch_size": 4,
            "learning_rate": 0.05,
            "eval_every": 50,
            "probe_every": 25,
            "probe_per_class": 4,
            "features_every": 100,
        },
    }
    experiment = client.post("/v1/experiments", json=spec).json()["id"]
    run_training_job(store, experiment, settings=TrainerSettings(data_dir=tmp_path, chunk_iterations=100))
    record = client.get(f"/v1/experiments/{experiment}").json()
    assert record["status"] == "succeeded", record.get("error")
    run_experiment_analysis(store, experiment)
    summary = client.get(f"/v1/experiments/{experiment}/analysis").json()
    assert summary["classes"] == ["square", "bar", "noise"]
    assert summary["final"]["validation_accuracy"]["mean"] > 0.6  # the three shapes are easy: it learned
    # the analysis says which sampling model it used, and weights the drift by it
    assert summary["sampling"]["model"] == "imbalanced" and summary["notes"]["sampling"].startswith("imbalanced")
    assert "mini-batches of 4" in summary["notes"]["sampling"]
    shares = np.array([20, 12, 6]) / 38  # pi_k = 0.9 n_k / N + 0.1 (1 - n_k / N) / 2 (label noise 0.1)
    assert summary["sampling"]["class_weights"] == pytest.approx(0.9 * shares + 0.1 * (1 - shares) / 2)


def test_a_file_that_is_not_an_npz_is_422_at_once(client, store, sent):
    refused = upload(client, b"x_train,y_train\n1,2\n")
    assert refused.status_code == 422 and refused.json()["field"] == "file" and "not an .npz" in refused.json()["message"]
    assert sent == [] and client.get("/v1/datasets").json()["count"] == 0

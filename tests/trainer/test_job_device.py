"""Each training start records the device it ran on (in-process, real local store)."""

from __future__ import annotations

import pytest
import torch
from lesde_contract.specs import ExperimentSpec
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.settings import TrainerSettings
from lesde_trainer.device import describe_device
from lesde_trainer.training_job import run_training_job

TINY = {
    "dataset": {"train_per_class": 4, "val_per_class": 2, "seed": 1},
    "training": {"iterations": 3, "trials": 1, "eval_every": 3, "probe_every": 3, "probe_per_class": 1, "seed": 2},
}


def test_a_job_records_the_device_it_trained_on(local_store, monkeypatch):
    # The analysis task is recorded, not sent: this unit test has no broker.
    monkeypatch.setattr(celery_app, "send", lambda *args: None)
    spec = ExperimentSpec.model_validate(TINY)
    repo = JobRepository(local_store, "experiment")
    job_id = repo.create(spec=spec.model_dump(mode="json"), owner="t", name=None, total=3, unit="iterations").id
    assert repo.get(job_id).device is None

    run_training_job(local_store, job_id, settings=TrainerSettings(device="cpu", chunk_iterations=20))
    assert repo.get(job_id).device == "cpu"


def test_cpu_is_named_plainly():
    assert describe_device(torch.device("cpu")) == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_gpu_is_named_with_its_model_and_uuid():
    name = describe_device(torch.device("cuda"))
    properties = torch.cuda.get_device_properties(torch.cuda.current_device())
    assert name.startswith(f"cuda:{torch.cuda.current_device()} ({properties.name}, GPU-")
    assert str(properties.uuid) in name

"""A small experiment trained in-process by the real trainer (once per session)."""

from __future__ import annotations

import pytest
from lesde_contract.specs import ExperimentSpec
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.settings import TrainerSettings
from lesde_runtime.storage.local import LocalStore

SPEC = {
    "dataset": {"name": "geomnist", "train_per_class": 8, "val_per_class": 4, "seed": 1},
    "model": {"name": "lenet", "dtype": "float32"},
    "training": {
        "iterations": 300,
        "trials": 4,
        "learning_rate": 0.01,
        "eval_every": 50,
        "probe_every": 25,
        "probe_per_class": 3,
        "features_every": 100,
        "seed": 3,
    },
}


def train_small_experiment(store, spec: dict = SPEC, *, chunk: int = 100) -> str:
    """Create and train an experiment with the real trainer; return its id (analysis task not sent)."""
    from lesde_runtime import celery_app
    from lesde_trainer.training_job import run_training_job

    repo = JobRepository(store, "experiment")
    parsed = ExperimentSpec.model_validate(spec)
    record = repo.create(spec=parsed.model_dump(mode="json"), owner="test", name=None, total=parsed.training.iterations, unit="iterations")
    original = celery_app.send
    celery_app.send = lambda *_args: None
    try:
        run_training_job(store, record.id, settings=TrainerSettings(chunk_iterations=chunk))
    finally:
        celery_app.send = original
    return record.id


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> tuple[LocalStore, str]:
    """``(store, job_id)`` of a trained (not yet analysed) experiment."""
    store = LocalStore(tmp_path_factory.mktemp("trained") / "store")
    return store, train_small_experiment(store)

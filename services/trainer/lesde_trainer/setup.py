"""Turn an :class:`ExperimentSpec` into a dataset, fixed probe/eval subsets and an engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from lesde_contract.specs import ExperimentSpec
from lesde_runtime.settings import TrainerSettings

if TYPE_CHECKING:  # torch and the data sets are imported by build_engine, when a job needs them
    from lesde_contract.object_store import ObjectStore

    from lesde_trainer.datasets import Dataset
    from lesde_trainer.engine import EnsembleTrainer


@dataclass
class TrainingSetup:
    data: Dataset
    engine: EnsembleTrainer
    probe_index: np.ndarray  # (P,) indices into the training set, m per class by true label
    probe_label: np.ndarray  # (P,) true labels of the probe samples
    probe_x: np.ndarray  # (P, C, 32, 32)
    train_eval_x: np.ndarray  # (E, C, 32, 32) fixed subset for training accuracy
    train_eval_y: np.ndarray  # (E,) labels trained on


def probe_indices(true_labels: np.ndarray, *, per_class: int, num_classes: int) -> np.ndarray:
    """First ``per_class`` training samples of each class (by true label), class by class: (K * m,)."""
    chosen = [np.flatnonzero(true_labels == k)[:per_class] for k in range(num_classes)]
    return np.concatenate(chosen).astype(np.int64)


def train_eval_indices(n_train: int, *, limit: int) -> np.ndarray:
    """Evenly spaced fixed subset of at most ``limit`` training samples: (E,)."""
    if n_train <= limit:
        return np.arange(n_train, dtype=np.int64)
    return np.linspace(0, n_train - 1, limit).round().astype(np.int64)


def build_engine(spec: ExperimentSpec, settings: TrainerSettings, store: ObjectStore | None = None) -> TrainingSetup:
    """The data, probe and evaluation subsets and the engine of ``spec``; ``store`` (an
    ObjectStore) is read for an uploaded data set."""
    import torch

    from lesde_trainer.datasets import load_dataset
    from lesde_trainer.device import configure_runtime, resolve_device
    from lesde_trainer.engine import EnsembleTrainer

    if spec.dataset.name == "uploaded":
        from lesde_trainer.datasets.uploaded import load_uploaded

        if store is None or spec.dataset.id is None:  # the spec's validator requires the id with "uploaded"
            raise ValueError("an uploaded data set is read from the object store: build_engine needs the store and the data set's id")
        data = load_uploaded(
            store,
            spec.dataset.id,
            classes=spec.dataset.classes,
            train_per_class=spec.dataset.train_per_class,
            val_per_class=spec.dataset.val_per_class,
            label_noise=spec.dataset.label_noise,
            seed=spec.dataset.seed,
            train_counts=spec.dataset.train_counts,
        )
    else:
        data = load_dataset(
            spec.dataset.name,
            classes=spec.dataset.classes,
            train_per_class=spec.dataset.train_per_class,
            val_per_class=spec.dataset.val_per_class,
            label_noise=spec.dataset.label_noise,
            seed=spec.dataset.seed,
            root=settings.data_dir,
            train_counts=spec.dataset.train_counts,
        )
    device = resolve_device(None if settings.device == "auto" else settings.device)
    configure_runtime(device, cpu_threads=settings.cpu_threads or None)
    num_classes = len(data.class_names)
    probe = probe_indices(data.y_train_true, per_class=spec.training.probe_per_class, num_classes=num_classes)
    subset = train_eval_indices(len(data.y_train), limit=spec.training.train_eval_samples)
    engine = EnsembleTrainer(
        model=spec.model.name,
        num_classes=num_classes,
        in_channels=int(data.x_train.shape[1]),
        dtype=torch.float64 if spec.model.dtype == "float64" else torch.float32,
        trials=spec.training.trials,
        lr=spec.training.learning_rate,
        seed=spec.training.seed,
        batching=spec.training.batching,
        batch_size=spec.training.batch_size,
        head=spec.model.head,
        layers=None if spec.model.layers is None else [layer.model_dump() for layer in spec.model.layers],
        device=device,
        x_train=data.x_train,
        y_train=data.y_train,
        y_train_true=data.y_train_true,
    )
    return TrainingSetup(
        data=data,
        engine=engine,
        probe_index=probe,
        probe_label=data.y_train_true[probe],
        probe_x=data.x_train[probe],
        train_eval_x=data.x_train[subset],
        train_eval_y=data.y_train[subset],
    )

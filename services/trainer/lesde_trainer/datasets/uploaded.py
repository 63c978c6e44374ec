"""A data set uploaded through ``POST /v1/datasets``, read from the object store.

The gateway accepted the experiment only after the data set's validation succeeded and its
classes and counts fit the spec (``lesde_contract.specs.uploaded``); here the file is read again
(``allow_pickle=False``), the classes picked and subsampled per class at random from the
seed, as for CIFAR-10 (training samples from ``x_train``, validation from ``x_val``), and
the training labels corrupted as for every data set.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence

import numpy as np
from lesde_contract import object_keys
from lesde_contract.dataset_files import images_as_float
from lesde_contract.object_store import ObjectStore

from .base import Dataset, class_indices, take_per_class
from .corruption import corrupt_labels


def load_uploaded(
    store: ObjectStore,
    dataset_id: str,
    *,
    classes: Sequence[str],
    train_per_class: int,
    val_per_class: int,
    label_noise: float,
    seed: int,
    train_counts: Sequence[int] | None = None,
) -> Dataset:
    """The uploaded data set's chosen classes: x (N, C, H, W) float32 in the file's scale
    (uint8 images in [0, 1]), labels by position in ``classes``."""
    with tempfile.TemporaryFile(prefix="lesde-dataset-") as copy:
        for piece in store.iter_bytes(object_keys.dataset_file_key(dataset_id)):
            copy.write(piece)
        copy.seek(0)
        with np.load(copy, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    y_train_all, y_val_all = arrays["y_train"].astype(np.int64), arrays["y_val"].astype(np.int64)
    k = int(max(y_train_all.max(), y_val_all.max())) + 1
    names = [str(n) for n in arrays["class_names"].tolist()] if "class_names" in arrays else [str(c) for c in range(k)]
    wanted = class_indices(classes, names, dataset="uploaded")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xDA7A]))
    counts = train_per_class if train_counts is None else list(train_counts)
    train_rows, y_true = take_per_class(y_train_all, wanted, counts, rng=rng, field="train_per_class", dataset="uploaded")
    val_rows, y_val = take_per_class(y_val_all, wanted, val_per_class, rng=rng, field="val_per_class", dataset="uploaded")
    y_train = corrupt_labels(y_true, num_classes=len(wanted), fraction=float(label_noise), rng=rng)
    return Dataset(
        x_train=np.ascontiguousarray(images_as_float(arrays["x_train"][train_rows])),
        y_train=y_train,
        y_train_true=y_true,
        corrupted=y_train != y_true,
        x_val=np.ascontiguousarray(images_as_float(arrays["x_val"][val_rows])),
        y_val=y_val,
        class_names=tuple(classes),
        generator_version=None,
    )

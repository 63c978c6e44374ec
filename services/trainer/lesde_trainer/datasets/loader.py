"""One entry point for every dataset: validate the request, load, split, corrupt."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import cifar10, digits, geomnist
from .base import Dataset, class_indices, take_per_class
from .corruption import corrupt_labels
from .errors import InvalidDataSpec

DATASET_NAMES = ("geomnist", "cifar10", "digits")
DATASET_CLASSES = {
    "geomnist": geomnist.CLASS_NAMES,
    "cifar10": cifar10.CLASS_NAMES,
    "digits": digits.CLASS_NAMES,
}


def load_dataset(
    name: str,
    *,
    classes: Sequence[str],
    train_per_class: int,
    val_per_class: int,
    label_noise: float = 0.0,
    seed: int = 0,
    root: str | Path | None = None,
    train_counts: Sequence[int] | None = None,
) -> Dataset:
    """Load a dataset for an experiment.

    Parameters
    ----------
    name : {"geomnist", "cifar10", "digits"}
    classes : sequence of K class names (2 <= K <= number of classes of the dataset)
        Label ``k`` is ``classes[k]``.
    train_per_class, val_per_class : int >= 1
        GEOMNIST generates ``train + val`` samples per class (angles spread over the
        whole set) and splits them at random; CIFAR-10 takes training samples from the
        training batches and validation samples from the test batch; digits splits its
        ~180 samples per class at random.
    label_noise : float in [0, 1)
        Fraction of each class's training labels moved to the other classes in equal
        shares. Validation labels stay clean.
    seed : int
        Every random choice (generation, subsets, splits, corruption) derives from it.
    root : path, required for cifar10
        Directory holding ``cifar-10-batches-py/``.
    train_counts : sequence of K ints or None
        Training samples of each class instead of ``train_per_class`` (an imbalanced set).

    Returns
    -------
    Dataset
        ``x_train`` (N_train, C, 32, 32) float32, ``y_train``/``y_train_true``/``corrupted``
        (N_train,), ``x_val`` (N_val, C, 32, 32), ``y_val`` (N_val,), ``class_names``,
        ``generator_version`` (GEOMNIST's ``GENERATOR_VERSION``, else None).
        Samples are grouped class after class.

    Raises
    ------
    InvalidDataSpec
        Unknown dataset or class names, too few samples, missing CIFAR files, noise outside [0, 1).
    """
    if name not in DATASET_NAMES:
        raise InvalidDataSpec(f"name: unknown dataset {name!r}; allowed: {list(DATASET_NAMES)}")
    for field, value in (("train_per_class", train_per_class), ("val_per_class", val_per_class)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidDataSpec(f"{field}: must be an integer >= 1, got {value!r}")
    if not (isinstance(label_noise, (int, float)) and 0.0 <= float(label_noise) < 1.0):
        raise InvalidDataSpec(f"label_noise: must be in [0, 1), got {label_noise!r}")
    if isinstance(classes, str):
        raise InvalidDataSpec("classes: must be a list of class names, not a single string")
    wanted = class_indices(classes, DATASET_CLASSES[name], dataset=name)
    counts = [int(train_per_class)] * len(wanted) if train_counts is None else [int(c) for c in train_counts]
    if len(counts) != len(wanted) or min(counts) < 1:
        raise InvalidDataSpec(f"train_counts: needs {len(wanted)} counts >= 1, got {train_counts!r}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xDA7A]))

    if name == "geomnist":
        x_train, y_true, x_val, y_val = _geomnist(classes, counts, val_per_class, seed=int(seed), rng=rng)
    elif name == "digits":
        images, labels = digits.load_digits_32()
        rows, new = take_per_class(
            labels,
            wanted,
            [c + val_per_class for c in counts],
            rng=rng,
            field="train_per_class + val_per_class",
            dataset=name,
        )
        x_train, y_true, x_val, y_val = _split_rows(images, rows, new, len(wanted), counts, rng=rng)
    else:
        folder = cifar10.cifar10_folder(root)
        xs, ys, xt, yt, label_names = cifar10.read_cifar10(folder)
        wanted = class_indices(classes, label_names, dataset=name)
        train_rows, y_true = take_per_class(ys, wanted, counts, rng=rng, field="train_per_class", dataset=name)
        val_rows, y_val = take_per_class(yt, wanted, val_per_class, rng=rng, field="val_per_class", dataset=name)
        x_train, x_val = cifar10.normalise(xs[train_rows]), cifar10.normalise(xt[val_rows])

    y_train = corrupt_labels(y_true, num_classes=len(wanted), fraction=float(label_noise), rng=rng)
    return Dataset(
        x_train=np.ascontiguousarray(x_train, dtype=np.float32),
        y_train=y_train,
        y_train_true=y_true,
        corrupted=y_train != y_true,
        x_val=np.ascontiguousarray(x_val, dtype=np.float32),
        y_val=y_val,
        class_names=tuple(classes),
        generator_version=geomnist.GENERATOR_VERSION if name == "geomnist" else None,
    )


def _geomnist(
    classes: Sequence[str], counts: list[int], val_per_class: int, *, seed: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Generate ``counts[k] + val_per_class`` GEOMNIST images of each class and split them (:func:`_split_rows`)."""
    images = [geomnist.generate_geomnist_class(c, n + val_per_class, seed=seed) for c, n in zip(classes, counts)]
    labels = np.repeat(np.arange(len(classes)), [n + val_per_class for n in counts])
    rows = np.arange(labels.size)
    return _split_rows(np.concatenate(images), rows, labels, len(classes), counts, rng=rng)


def _split_rows(
    images: np.ndarray,
    rows: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    counts: list[int],
    *,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split each class's rows at random into train (the first ``counts[k]`` of class k) and val."""
    train, val = [], []
    for k in range(num_classes):
        mine = rng.permutation(rows[labels == k])
        train.append(np.sort(mine[: counts[k]]))
        val.append(np.sort(mine[counts[k] :]))
    train_rows, val_rows = np.concatenate(train), np.concatenate(val)
    lookup = dict(zip(rows.tolist(), labels.tolist()))
    y_train = np.array([lookup[r] for r in train_rows.tolist()], dtype=np.int64)
    y_val = np.array([lookup[r] for r in val_rows.tolist()], dtype=np.int64)
    return images[train_rows], y_train, images[val_rows], y_val

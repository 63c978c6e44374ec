"""The dataset record every loader returns, and shared validation helpers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InvalidDataSpec


@dataclass(frozen=True)
class Dataset:
    """Arrays of one experiment's data, ready for the engine (host memory).

    Attributes
    ----------
    x_train : ndarray of shape (N_train, C, 32, 32), float32
    y_train : ndarray of shape (N_train,), int64
        Labels the model is trained on (after corruption).
    y_train_true : ndarray of shape (N_train,), int64
        Clean labels.
    corrupted : ndarray of shape (N_train,), bool
        ``y_train != y_train_true``.
    x_val : ndarray of shape (N_val, C, 32, 32), float32
    y_val : ndarray of shape (N_val,), int64
        Clean validation labels.
    class_names : tuple of str, length K
        Label ``k`` is ``class_names[k]``; the order is the caller's.
    generator_version : str or None
        Version of the code that generated the images (GEOMNIST), recorded with the
        experiment; None for datasets read from files.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    y_train_true: np.ndarray
    corrupted: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: tuple[str, ...]
    generator_version: str | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def in_channels(self) -> int:
        return int(self.x_train.shape[1])


def class_indices(classes: Sequence[str], available: Sequence[str], *, dataset: str) -> list[int]:
    """Map requested class names to indices in ``available``; labels follow ``classes``' order."""
    classes = list(classes)
    if not 2 <= len(classes) <= len(available):
        raise InvalidDataSpec(f"classes: {dataset} needs between 2 and {len(available)} class names, got {len(classes)}")
    unknown = [c for c in classes if c not in available]
    if unknown:
        raise InvalidDataSpec(f"classes: unknown {dataset} class(es) {unknown}; allowed: {list(available)}")
    if len(set(classes)) != len(classes):
        raise InvalidDataSpec(f"classes: duplicate class names in {classes}")
    return [list(available).index(c) for c in classes]


def take_per_class(
    labels: np.ndarray,
    wanted: Sequence[int],
    count: int | Sequence[int],
    *,
    rng: np.random.Generator,
    field: str,
    dataset: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``count`` random samples of each wanted source class (one count for all, or one per class).

    Returns
    -------
    rows : ndarray of shape (sum of counts,), int64
        Rows of the source arrays, class after class.
    new_labels : ndarray of shape (sum of counts,), int64
        Position of the source class in ``wanted`` (the new label).
    """
    # one count repeated for every class, or one per class
    counts = [int(c) for c in np.atleast_1d(count)] * (len(wanted) if np.ndim(count) == 0 else 1)
    rows, new_labels = [], []
    for new_label, (source, count) in enumerate(zip(wanted, counts)):
        members = np.flatnonzero(labels == source)
        if count > members.size:
            raise InvalidDataSpec(f"{field}: {dataset} has {members.size} samples of class index {source}, {count} requested")
        rows.append(np.sort(rng.choice(members, size=count, replace=False)))
        new_labels.append(np.full(count, new_label, dtype=np.int64))
    return np.concatenate(rows).astype(np.int64), np.concatenate(new_labels)

"""CIFAR-10 from a local directory in torchvision's layout, classes chosen by name.

Expected files: ``<root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``.
They are read directly with ``pickle.load(f, encoding="latin1")``, exactly as
``torchvision.datasets.CIFAR10`` reads them (dict with ``data`` (N, 3072) uint8 in
CHW order and ``labels``; ``batches.meta`` holds ``label_names``). We do not go through
the ``CIFAR10`` class itself because it verifies the archive's md5 sums, which a
partial or re-packed copy (and every test fixture) fails; no download is ever tried.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import InvalidDataSpec

BASE_FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Per-channel mean/std of the CIFAR-10 training set (pixel values in [0, 1]).
CHANNEL_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
CHANNEL_STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)


def _unpickle(path: Path) -> dict:
    with path.open("rb") as handle:
        return pickle.load(handle, encoding="latin1")


def cifar10_folder(root: str | Path | None) -> Path:
    """Return ``<root>/cifar-10-batches-py`` or raise naming the missing path."""
    if root is None:
        raise InvalidDataSpec("root: cifar10 needs a local directory holding cifar-10-batches-py/")
    folder = Path(root) / BASE_FOLDER
    missing = [name for name in (*TRAIN_FILES, TEST_FILE, META_FILE) if not (folder / name).is_file()]
    if missing:
        raise InvalidDataSpec(
            f"root: CIFAR-10 files not found: expected {folder}/{{data_batch_1..5, test_batch, batches.meta}}, "
            f"missing {missing} (no download is attempted)"
        )
    return folder


def read_cifar10(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read all batches.

    Returns
    -------
    x_train : ndarray of shape (N_train, 3, 32, 32), uint8
    y_train : ndarray of shape (N_train,), int64
    x_test : ndarray of shape (N_test, 3, 32, 32), uint8
    y_test : ndarray of shape (N_test,), int64
    label_names : tuple of str (from batches.meta)
    """

    def read(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        entries = [_unpickle(folder / name) for name in names]
        data = np.concatenate([np.asarray(e["data"], dtype=np.uint8) for e in entries]).reshape(-1, 3, 32, 32)
        labels = np.concatenate([np.asarray(e.get("labels", e.get("fine_labels")), dtype=np.int64) for e in entries])
        return data, labels

    x_train, y_train = read(TRAIN_FILES)
    x_test, y_test = read([TEST_FILE])
    label_names = tuple(_unpickle(folder / META_FILE)["label_names"])
    return x_train, y_train, x_test, y_test, label_names


def normalise(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 3, 32, 32) -> float32 standardised per channel."""
    scaled = images.astype(np.float32) / 255.0
    return (scaled - CHANNEL_MEAN[None, :, None, None]) / CHANNEL_STD[None, :, None, None]

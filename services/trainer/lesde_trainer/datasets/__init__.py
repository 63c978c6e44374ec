"""Datasets for the training engine: GEOMNIST, CIFAR-10 (local files) and sklearn digits."""

from .base import Dataset
from .corruption import corrupt_labels
from .errors import InvalidDataSpec
from .loader import DATASET_CLASSES, DATASET_NAMES, load_dataset

__all__ = ["DATASET_CLASSES", "DATASET_NAMES", "Dataset", "InvalidDataSpec", "corrupt_labels", "load_dataset"]

"""The vectorised multi-trial training engine and its naive reference."""

from .errors import InvalidTrainingSpec
from .naive import train_naive
from .trainer import BATCHING, KERNELS, EnsembleTrainer, TrainingBlock

__all__ = ["BATCHING", "KERNELS", "EnsembleTrainer", "InvalidTrainingSpec", "TrainingBlock", "train_naive"]

import numpy as np
import pytest
import torch
from lesde_trainer.datasets import load_dataset


@pytest.fixture(autouse=True, scope="session")
def _threads():
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def geomnist_small():
    return load_dataset("geomnist", classes=["triangle", "rectangle", "ellipse"], train_per_class=20, val_per_class=8, seed=3)


@pytest.fixture
def rng():
    return np.random.default_rng(0)

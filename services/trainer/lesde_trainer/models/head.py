"""The authors' random-H runs: a fixed random orthogonal KxK matrix applied to the logits."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def random_orthogonal(num_classes: int, *, seed: int) -> np.ndarray:
    """Haar-distributed orthogonal matrix (QR of a Gaussian with the sign fix).

    One matrix per experiment seed, shared by all trials: the trial-mean of the logits
    (Xbar) only makes sense when every trial sees the same H.

    Returns
    -------
    H : ndarray of shape (K, K), float64, ``H @ H.T == I``
    """
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x4EAD]))
    q, r = np.linalg.qr(rng.standard_normal((num_classes, num_classes)))
    return q * np.sign(np.diag(r))[None, :]


class FixedOrthogonalHead(nn.Module):
    """logits -> logits @ H.T, with H a buffer (never trained, saved with the module)."""

    matrix: torch.Tensor  # (K, K), registered as a buffer

    def __init__(self, num_classes: int, *, seed: int, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.register_buffer("matrix", torch.as_tensor(random_orthogonal(num_classes, seed=seed), dtype=dtype))

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return logits @ self.matrix.T

"""The reference: one nn.Module, one minibatch, one torch.optim.SGD step at a time, trial
after trial. Slow on purpose; tests and the benchmark compare the engine with it."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812 - torch's own name for torch.nn.functional

from ..models import build_model, initial_parameters
from .sampling import draw_indices


def train_naive(
    *,
    model: str,
    num_classes: int,
    in_channels: int,
    dtype: torch.dtype = torch.float32,
    trial: int,
    lr: float,
    seed: int,
    iterations: int,
    x_train: np.ndarray,
    y_train: np.ndarray,
    batching: str = "single",
    head: str = "none",
    layers: list | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Train one trial from iteration 0 on the CPU with autograd and ``torch.optim.SGD``.

    Same initialisation and sample stream as ``EnsembleTrainer`` trial ``trial``.

    Returns
    -------
    logits : ndarray of shape (iterations, B, K), training logits before each update
    final_params : dict name -> ndarray, the parameters after training
    """
    net = build_model(model, num_classes=num_classes, in_channels=in_channels, head=head, head_seed=seed, dtype=dtype, layers=layers)
    with torch.no_grad():
        for name, value in initial_parameters(net, seed=seed, trial=trial).items():
            net.get_parameter(name).copy_(torch.as_tensor(value, dtype=dtype))
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.0)
    y_train = np.asarray(y_train, dtype=np.int64)
    pools = [np.arange(y_train.size)] if batching == "single" else [np.flatnonzero(y_train == k) for k in range(num_classes)]
    rows = draw_indices(seed=seed, trials=np.array([trial]), iterations=np.arange(iterations), pools=pools)[:, 0]
    x_all = torch.as_tensor(x_train, dtype=dtype)
    y_all = torch.as_tensor(y_train)
    logged = []
    for t in range(iterations):
        x, y = x_all[rows[t]], y_all[rows[t]]
        optimizer.zero_grad(set_to_none=True)
        logits = net(x)
        F.cross_entropy(logits, y).backward()
        optimizer.step()
        logged.append(logits.detach().numpy().copy())
    final = {name: p.detach().numpy().copy() for name, p in net.named_parameters()}
    return np.stack(logged), final

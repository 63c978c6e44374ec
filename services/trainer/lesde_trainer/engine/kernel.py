"""The interfaces the engine's pluggable parts satisfy: the training kernel and the LeNet
kernel's convolution backend.

``EnsembleTrainer`` owns the bookkeeping (sampling, logging, state format, validation) and
leaves the numerics of R trials to a ``Kernel`` (``NativeLeNetKernel``, ``LeNetKernel``,
``FunctionalKernel``); the torch LeNet kernel in turn leaves its two convolution blocks to a ``ConvBackend`` (``DirectConvs``,
``Im2colConvs``). Each side depends only on these interfaces, so a new model or backend
plugs in without the other side changing. Both are ``runtime_checkable`` so the tests can
check every implementation against them.

Shapes: R trials, B images per trial per step, N shared images, K classes, F features,
C input channels.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch


@runtime_checkable
class Kernel(Protocol):
    """Parameters of R independent copies of one network and their batched SGD step.

    Attributes
    ----------
    params : dict name -> Tensor of shape (R, *module_shape)
        The stored parameters, updated in place; the trainer writes a resumed state into
        them. They may lag behind the run (deferred updates): read through
        ``effective_params``.
    """

    params: dict[str, torch.Tensor]

    @property
    def name(self) -> str:
        """Which kernel (and backend) runs, e.g. ``lenet/direct`` or ``functional``."""

    def prepare_images(self, x: torch.Tensor) -> torch.Tensor:
        """Training images x (N, C, 32, 32) -> the layout ``train_steps`` reads them in
        (stored once per engine)."""

    def train_steps(
        self, images: torch.Tensor, rows: torch.Tensor, labels: torch.Tensor, *, lr: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance every trial by n SGD steps, each on its own minibatch (mean cross-entropy).

        Parameters
        ----------
        images : from ``prepare_images``
        rows, labels : Tensor of shape (n, R, B), int64: step t's image rows and labels of trial r
        lr : float > 0

        Returns
        -------
        logits : Tensor of shape (n, R, B, K), each step's before its update
        loss : Tensor of shape (n, R), each step's before its update
        """

    def forward(self, x: torch.Tensor, *, chunk: int, features: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Every trial on the same inputs x (N, C, 32, 32), no gradient, no update, ``chunk``
        images at a time -> logits (R, N, K) and penultimate features (R, N, F). With
        ``features=False`` a kernel may skip the features and return None in their place."""

    def effective_params(self) -> dict[str, torch.Tensor]:
        """The current parameters (name -> (R, *module_shape)), pending updates applied,
        without changing the running state."""

    def pending_state(self) -> dict[str, Any]:
        """What ``effective_params`` leaves out for a bitwise resume (tensors or ints by
        name); {} when nothing is pending."""

    def load_pending_state(self, state: dict[str, Any]) -> None:
        """Restore what ``pending_state`` returned (tensors or arrays), after ``params`` were
        set to the effective parameters."""


@runtime_checkable
class ConvBackend(Protocol):
    """The two convolution blocks (conv, 2x2 max pool, ReLU) of R LeNets, trained in place,
    built from the kernel's ``params`` (dict name -> (R, *module_shape))."""

    name: str

    def prepare_images(self, x: torch.Tensor) -> torch.Tensor:
        """Training images x (N, C, 32, 32) -> the layout ``select_images`` gathers from."""

    def select_images(self, images: torch.Tensor, rows: torch.Tensor, batch: int) -> torch.Tensor:
        """Rows (R*B,) of the prepared images, trial-major -> the input of ``forward`` (backend layout)."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Any]:
        """Step input x -> flattened features (R, B, 400) and what ``backward`` needs."""

    def backward(self, grad: torch.Tensor, saved: Any, *, lr: float) -> None:
        """SGD step of both blocks given the gradient (R, B, 400) of their flattened output."""


class SteppingKernel(Protocol):
    """A kernel that trains one step at a time from gathered inputs (the torch kernels)."""

    def select_images(self, images: torch.Tensor, rows: torch.Tensor, batch: int) -> torch.Tensor:
        """Rows (R*B,) of the prepared images, trial-major -> the step input of ``step``."""

    def step(self, x: torch.Tensor, y: torch.Tensor, *, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
        """One SGD step on step input x and labels y (R, B) -> logits (R, B, K), loss (R,)."""


def train_step_by_step(
    kernel: SteppingKernel, images: torch.Tensor, rows: torch.Tensor, labels: torch.Tensor, *, lr: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """``Kernel.train_steps`` as a loop of ``kernel.step`` calls; results stay on the device."""
    n, r, b = rows.shape
    if n < 1:
        raise ValueError("train_step_by_step: n must be >= 1")

    def step(t: int) -> tuple[torch.Tensor, torch.Tensor]:
        return kernel.step(kernel.select_images(images, rows[t].reshape(-1), b), labels[t], lr=lr)

    logits, loss = step(0)
    logits_log = logits.new_empty((n, *logits.shape))  # shaped by the first step's results
    loss_log = loss.new_empty((n, *loss.shape))
    logits_log[0].copy_(logits)
    loss_log[0].copy_(loss)
    for t in range(1, n):
        logits, loss = step(t)
        logits_log[t].copy_(logits)
        loss_log[t].copy_(loss)
    return logits_log, loss_log

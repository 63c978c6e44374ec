"""The interfaces the engine's pluggable parts satisfy: the training kernel and the LeNet
kernel's convolution backend.

``EnsembleTrainer`` owns the bookkeeping (sampling, logging, state format, validation) and
leaves the numerics of R trials to a ``Kernel`` (``LeNetKernel``, ``FunctionalKernel``); the
LeNet kernel in turn leaves its two convolution blocks to a ``ConvBackend`` (``DirectConvs``,
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
        """Training images x (N, C, 32, 32) -> the layout ``select_images`` gathers from
        (stored once per engine)."""

    def select_images(self, images: torch.Tensor, rows: torch.Tensor, batch: int) -> torch.Tensor:
        """Rows (R*B,) of the prepared images, trial-major, with B = ``batch`` -> the step input
        x of ``step`` (R trials x B images, in the kernel's own layout)."""

    def step(self, x: torch.Tensor, y: torch.Tensor, *, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
        """One SGD step of every trial on its own minibatch (mean cross-entropy).

        Parameters
        ----------
        x : the step input from ``select_images``
        y : Tensor of shape (R, B), int64
        lr : float > 0

        Returns
        -------
        logits : Tensor of shape (R, B, K), before the update
        loss : Tensor of shape (R,), before the update
        """

    def forward(self, x: torch.Tensor, *, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Every trial on the same inputs x (N, C, 32, 32), no gradient, no update, ``chunk``
        images at a time -> logits (R, N, K) and penultimate features (R, N, F)."""

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

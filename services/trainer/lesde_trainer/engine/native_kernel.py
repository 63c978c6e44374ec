"""The LeNet kernel in C (``native/lenet.c``): R trials of batch-size-1 SGD on the CPU.

Where the torch LeNet kernel (``lenet_kernel``) runs each step as a sequence of batched
library calls over all R trials, this one hands a whole block of steps to one C call that
trains one trial at a time per thread: the trial's weights stay in cache for the block,
the backward pass touches only the argmax positions of the pooling windows whose ReLU was
on, and each fully connected layer is read once for its input gradient and update
together. Every update is eager (nothing is pending between calls), so a state is just
the parameters.

It serves the paper's protocol (LeNet, batch size 1, CPU); ``EnsembleTrainer`` picks the
torch kernel for ``per_class`` batching, CUDA, or where no C compiler is available
(``native_build``).
"""

from __future__ import annotations

import ctypes
from typing import Any

import torch

from .errors import InvalidTrainingSpec
from .lenet_kernel import PARAM_NAMES
from .native_build import load_native, native_unavailable_reason

FEATURES = 84
_SUFFIX = {torch.float32: "f32", torch.float64: "f64"}


def native_kernel_problem(*, dtype: torch.dtype, device: torch.device, batch: int) -> str | None:
    """None when ``NativeLeNetKernel`` can train this configuration, else why not."""
    if device.type != "cpu":
        return f"it runs on the CPU, not {device.type}"
    if dtype not in _SUFFIX:
        return f"it supports float32 and float64, not {dtype}"
    if batch != 1:
        return "it trains batch size 1 (batching 'single') only"
    return native_unavailable_reason()


class NativeLeNetKernel:
    """Parameters of R LeNets and their training steps in C (the ``Kernel`` protocol).

    Parameters
    ----------
    params : dict name -> Tensor of shape (R, *module_shape), CPU, float32 or float64
        Made contiguous and trained in place (the C code writes through their pointers).
    head : Tensor of shape (K, K) or None
        Fixed matrix applied to the logits (``logits @ head.T``).
    """

    name = "lenet/native"

    def __init__(self, params: dict[str, torch.Tensor], *, head: torch.Tensor | None) -> None:
        weight = params["body.conv1.weight"]
        problem = native_kernel_problem(dtype=weight.dtype, device=weight.device, batch=1)
        if problem:
            raise InvalidTrainingSpec(f"kernel: 'native' cannot run here: {problem}")
        for name in PARAM_NAMES:
            params[name] = params[name].contiguous()
        self.params = params
        self.head = None if head is None else head.detach().to(weight.dtype).contiguous()
        self.trials, self.channels = weight.shape[0], weight.shape[2]
        self.num_classes = params["body.classifier.bias"].shape[1]
        library = load_native()
        suffix = _SUFFIX[weight.dtype]
        self._train = getattr(library, f"lenet_train_{suffix}")
        self._forward = getattr(library, f"lenet_forward_{suffix}")

    # ------------------------------------------------------------------ inputs
    @staticmethod
    def prepare_images(x: torch.Tensor) -> torch.Tensor:
        """Training images (N, C, 32, 32), contiguous: the C code reads each trial's image by row."""
        return x.contiguous()

    # ------------------------------------------------------------------ training
    def train_steps(
        self, images: torch.Tensor, rows: torch.Tensor, labels: torch.Tensor, *, lr: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance every trial by n steps of batch size 1.

        Parameters
        ----------
        images : from ``prepare_images``, (N, C, 32, 32)
        rows, labels : Tensor of shape (n, R, 1), int64: each step's image row and label

        Returns
        -------
        logits : Tensor of shape (n, R, 1, K), before each update
        loss : Tensor of shape (n, R), before each update
        """
        n, r = rows.shape[:2]
        if rows.shape != (n, self.trials, 1) or labels.shape != rows.shape:
            raise InvalidTrainingSpec(
                f"rows, labels: expected shape (n, {self.trials}, 1), got {tuple(rows.shape)} and {tuple(labels.shape)}"
            )
        rows = rows.to(torch.int64).contiguous()
        labels = labels.to(torch.int64).contiguous()
        if n and (int(rows.min()) < 0 or int(rows.max()) >= images.shape[0]):
            raise InvalidTrainingSpec(f"rows: every row must be in [0, {images.shape[0] - 1}]")
        if n and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes):
            raise InvalidTrainingSpec(f"labels: every label must be in [0, {self.num_classes - 1}]")
        images = images.contiguous()
        logits = images.new_empty((n, r, 1, self.num_classes))
        loss = images.new_empty((n, r))
        if n:
            status = self._train(
                r,
                self.channels,
                self.num_classes,
                n,
                self._param_pointers(),
                self._head_pointer(),
                images.data_ptr(),
                rows.data_ptr(),
                labels.data_ptr(),
                float(lr),
                logits.data_ptr(),
                loss.data_ptr(),
                torch.get_num_threads(),
            )
            _check(status)
        return logits, loss

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def forward(self, x: torch.Tensor, *, chunk: int, features: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Shared inputs x (N, C, 32, 32) -> logits (R, N, K), features (R, N, 84) or None
        (``features=False``: not computed, which spares an (R, N, 84) buffer per evaluation).

        ``chunk`` is accepted for the protocol and unused: each thread holds one image's
        activations at a time, so memory is the outputs alone.
        """
        x = x.to(self.params["body.conv1.weight"].dtype).contiguous()
        n = x.shape[0]
        logits = x.new_empty((self.trials, n, self.num_classes))
        feats = x.new_empty((self.trials, n, FEATURES)) if features else None
        if n:
            status = self._forward(
                self.trials,
                self.channels,
                self.num_classes,
                n,
                self._param_pointers(),
                self._head_pointer(),
                x.data_ptr(),
                logits.data_ptr(),
                None if feats is None else feats.data_ptr(),
                torch.get_num_threads(),
            )
            _check(status)
        return logits, feats

    # ------------------------------------------------------------------ state
    def effective_params(self) -> dict[str, torch.Tensor]:
        """The parameters (every update is applied at once: nothing is pending)."""
        return dict(self.params)

    def pending_state(self) -> dict[str, Any]:
        """Always {}: the native kernel defers nothing."""
        return {}

    def load_pending_state(self, state: dict[str, Any]) -> None:
        """Nothing to restore. A state saved mid-window by the torch kernel (``pending/...``)
        still resumes: its effective parameters, already loaded, are the whole state here."""

    def _param_pointers(self) -> ctypes.Array:
        for name in PARAM_NAMES:  # the trainer writes resumed states in place; check it kept the layout
            tensor = self.params[name]
            if not tensor.is_contiguous():
                raise RuntimeError(f"native LeNet kernel: {name} lost its contiguous layout")
        return (ctypes.c_void_p * len(PARAM_NAMES))(*(self.params[name].data_ptr() for name in PARAM_NAMES))

    def _head_pointer(self) -> int | None:
        return None if self.head is None else self.head.data_ptr()


def _check(status: int) -> None:
    """Raise for a non-zero status of the C functions (see native/lenet_body.inc)."""
    if status == -1:
        raise MemoryError("native LeNet kernel: could not allocate its per-thread scratch memory")
    if status != 0:
        raise InvalidTrainingSpec(f"native LeNet kernel: refused its arguments (status {status}; in_channels must be 1 or 3)")

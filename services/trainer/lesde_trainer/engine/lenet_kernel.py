"""Hand-derived batched forward/backward/SGD for R LeNets at once (no autograd).

Why by hand: with batch size 1 every layer is tiny, so autograd and vmap spend their time
in per-op overhead and in slow generic kernels (``F.unfold``/``F.fold`` and per-sample
loops). Here the training step is a fixed sequence of batched kernels over all R trials:

- the two convolution blocks come from a backend, chosen per dtype and device
  (``convs_direct``: grouped direct convolutions, channels-last, float32;
  ``convs_im2col``: im2col copies and batched matmuls, any dtype), each owning the layout
  its step input is gathered in (``prepare_images`` / ``select_images``);
- the fully connected layers are ``LazyLinear``s: fc1's updates are deferred and folded in
  every ``window`` steps (see ``lazy_linear``), fc2 and the classifier update eagerly;
- the loss gradient is written in closed form (softmax minus one-hot).

Inference on shared inputs (``forward``, used by every evaluation and probe) takes its own
route, the same for both backends (``convs_shared_input``): all trials see the same images,
so conv1 becomes one plain matmul and conv2 one grouped convolution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .convs_direct import DirectConvs
from .convs_im2col import Im2colConvs
from .convs_shared_input import shared_input_convs
from .kernel import ConvBackend, train_step_by_step
from .lazy_linear import LazyLinear

PARAM_NAMES = (
    "body.conv1.weight",
    "body.conv1.bias",
    "body.conv2.weight",
    "body.conv2.bias",
    "body.fc1.weight",
    "body.fc1.bias",
    "body.fc2.weight",
    "body.fc2.bias",
    "body.classifier.weight",
    "body.classifier.bias",
)
DEFERRED = ("fc1",)  # fully connected layers whose SGD updates are deferred (fc2 too: no gain)
# Steps between foldings. Nearby window sizes train equally fast; 20 divides the default
# checkpoint chunk (500 iterations), so checkpoints then carry no pending rows.
WINDOW = 20
#: each backend built from the kernel's ``params``
CONVS: dict[str, Callable[[dict[str, torch.Tensor]], ConvBackend]] = {"direct": DirectConvs, "im2col": Im2colConvs}


def default_convs(dtype: torch.dtype, device: torch.device) -> str:
    """The faster convolution backend: ``direct`` for float32 where a direct grouped
    convolution library serves it (oneDNN on CPU, cuDNN on CUDA), else ``im2col``."""
    if dtype != torch.float32:
        return "im2col"
    if device.type == "cuda" or (device.type == "cpu" and torch.backends.mkldnn.is_available()):
        return "direct"
    return "im2col"


class LeNetKernel:
    """Parameters of R LeNets and their batched training step.

    Parameters
    ----------
    params : dict name -> Tensor of shape (R, *module_shape), names as in ``PARAM_NAMES``
        Trained in place. The weights of the ``DEFERRED`` layers hold the base W0 and lag
        behind by the pending updates: read parameters through ``effective_params``.
    head : Tensor of shape (K, K) or None
        Fixed matrix applied to the logits (``logits @ head.T``).
    window : int >= 1
        Steps between foldings of the deferred fc updates; 1 updates every weight eagerly.
    convs : {"direct", "im2col"} or None
        Convolution backend (see the module docstring); None picks ``default_convs``. The
        direct backend re-stores the conv weights channels-last (``params`` entries become
        views of that storage, same shapes and values).
    """

    def __init__(
        self, params: dict[str, torch.Tensor], *, head: torch.Tensor | None, window: int = WINDOW, convs: str | None = None
    ) -> None:
        weight = params["body.conv1.weight"]
        convs = convs or default_convs(weight.dtype, weight.device)
        if convs not in CONVS:
            raise ValueError(f"convs: unknown backend {convs!r}; allowed: {list(CONVS)}")
        self.convs: ConvBackend = CONVS[convs](params)
        self.params = params
        self.head = head
        p = params
        r = weight.shape[0]
        self.trials = r
        self.fc = [LazyLinear(p[f"body.{n}.weight"], p[f"body.{n}.bias"].view(r, 1, -1)) for n in ("fc1", "fc2", "classifier")]
        self.window = int(window)
        names = ("fc1", "fc2", "classifier")
        self._defer = tuple(self.window > 1 and n in DEFERRED for n in names)  # per entry of self.fc
        self._deferred = {f"body.{n}.weight": layer for n, layer, lazy in zip(names, self.fc, self._defer) if lazy}
        for layer in self._deferred.values():
            layer.keep_transposed()  # their input gradients read W0^T row by row (see ``lazy_linear``)
        self._pending_steps = 0  # steps since the last folding (windows counted from iteration 0)

    @property
    def name(self) -> str:
        """``lenet/<convolution backend>``."""
        return f"lenet/{self.convs.name}"

    # ------------------------------------------------------------------ inputs
    def prepare_images(self, x: torch.Tensor) -> torch.Tensor:
        """Training images (N, C, 32, 32) in the layout ``select_images`` gathers from."""
        return self.convs.prepare_images(x)

    def select_images(self, images: torch.Tensor, rows: torch.Tensor, batch: int) -> torch.Tensor:
        """The step input: rows (R*B,) of the prepared images, trial-major, in the backend's layout."""
        return self.convs.select_images(images, rows, batch)

    # ------------------------------------------------------------------ forward
    def _features(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[Any, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Training forward of a step input x: features (R, B, 84) and saved activations."""
        flat, conv_saved = self.convs.forward(x)
        z1 = self.fc[0].forward(flat)
        g1 = z1.relu()
        z2 = self.fc[1].forward(g1)
        g2 = z2.relu()
        return g2, (conv_saved, flat, z1, g1, z2, g2)

    def _logits(self, features: torch.Tensor) -> torch.Tensor:
        logits = self.fc[2].forward(features)
        return logits if self.head is None else logits @ self.head.T

    @torch.no_grad()
    def forward(self, x: torch.Tensor, *, chunk: int, features: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Shared inputs x: (N, C, 32, 32) -> logits (R, N, K), features (R, N, 84).

        Convolutions run ``chunk`` images at a time (their buffers grow with R * chunk);
        the fully connected layers then run once on all N, so their weights are read once.
        """
        flat = shared_input_convs(self.params, x, chunk=chunk)
        feats = self.fc[1].forward(self.fc[0].forward(flat).relu_()).relu_()
        return self._logits(feats), feats

    # ------------------------------------------------------------------ training
    @torch.no_grad()
    def step(self, x: torch.Tensor, y: torch.Tensor, *, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
        """One SGD step of every trial on its own minibatch (mean cross-entropy).

        Parameters
        ----------
        x : the step input from ``select_images`` (R trials x B images, backend layout)
        y : Tensor of shape (R, B), int64

        Returns
        -------
        logits : Tensor of shape (R, B, K), before the update
        loss : Tensor of shape (R,), before the update
        """
        r, b = y.shape
        features, saved = self._features(x)
        conv_saved, flat, z1, g1, z2, g2 = saved
        logits = self._logits(features)

        log_prob = logits.log_softmax(-1)
        loss = -log_prob.gather(-1, y.unsqueeze(-1)).squeeze(-1).mean(1)
        grad = log_prob.exp()
        grad.scatter_add_(-1, y.unsqueeze(-1), grad.new_full((r, b, 1), -1.0))
        if b > 1:
            grad /= b
        if self.head is not None:
            grad = grad @ self.head

        # Fully connected layers, top down: input gradient first, then the fused update.
        inputs, pre_acts = (flat, g1, g2), {1: z1, 2: z2}
        for layer in (2, 1, 0):
            linear = self.fc[layer]
            grad_in = linear.input_grad(grad)
            if self._defer[layer]:
                linear.defer_update(grad, inputs[layer], lr=lr, capacity=self.window * b)
            else:
                linear.update_now(grad, inputs[layer], lr=lr)
            grad = grad_in if layer == 0 else grad_in.mul_(pre_acts[layer] > 0)

        self.convs.backward(grad, conv_saved, lr=lr)

        self._pending_steps += 1
        if self._pending_steps >= self.window:
            self.materialise()
        return logits, loss

    def train_steps(
        self, images: torch.Tensor, rows: torch.Tensor, labels: torch.Tensor, *, lr: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """n steps (``Kernel.train_steps``): rows, labels (n, R, B) -> logits (n, R, B, K), loss (n, R)."""
        return train_step_by_step(self, images, rows, labels, lr=lr)

    # ------------------------------------------------------------------ deferred updates
    def materialise(self) -> None:
        """Fold every pending fc update into the stored weights (ends the current window)."""
        for layer in self._deferred.values():
            layer.materialise()
        self._pending_steps = 0

    def effective_params(self) -> dict[str, torch.Tensor]:
        """The current parameters (name -> (R, *shape)); deferred weights with their pending
        updates applied in new tensors, the running state untouched."""
        params = dict(self.params)
        for name, layer in self._deferred.items():
            params[name] = layer.effective_weight().view_as(self.params[name])
        return params

    def pending_state(self) -> dict[str, torch.Tensor | int]:
        """What ``effective_params`` leaves out for a bitwise resume: {} at a window boundary,
        else ``steps`` and, per deferred weight name, ``<name>/base`` (R, out, in),
        ``<name>/grads`` (R, P, out) and ``<name>/inputs`` (R, P, in)."""
        if not self._pending_steps:
            return {}
        state: dict[str, torch.Tensor | int] = {"steps": self._pending_steps}
        for name, layer in self._deferred.items():
            grads, inputs = layer.pending()
            state.update({f"{name}/base": layer.weight, f"{name}/grads": grads, f"{name}/inputs": inputs})
        return state

    def load_pending_state(self, state: dict[str, Any]) -> None:
        """Restore what ``pending_state`` returned (tensors or arrays; {} = at a boundary), after
        ``params`` were set to the effective parameters."""
        self._pending_steps = int(state.get("steps", 0))
        for name, layer in self._deferred.items():
            layer.count = 0
            if self._pending_steps and f"{name}/base" in state:
                layer.weight.copy_(torch.as_tensor(state[f"{name}/base"], dtype=layer.weight.dtype))
                layer.set_pending(*(torch.as_tensor(state[f"{name}/{part}"], dtype=layer.weight.dtype) for part in ("grads", "inputs")))
            layer.keep_transposed()

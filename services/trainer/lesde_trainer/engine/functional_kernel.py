"""Any nn.Module network trained as R independent copies with torch.func (vmap of grad).

The generic path for models without a hand-written kernel (alexnet, mlp), and an
independent cross-check of the LeNet kernel.
"""

from __future__ import annotations

import torch
from torch.func import functional_call, grad_and_value, vmap
from torch.nn import functional as F  # noqa: N812 - torch's own name for torch.nn.functional

from ..models import Classifier
from .kernel import train_step_by_step


class FunctionalKernel:
    """Parameters of R copies of ``module`` and their batched training step.

    Parameters
    ----------
    module : Classifier
        Architecture (its own parameter values are ignored); its buffers (the fixed
        head) are shared by all trials.
    params : dict name -> Tensor of shape (R, *module_shape), trained in place
    """

    def __init__(self, module: Classifier, params: dict[str, torch.Tensor]) -> None:
        self.module = module
        self.params = params
        self.buffers = dict(module.named_buffers())
        self.trials = next(iter(params.values())).shape[0]

        def loss_and_logits(p: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            logits = functional_call(module, (p, self.buffers), (x,))
            return F.cross_entropy(logits, y), logits

        self._step = vmap(grad_and_value(loss_and_logits, has_aux=True))
        self._forward = vmap(
            lambda p, x: functional_call(module, (p, self.buffers), (x,), {"return_features": True}),
            in_dims=(0, None),
        )

    name = "functional"

    @staticmethod
    def prepare_images(x: torch.Tensor) -> torch.Tensor:
        """Training images (N, C, 32, 32), kept as they are."""
        return x.contiguous()

    def select_images(self, images: torch.Tensor, rows: torch.Tensor, batch: int) -> torch.Tensor:
        """Rows (R*B,) of the training images, trial-major -> step input x (R, B, C, 32, 32)."""
        return images.index_select(0, rows).view(self.trials, batch, *images.shape[1:])

    @torch.no_grad()
    def forward(self, x: torch.Tensor, *, chunk: int, features: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Shared inputs x: (N, C, 32, 32) -> logits (R, N, K), features (R, N, F), ``chunk`` images at a time."""
        parts = [self._forward(self.params, x[s : s + chunk]) for s in range(0, x.shape[0], chunk)]
        return torch.cat([p[0] for p in parts], dim=1), torch.cat([p[1] for p in parts], dim=1)

    def effective_params(self) -> dict[str, torch.Tensor]:
        """The current parameters (every update is applied eagerly here)."""
        return self.params

    def pending_state(self) -> dict:
        """Nothing is ever pending (see ``LeNetKernel.pending_state``)."""
        return {}

    def load_pending_state(self, state: dict) -> None:
        """Nothing to restore (see ``LeNetKernel.load_pending_state``)."""

    def step(self, x: torch.Tensor, y: torch.Tensor, *, lr: float) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (R, B, C, 32, 32), y: (R, B) -> logits (R, B, K) and loss (R,) before the update."""
        grads, (loss, logits) = self._step(self.params, x, y)
        with torch.no_grad():
            names = list(self.params)
            torch._foreach_add_([self.params[n] for n in names], [grads[n] for n in names], alpha=-lr)
        return logits.detach(), loss.detach()

    def train_steps(
        self, images: torch.Tensor, rows: torch.Tensor, labels: torch.Tensor, *, lr: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """n steps (``Kernel.train_steps``): rows, labels (n, R, B) -> logits (n, R, B, K), loss (n, R)."""
        return train_step_by_step(self, images, rows, labels, lr=lr)

"""Convolutions of the LeNet kernel as grouped direct convolutions, channels-last (float32).

The R trials are the groups of one convolution: trial r's channels are r*C .. r*C + C-1
of a (B, R*C, H, W) tensor, and its filters r*F .. r*F + F-1 of an (R*F, C, 5, 5) weight.
On CPU with channels-last tensors PyTorch hands these to oneDNN's direct convolution, which
never materialises the 25x larger im2col patch matrices nor needs a col2im for the input
gradient; max pooling uses PyTorch's own kernels (channels-last, vectorised over R*C) and
their saved argmax, so ties go to the first element in window order as in the module.

Against ``convs_im2col`` the gain is mostly in the conv2 backward (no im2col, no col2im).
The weights are stored channels-last and the images gathered straight into the input
layout, so that no per-step reorder copy is needed; the ``params`` entries stay
(R, *module_shape) views. (``bench/train.py`` measures the step.)

float32 only by choice: oneDNN has no float64 kernels, and PyTorch's fallback for a
float64 grouped convolution was slower than ``convs_im2col``.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F  # noqa: N812 - torch's own name for torch.nn.functional

CHANNELS_LAST = torch.channels_last
_conv_backward = torch.ops.aten.convolution_backward
_pool_backward = torch.ops.aten.max_pool2d_with_indices_backward
_relu_backward = torch.ops.aten.threshold_backward

#: what ``forward`` keeps for ``backward``: x, a1, m1, where1, h1, a2, m2, where2
Saved = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def _grouped_weight(param: torch.Tensor) -> torch.Tensor:
    """(R, F, C, 5, 5) -> a channels-last copy shaped (R*F, C, 5, 5), the grouped conv's weight."""
    r, f = param.shape[:2]
    weight = torch.empty((r * f, *param.shape[2:]), dtype=param.dtype, device=param.device, memory_format=CHANNELS_LAST)
    weight.copy_(param.reshape(r * f, *param.shape[2:]))
    return weight


class DirectConvs:
    """The two convolution blocks (conv, 2x2 max pool, ReLU) of R LeNets, trained in place.

    Parameters
    ----------
    params : dict name -> Tensor of shape (R, *module_shape)
        Its ``body.conv{1,2}.weight`` entries are replaced by views of channels-last copies
        (same shapes and values; the trainer reads parameters through this dict).
    """

    name = "direct"

    def __init__(self, params: dict[str, torch.Tensor]) -> None:
        r, _, c = params["body.conv1.weight"].shape[:3]
        self.trials, self.channels = r, c
        self.w1 = _grouped_weight(params["body.conv1.weight"])  # (R*6, C, 5, 5)
        self.w2 = _grouped_weight(params["body.conv2.weight"])  # (R*16, 6, 5, 5)
        params["body.conv1.weight"] = self.w1.view(r, 6, c, 5, 5)
        params["body.conv2.weight"] = self.w2.view(r, 16, 6, 5, 5)
        self.b1 = params["body.conv1.bias"].view(-1)  # (R*6,)
        self.b2 = params["body.conv2.bias"].view(-1)  # (R*16,)

    @staticmethod
    def prepare_images(x: torch.Tensor) -> torch.Tensor:
        """Training images (N, C, 32, 32) -> (32*32, N, C): a gather of trials' images along
        axis 1 is then already the channels-last memory of the (1, R*C, 32, 32) conv input."""
        n, c = x.shape[:2]
        return x.permute(2, 3, 0, 1).reshape(32 * 32, n, c).contiguous()

    def select_images(self, images: torch.Tensor, rows: torch.Tensor, batch: int) -> torch.Tensor:
        """Rows (R*B,) of the training images, trial-major -> conv input (B, R*C, 32, 32), channels-last."""
        r, c = self.trials, self.channels
        if batch == 1:
            return images.index_select(1, rows).view(1, 32, 32, r * c).permute(0, 3, 1, 2)
        batch_major = rows.view(r, batch).t().reshape(-1)
        picked = images.index_select(1, batch_major).view(32, 32, batch, r * c)
        return picked.permute(2, 3, 0, 1).contiguous(memory_format=CHANNELS_LAST)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Saved]:
        """x (B, R*C, 32, 32) channels-last -> flattened features (R, B, 400) and what ``backward`` needs."""
        r, b = self.trials, x.shape[0]
        a1 = F.conv2d(x, self.w1, self.b1, groups=r)  # (B, R*6, 28, 28)
        m1, where1 = F.max_pool2d(a1, 2, return_indices=True)
        h1 = m1.relu()  # (B, R*6, 14, 14)
        a2 = F.conv2d(h1, self.w2, self.b2, groups=r)  # (B, R*16, 10, 10)
        m2, where2 = F.max_pool2d(a2, 2, return_indices=True)
        # Channels-last (B, 5, 5, R*16) memory -> each trial's features in the module's (16, 5, 5) order.
        flat = m2.relu().permute(0, 2, 3, 1).reshape(b, 5, 5, r, 16).permute(3, 0, 4, 1, 2).reshape(r, b, 400)
        return flat, (x, a1, m1, where1, h1, a2, m2, where2)

    def backward(self, grad: torch.Tensor, saved: Saved, *, lr: float) -> None:
        """SGD step of both blocks given the gradient (R, B, 400) of their flattened output."""
        x, a1, m1, where1, h1, a2, m2, where2 = saved
        r, b = grad.shape[:2]
        grad_m2 = torch.empty_like(m2)  # (B, R*16, 5, 5), channels-last like m2
        grad_m2.permute(0, 2, 3, 1).view(b, 5, 5, r, 16).copy_(grad.view(r, b, 16, 5, 5).permute(1, 3, 4, 0, 2))
        grad_a2 = _pool_backward(_relu_backward(grad_m2, m2, 0), a2, [2, 2], [2, 2], [0, 0], [1, 1], False, where2)
        grad_h1, grad_w2, grad_b2 = _conv_backward(
            grad_a2, h1, self.w2, [r * 16], [1, 1], [0, 0], [1, 1], False, [0, 0], r, [True, True, True]
        )
        self.w2.sub_(grad_w2, alpha=lr)
        self.b2.sub_(grad_b2, alpha=lr)
        grad_a1 = _pool_backward(_relu_backward(grad_h1, m1, 0), a1, [2, 2], [2, 2], [0, 0], [1, 1], False, where1)
        _, grad_w1, grad_b1 = _conv_backward(grad_a1, x, self.w1, [r * 6], [1, 1], [0, 0], [1, 1], False, [0, 0], r, [False, True, True])
        self.w1.sub_(grad_w1, alpha=lr)
        self.b1.sub_(grad_b1, alpha=lr)

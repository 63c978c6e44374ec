"""Convolutions of the LeNet kernel as im2col copies and batched matmuls (any dtype, any device).

Every convolution is an ``as_strided`` im2col copy plus one batched matmul, max pooling is
three elementwise maxima over strided views, and each weight update is fused into its
gradient product (``baddbmm_`` with ``alpha = -lr``). Layout: activations are
(R, channels, B, H, W), so a batched matmul over R turns (R, out, C*k*k) @ (R, C*k*k, B*H*W)
directly into the next layer's input without any permute. Pooling happens before the ReLU
(they commute; the pooled tensor is 4x smaller). Ties in max pooling go to the first
element in row-major window order, as in PyTorch.

The float32 CPU path uses ``convs_direct`` instead (oneDNN's direct grouped convolutions,
faster there); this one serves float64 (oneDNN has no float64 kernels, and PyTorch's
fallback for a float64 grouped convolution is slower than this) and is the reference the
direct path is tested against.
"""

from __future__ import annotations

import torch

#: the three masks of a 2x2 max pool: the right of the top pair, the right of the bottom pair, the bottom pair
PoolMasks = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
#: what ``forward`` keeps for ``backward``: cols1, a1, m1, masks1, cols2, a2, m2, masks2
Saved = tuple[torch.Tensor, torch.Tensor, torch.Tensor, PoolMasks, torch.Tensor, torch.Tensor, torch.Tensor, PoolMasks]


def _im2col(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """(R, C, B, H, W) with any strides -> (R, C*k*k, B*Ho*Wo) contiguous."""
    r, c, b, h, w = x.shape
    sr, sc, sb, sh, sw = x.stride()
    ho, wo = h - kernel + 1, w - kernel + 1
    view = x.as_strided((r, c, kernel, kernel, b, ho, wo), (sr, sc, sh, sw, sb, sh, sw), x.storage_offset())
    return view.reshape(r, c * kernel * kernel, b * ho * wo)


def _pool_forward(a: torch.Tensor) -> tuple[torch.Tensor, PoolMasks]:
    """2x2 max pool of (..., H, W); returns the max and the three masks its backward needs."""
    v = a.unflatten(-1, (-1, 2)).unflatten(-3, (-1, 2))  # (..., H/2, 2, W/2, 2)
    s00, s01 = v[..., :, 0, :, 0], v[..., :, 0, :, 1]
    s10, s11 = v[..., :, 1, :, 0], v[..., :, 1, :, 1]
    top, bottom = torch.maximum(s00, s01), torch.maximum(s10, s11)
    pick01, pick11 = s01 > s00, s11 > s10  # strict: ties keep the first element
    pick_bottom = bottom > top
    return torch.maximum(top, bottom), (pick01, pick11, pick_bottom)


def _pool_backward(grad: torch.Tensor, masks: PoolMasks, out: torch.Tensor) -> torch.Tensor:
    """Route ``grad`` (..., H/2, W/2) to the argmax positions of ``out`` (..., H, W).

    Masks by multiplication (x * True = x, x * False = 0) and the other half by subtraction
    (x - x = 0, x - 0 = x), exact for finite gradients: ``torch.where`` into these stride-2
    views is slower than ``mul``/``sub`` with the same ``out``.
    """
    pick01, pick11, pick_bottom = masks
    v = out.unflatten(-1, (-1, 2)).unflatten(-3, (-1, 2))
    bottom = grad * pick_bottom
    top = grad - bottom
    torch.mul(top, pick01, out=v[..., :, 0, :, 1])
    torch.sub(top, v[..., :, 0, :, 1], out=v[..., :, 0, :, 0])
    torch.mul(bottom, pick11, out=v[..., :, 1, :, 1])
    torch.sub(bottom, v[..., :, 1, :, 1], out=v[..., :, 1, :, 0])
    return out


def _col2im(cols: torch.Tensor, *, channels: int, batch: int, kernel: int, size: int) -> torch.Tensor:
    """Adjoint of ``_im2col``: (R, C*k*k, B*Ho*Wo) -> (R, C, B, size, size), summing overlaps.

    Two passes of k shifted adds instead of k*k: first over the row offset, where each
    shifted block is a contiguous run of Ho*Wo elements (fast), then over the column offset
    on the k-fold smaller result. (Columns first is slower: runs of only Wo.)
    """
    r = cols.shape[0]
    out_size = size - kernel + 1
    v = cols.view(r, channels, kernel, kernel, batch, out_size, out_size)
    by_col_offset = cols.new_zeros(r, channels, kernel, batch, size, out_size)
    for a in range(kernel):
        by_col_offset[:, :, :, :, a : a + out_size] += v[:, :, a]
    image = cols.new_zeros(r, channels, batch, size, size)
    for b in range(kernel):
        image[..., b : b + out_size] += by_col_offset[:, :, b]
    return image


class Im2colConvs:
    """The two convolution blocks (conv, 2x2 max pool, ReLU) of R LeNets, trained in place.

    Parameters
    ----------
    params : dict name -> Tensor of shape (R, *module_shape)
        Reads ``body.conv{1,2}.{weight,bias}``, updated in place through matmul-shaped views
        (entries that are not contiguous, e.g. another backend's channels-last storage, are
        replaced by contiguous copies first).
    """

    name = "im2col"

    def __init__(self, params: dict[str, torch.Tensor]) -> None:
        for name in ("body.conv1.weight", "body.conv2.weight"):
            params[name] = params[name].contiguous()
        r = params["body.conv1.weight"].shape[0]
        self.trials = r
        self.w1 = params["body.conv1.weight"].view(r, 6, -1)  # (R, 6, C*25)
        self.b1 = params["body.conv1.bias"].view(r, 6, 1)
        self.w2 = params["body.conv2.weight"].view(r, 16, -1)  # (R, 16, 150)
        self.b2 = params["body.conv2.bias"].view(r, 16, 1)

    @staticmethod
    def prepare_images(x: torch.Tensor) -> torch.Tensor:
        """Training images (N, C, 32, 32) in the layout ``select_images`` reads: unchanged."""
        return x.contiguous()

    def select_images(self, images: torch.Tensor, rows: torch.Tensor, batch: int) -> torch.Tensor:
        """Rows (R*B,) of the training images, trial-major -> step input x (R, B, C, 32, 32)."""
        return images.index_select(0, rows).view(self.trials, batch, *images.shape[1:])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, Saved]:
        """x (R, B, C, 32, 32) -> flattened features (R, B, 400) and what ``backward`` needs."""
        r, n = x.shape[:2]
        cols1 = _im2col(x.permute(0, 2, 1, 3, 4), 5)  # (R, C*25, B*784)
        a1 = torch.baddbmm(self.b1, self.w1, cols1).view(r, 6, n, 28, 28)
        m1, masks1 = _pool_forward(a1)
        h1 = m1.relu()  # (R, 6, B, 14, 14)
        cols2 = _im2col(h1, 5)  # (R, 150, B*100)
        a2 = torch.baddbmm(self.b2, self.w2, cols2).view(r, 16, n, 10, 10)
        m2, masks2 = _pool_forward(a2)
        flat = m2.relu().permute(0, 2, 1, 3, 4).reshape(r, n, 400)
        return flat, (cols1, a1, m1, masks1, cols2, a2, m2, masks2)

    def backward(self, grad: torch.Tensor, saved: Saved, *, lr: float) -> None:
        """SGD step of both blocks given the gradient (R, B, 400) of their flattened output."""
        cols1, a1, m1, masks1, cols2, a2, m2, masks2 = saved
        r, b = grad.shape[:2]
        # conv2: back through flatten, ReLU and pooling.
        grad = grad.view(r, b, 16, 5, 5).permute(0, 2, 1, 3, 4) * (m2 > 0)
        grad_a2 = _pool_backward(grad, masks2, torch.empty_like(a2)).view(r, 16, -1)
        grad_cols2 = torch.bmm(self.w2.transpose(1, 2), grad_a2)
        self.w2.baddbmm_(grad_a2, cols2.transpose(1, 2), alpha=-lr)
        self.b2.sub_(grad_a2.sum(2, keepdim=True), alpha=lr)
        # conv1 (no input gradient needed).
        grad = _col2im(grad_cols2, channels=6, batch=b, kernel=5, size=14).mul_(m1 > 0)
        grad_a1 = _pool_backward(grad, masks1, torch.empty_like(a1)).view(r, 6, -1)
        self.w1.baddbmm_(grad_a1, cols1.transpose(1, 2), alpha=-lr)
        self.b1.sub_(grad_a1.sum(2, keepdim=True), alpha=lr)

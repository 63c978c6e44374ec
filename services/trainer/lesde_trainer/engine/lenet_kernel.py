"""Hand-derived batched forward/backward/SGD for R LeNets at once (no autograd).

Why by hand: with batch size 1 every layer is tiny, so autograd, vmap and grouped
convolutions spend their time in per-op overhead and in slow generic kernels
(``F.unfold``/``F.fold`` and ``max_pool2d_with_indices`` loop over the batch on CPU).
Here every convolution is an ``as_strided`` im2col copy plus one batched matmul, max
pooling is three elementwise maxima over strided views, and each weight update is fused
into its gradient product (``baddbmm_`` / ``addcmul_`` with ``alpha = -lr``).

Layout: activations are (R, channels, B, H, W), so a batched matmul over R turns
(R, out, C*k*k) @ (R, C*k*k, B*H*W) directly into the next layer's input without any
permute. Pooling happens before the ReLU (they commute; the pooled tensor is 4x smaller).

Inference on shared inputs (``forward``, used by every evaluation) takes a different route:
conv1 is one plain matmul (all R*6 filters see the same patches) with the patches grouped
by pooling offset, and conv2 one grouped convolution (groups = R) on the channels-last
result, which oneDNN runs ~3x faster than im2col + bmm (no 25x patch matrix). Training
keeps im2col + bmm: at batch size 1 the grouped convolution's backward was no faster in
fp32 and ~1.7x slower in fp64 on 2 threads.
Ties in max pooling go to the first element in row-major window order, as in PyTorch.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

PARAM_NAMES = (
    "body.conv1.weight", "body.conv1.bias", "body.conv2.weight", "body.conv2.bias",
    "body.fc1.weight", "body.fc1.bias", "body.fc2.weight", "body.fc2.bias",
    "body.classifier.weight", "body.classifier.bias",
)


def _im2col(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """(R, C, B, H, W) with any strides -> (R, C*k*k, B*Ho*Wo) contiguous."""
    r, c, b, h, w = x.shape
    sr, sc, sb, sh, sw = x.stride()
    ho, wo = h - kernel + 1, w - kernel + 1
    view = x.as_strided((r, c, kernel, kernel, b, ho, wo), (sr, sc, sh, sw, sb, sh, sw), x.storage_offset())
    return view.reshape(r, c * kernel * kernel, b * ho * wo)


def _pool_forward(a: torch.Tensor):
    """2x2 max pool of (..., H, W); returns the max and the three masks its backward needs."""
    v = a.unflatten(-1, (-1, 2)).unflatten(-3, (-1, 2))  # (..., H/2, 2, W/2, 2)
    s00, s01 = v[..., :, 0, :, 0], v[..., :, 0, :, 1]
    s10, s11 = v[..., :, 1, :, 0], v[..., :, 1, :, 1]
    top, bottom = torch.maximum(s00, s01), torch.maximum(s10, s11)
    pick01, pick11 = s01 > s00, s11 > s10  # strict: ties keep the first element
    pick_bottom = bottom > top
    return torch.maximum(top, bottom), (pick01, pick11, pick_bottom)


def _pool_backward(grad: torch.Tensor, masks, out: torch.Tensor) -> torch.Tensor:
    """Route ``grad`` (..., H/2, W/2) to the argmax positions of ``out`` (..., H, W)."""
    pick01, pick11, pick_bottom = masks
    v = out.unflatten(-1, (-1, 2)).unflatten(-3, (-1, 2))
    zero = grad.new_zeros(())
    top = torch.where(pick_bottom, zero, grad)
    bottom = grad - top
    torch.where(pick01, zero, top, out=v[..., :, 0, :, 0])
    torch.where(pick01, top, zero, out=v[..., :, 0, :, 1])
    torch.where(pick11, zero, bottom, out=v[..., :, 1, :, 0])
    torch.where(pick11, bottom, zero, out=v[..., :, 1, :, 1])
    return out


def _col2im(cols: torch.Tensor, *, channels: int, batch: int, kernel: int, size: int) -> torch.Tensor:
    """Adjoint of ``_im2col``: (R, C*k*k, B*Ho*Wo) -> (R, C, B, size, size), summing overlaps.

    Two passes of k shifted adds (columns, then rows) instead of k*k.
    """
    r = cols.shape[0]
    out_size = size - kernel + 1
    v = cols.view(r, channels, kernel, kernel, batch, out_size, out_size)
    rows = cols.new_zeros(r, channels, kernel, batch, out_size, size)
    for b in range(kernel):
        rows[..., b:b + out_size] += v[:, :, :, b]
    image = cols.new_zeros(r, channels, batch, size, size)
    for a in range(kernel):
        image[:, :, :, a:a + out_size, :] += rows[:, :, a]
    return image


class LeNetKernel:
    """Parameters of R LeNets and their batched training step.

    Parameters
    ----------
    params : dict name -> Tensor of shape (R, *module_shape), names as in ``PARAM_NAMES``
        Trained in place.
    head : Tensor of shape (K, K) or None
        Fixed matrix applied to the logits (``logits @ head.T``).
    """

    def __init__(self, params: dict[str, torch.Tensor], *, head: torch.Tensor | None):
        self.params = params
        self.head = head
        p = params
        r = p["body.conv1.weight"].shape[0]
        self.trials = r
        # Matmul-shaped views of the same storage (updates through them are in place).
        self.w1 = p["body.conv1.weight"].view(r, 6, -1)
        self.b1 = p["body.conv1.bias"].view(r, 6, 1)
        self.w2 = p["body.conv2.weight"].view(r, 16, -1)
        self.b2 = p["body.conv2.bias"].view(r, 16, 1)
        self.fc = [
            (p[f"body.{n}.weight"], p[f"body.{n}.bias"].view(r, 1, -1)) for n in ("fc1", "fc2", "classifier")
        ]

    # ------------------------------------------------------------------ forward
    def _conv_stack(self, x: torch.Tensor):
        """Training forward of the convolutions: x (R, B, C, 32, 32) -> flattened (R, B, 400) and
        what the backward needs."""
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

    def _features(self, x: torch.Tensor):
        """Training forward of x (R, B, C, 32, 32): features (R, B, 84) and saved activations."""
        flat, conv_saved = self._conv_stack(x)
        (f1, c1), (f2, c2), _ = self.fc
        z1 = torch.baddbmm(c1, flat, f1.transpose(1, 2))
        g1 = z1.relu()
        z2 = torch.baddbmm(c2, g1, f2.transpose(1, 2))
        g2 = z2.relu()
        return g2, (*conv_saved, flat, z1, g1, z2, g2)

    def _logits(self, features: torch.Tensor) -> torch.Tensor:
        f3, c3 = self.fc[2]
        logits = torch.baddbmm(c3, features, f3.transpose(1, 2))
        return logits if self.head is None else logits @ self.head.T

    @staticmethod
    def _shared_conv1(x: torch.Tensor, w1_by_patch: torch.Tensor, b1: torch.Tensor) -> torch.Tensor:
        """conv1 + max pool + ReLU of every trial on the same images x (N, C, 32, 32) -> (N, 14, 14, R*6),
        given the weights as w1_by_patch (C*25, R*6) and the bias b1 (R*6,).

        All R*6 filters see the same patches, so this is one plain matmul. The patches are
        grouped by their offset in the 2x2 pooling window, (4, N*196, C*25), so the pooling is
        three maxima of contiguous blocks; the bias is added after the max (it commutes). The
        result is channels-last, the layout the grouped conv2 below wants.
        """
        n, c = x.shape[:2]
        sn, sc, sh, sw = x.stride()
        patches = x.as_strided((2, 2, n, 14, 14, c, 5, 5), (sh, sw, sn, 2 * sh, 2 * sw, sc, sh, sw),
                               x.storage_offset()).reshape(4, n * 196, c * 25)
        a = torch.matmul(patches, w1_by_patch)  # (4, N*196, R*6)
        pooled = torch.maximum(torch.maximum(a[0], a[1]), torch.maximum(a[2], a[3]))
        return pooled.add_(b1).relu_().view(n, 14, 14, -1)

    def _shared_conv_stack(self, x: torch.Tensor, weights: tuple) -> torch.Tensor:
        """Inference convolutions on the same images x (N, C, 32, 32) for every trial -> (R, N, 400);
        ``weights`` from ``_inference_weights``.

        conv2 is one grouped convolution (groups = R) on the channels-last conv1 output:
        oneDNN's direct convolution beats im2col + bmm here by ~3x, mostly by never
        materialising the 25x larger patch matrix.
        """
        r, n = self.trials, x.shape[0]
        w1_by_patch, b1, w2_grouped, b2 = weights
        h1 = self._shared_conv1(x, w1_by_patch, b1).permute(0, 3, 1, 2)  # (N, R*6, 14, 14), channels-last strides
        a2 = F.conv2d(h1, w2_grouped, b2, groups=r)  # (N, R*16, 10, 10)
        m2 = F.max_pool2d(a2, 2).relu_()  # (N, R*16, 5, 5)
        return m2.reshape(n, r, 400).transpose(0, 1)  # a strided view; the caller copies it into place

    def _inference_weights(self):
        """conv weights in the shared path's layouts: w1 (C*25, R*6), b1 (R*6,), w2 (R*16, 6, 5, 5)
        channels-last, b2 (R*16,). Rebuilt per ``forward`` call (training changes them in between)."""
        r = self.trials
        return (self.w1.reshape(r * 6, -1).t().contiguous(), self.b1.reshape(-1),
                self.w2.view(r * 16, 6, 5, 5).contiguous(memory_format=torch.channels_last), self.b2.reshape(-1))

    @torch.no_grad()
    def forward(self, x: torch.Tensor, *, chunk: int):
        """Shared inputs x: (N, C, 32, 32) -> logits (R, N, K), features (R, N, 84).

        Convolutions run ``chunk`` images at a time (their buffers grow with R * chunk);
        the fully connected layers then run once on all N, so their weights are read once.
        """
        weights = self._inference_weights()
        flat = x.new_empty((self.trials, x.shape[0], 400))
        for s in range(0, x.shape[0], chunk):
            flat[:, s:s + chunk] = self._shared_conv_stack(x[s:s + chunk], weights)
        (f1, c1), (f2, c2), _ = self.fc
        features = torch.baddbmm(c2, torch.baddbmm(c1, flat, f1.transpose(1, 2)).relu_(), f2.transpose(1, 2)).relu_()
        return self._logits(features), features

    # ------------------------------------------------------------------ training
    @torch.no_grad()
    def step(self, x: torch.Tensor, y: torch.Tensor, *, lr: float):
        """One SGD step of every trial on its own minibatch (mean cross-entropy).

        Parameters
        ----------
        x : Tensor of shape (R, B, C, 32, 32)
        y : Tensor of shape (R, B), int64

        Returns
        -------
        logits : Tensor of shape (R, B, K), before the update
        loss : Tensor of shape (R,), before the update
        """
        r, b = y.shape
        features, saved = self._features(x)
        cols1, a1, m1, masks1, cols2, a2, m2, masks2, flat, z1, g1, z2, g2 = saved
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
        inputs, pre_acts = (flat, g1, g2), (None, z1, z2)
        for layer in (2, 1, 0):
            weight, bias = self.fc[layer]
            grad_in = torch.bmm(grad, weight)
            if b == 1:
                weight.addcmul_(grad.transpose(1, 2), inputs[layer], value=-lr)
            else:
                weight.baddbmm_(grad.transpose(1, 2), inputs[layer], alpha=-lr)
            bias.sub_(grad.sum(1, keepdim=True), alpha=lr)
            grad = grad_in if layer == 0 else grad_in.mul_(pre_acts[layer] > 0)

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
        return logits, loss

"""Convolutions of R LeNets on shared inputs: the inference route of the LeNet kernel.

Every evaluation and probe runs all R trials on the same images, which the training
backends (``convs_direct``, ``convs_im2col``: one image per trial) cannot exploit. Here,
for either backend's parameters:

- conv1 is one plain matmul: all R*6 filters see the same patches. The patches are grouped
  by their offset in the 2x2 pooling window, so the pooling is one reduction over the
  leading axis of contiguous blocks, and conv1 runs ``CONV1_CHUNK`` images per matmul so
  that its unpooled output (4x the pooled one) is pooled while still in cache;
- conv2 is one grouped convolution (groups = R) on the channels-last conv1 output, which
  oneDNN's direct convolution runs without materialising the 25x larger patch matrix.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F  # noqa: N812 - torch's own name for torch.nn.functional

# Images per conv1 matmul: small, so that the unpooled output stays in cache until pooled.
CONV1_CHUNK = 2


def shared_input_convs(params: dict[str, torch.Tensor], x: torch.Tensor, *, chunk: int) -> torch.Tensor:
    """Both convolution blocks (conv, 2x2 max pool, ReLU) of every trial on the same images.

    Parameters
    ----------
    params : dict name -> Tensor of shape (R, *module_shape)
        Reads ``body.conv{1,2}.{weight,bias}`` (any strides).
    x : Tensor of shape (N, C, 32, 32)
    chunk : int >= 1
        Images per convolution pass (the scratch buffers grow with R * chunk).

    Returns
    -------
    flat : Tensor of shape (R, N, 400), each trial's features in the module's (16, 5, 5) order
    """
    weights = _weights(params)
    r, n = params["body.conv1.weight"].shape[0], x.shape[0]
    h1 = x.new_empty((min(chunk, n), 14, 14, r * 6))
    flat = x.new_empty((r, n, 400))
    for s in range(0, n, chunk):
        _conv_stack(x[s : s + chunk], weights, h1, flat[:, s : s + chunk])
    return flat


def _weights(params: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """conv weights in this route's layouts: w1 (C*25, R*6), b1 (R*6,), w2 (R*16, 6, 5, 5)
    channels-last, b2 (R*16,). Rebuilt per call (training changes them in between)."""
    r = params["body.conv1.weight"].shape[0]
    return (
        params["body.conv1.weight"].reshape(r * 6, -1).t().contiguous(),
        params["body.conv1.bias"].reshape(-1),
        params["body.conv2.weight"].reshape(r * 16, 6, 5, 5).contiguous(memory_format=torch.channels_last),
        params["body.conv2.bias"].reshape(-1),
    )


def _conv_stack(x: torch.Tensor, weights: tuple[torch.Tensor, ...], h1: torch.Tensor, out: torch.Tensor) -> None:
    """Both blocks on images x (n, C, 32, 32), written into ``out`` (R, n, 400) (any strides);
    ``weights`` from ``_weights``, ``h1`` a scratch buffer of at least (n, 14, 14, R*6).

    conv2 takes the whole chunk in one call: each call reorders the weights into oneDNN's
    blocked layout.
    """
    w1_by_patch, b1, w2_grouped, b2 = weights
    r, n = out.shape[0], x.shape[0]
    h1 = h1[:n]
    for s in range(0, n, CONV1_CHUNK):
        _conv1(x[s : s + CONV1_CHUNK], w1_by_patch, b1, h1[s : s + CONV1_CHUNK])
    a2 = F.conv2d(h1.permute(0, 3, 1, 2), w2_grouped, b2, groups=r)  # (n, R*16, 10, 10), channels-last
    m2 = F.max_pool2d(a2, 2)  # (n, R*16, 5, 5), channels-last
    # ReLU fused with the copy into place (one pass instead of a reshape copy, ReLU and copy).
    torch.clamp_min(m2.unflatten(1, (r, 16)).transpose(0, 1), 0, out=out.unflatten(2, (16, 5, 5)))


def _conv1(x: torch.Tensor, w1_by_patch: torch.Tensor, b1: torch.Tensor, out: torch.Tensor) -> None:
    """conv1 + max pool + ReLU of every trial on images x (n, C, 32, 32), written into ``out``
    (n, 14, 14, R*6), given the weights as w1_by_patch (C*25, R*6) and the bias b1 (R*6,).

    The patches are grouped by their offset in the pooling window, (4, n*196, C*25); the bias
    is added after the max (it commutes). The result is channels-last, the layout the grouped
    conv2 wants.
    """
    n, c = x.shape[:2]
    sn, sc, sh, sw = x.stride()
    patches = x.as_strided((2, 2, n, 14, 14, c, 5, 5), (sh, sw, sn, 2 * sh, 2 * sw, sc, sh, sw), x.storage_offset()).reshape(
        4, n * 196, c * 25
    )
    a = torch.matmul(patches, w1_by_patch)  # (4, n*196, R*6)
    pooled = out.view(n * 196, -1)
    torch.amax(a, 0, out=pooled)
    pooled.add_(b1).relu_()

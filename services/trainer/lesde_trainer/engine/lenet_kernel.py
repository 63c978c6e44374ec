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
result, which oneDNN runs ~3x faster than im2col + bmm (no 25x patch matrix). conv1 runs
``CONV1_CHUNK`` = 2 images per matmul inside each chunk of images, so that its unpooled
output (4x the pooled one, ~1.9 MB per image in fp32 at R = 100) is pooled while still in
cache: a 300-image evaluation went from ~250 to ~200 ms (fp32, R = 100, 2 threads). Training
keeps im2col + bmm: at batch size 1 the grouped convolution's backward was no faster in
fp32 and ~1.7x slower in fp64 on 2 threads.
Ties in max pooling go to the first element in row-major window order, as in PyTorch.

Deferred (lazy) low-rank update of fc1. With batch size B the SGD update of a fully
connected layer is rank B per trial: W <- W - lr g^T h, with g (B, out) the output
gradient and h (B, in) the input. fc1 is R x 120 x 400 (19 MB in fp32 at R = 100, more
than its share of the cache next to the im2col buffers), and it is read three times per
step: the forward (h W^T), the input gradient (g W) and the update (read and write).
Instead we keep the base weight W0 fixed and append the lr-scaled gradients and inputs
of the last p updates as rows of U (R, p, out) and V (R, p, in), so that

    W = W0 - U^T V                                  (R, out, in)

and every use of W is rewritten with two skinny products that never form W:

    forward         h W^T = h W0^T - (h V^T) U      h (R, N, in)
    input gradient  g W   = g W0   - (g U^T) V      g (R, B, out)

Every ``window`` steps the pending rows are folded in with one batched matmul,
W0 <- W0 - U^T V, and U, V are emptied. Because W0 then changes only once per window, a
transposed copy W0^T is cheap to keep, and both products become row-wise gemvs (see
``_gemv``): MKL's column-wise gemv (g W0) ran at about half the speed on out-of-cache
weights. Measured (fp32, R = 100, 2 threads) the step went from ~10.2 to ~9.3 ms; the
fold is not free (a rank-16 fold ~1.3 ms, the same arithmetic as 16 eager rank-1 updates,
plus ~2.3 ms to refresh W0^T), nor are the corrections (four skinny products per step), so
the gain comes from the cheaper reads more than from the skipped writes. fc2 (4 MB) gained
nothing measurable and stays eager.

The pending count is part of the state: windows are counted from iteration 0 and a
checkpoint saves W0 plus U, V, so neither the split of training into ``train(n)`` calls
nor a resume changes a single bit. The effective weights differ from those of eager
updates only by float rounding (the same products, summed in another order).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

PARAM_NAMES = (
    "body.conv1.weight", "body.conv1.bias", "body.conv2.weight", "body.conv2.bias",
    "body.fc1.weight", "body.fc1.bias", "body.fc2.weight", "body.fc2.bias",
    "body.classifier.weight", "body.classifier.bias",
)
DEFERRED = ("fc1",)  # fully connected layers whose SGD updates are deferred (fc2 too: no gain)
# Steps between foldings. 8, 16 and 32 were within noise of each other; 20 divides the
# default checkpoint chunk (500 iterations), so checkpoints then carry no pending rows.
WINDOW = 20
# Images per conv1 matmul in the shared (inference) path; see ``_shared_conv_stack``.
CONV1_CHUNK = 2


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
    """Route ``grad`` (..., H/2, W/2) to the argmax positions of ``out`` (..., H, W).

    Masks by multiplication (x * True = x, x * False = 0) and the other half by subtraction
    (x - x = 0, x - 0 = x), exact for finite gradients: ``torch.where`` into these stride-2
    views ran ~2.5x slower than ``mul``/``sub`` with the same ``out``.
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
    on the k-fold smaller result. (Columns first was ~1.5x slower: runs of only Wo.)
    """
    r = cols.shape[0]
    out_size = size - kernel + 1
    v = cols.view(r, channels, kernel, kernel, batch, out_size, out_size)
    by_col_offset = cols.new_zeros(r, channels, kernel, batch, size, out_size)
    for a in range(kernel):
        by_col_offset[:, :, :, :, a:a + out_size] += v[:, :, a]
    image = cols.new_zeros(r, channels, batch, size, size)
    for b in range(kernel):
        image[..., b:b + out_size] += by_col_offset[:, :, b]
    return image


def _gemv(matrix: torch.Tensor, rows: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """rows (R, N, k) @ matrix^T (+ bias (R, 1, m)) for matrix (R, m, k) -> (R, N, m), a transposed view.

    Computed as matrix @ rows^T, so that the inner loop runs along the contiguous rows of
    ``matrix``: with fc1 out of cache (19 MB at R = 100) that ran ~1.8x faster on 2 threads
    than rows @ matrix^T, which MKL streams column by column. (Contiguous when N = 1.)
    """
    cols = rows.transpose(1, 2)  # (R, k, N)
    if cols.shape[2] == 1:
        # Same numbers, but the unit axis gets stride k: with stride 1 there (which the input
        # gradient from the layer above has), ATen's bmm took a ~9x slower path (torch 2.14, CPU).
        cols = cols.as_strided(cols.shape, (cols.stride(0), cols.stride(1), cols.shape[1]), cols.storage_offset())
    if bias is None:
        return torch.bmm(matrix, cols).transpose(1, 2)
    return torch.baddbmm(bias.transpose(1, 2), matrix, cols).transpose(1, 2)


class LazyLinear:
    """A batched fully connected layer whose SGD updates can be deferred (see the module docstring).

    Parameters
    ----------
    weight : Tensor of shape (R, out, in)
        The base weight W0, updated in place when the pending rows are folded in.
    bias : Tensor of shape (R, 1, out)
        Updated in place every step (it is small).

    Attributes
    ----------
    weight_t : Tensor of shape (R, in, out) or None
        A contiguous copy of W0^T, kept (``keep_transposed``) for deferred layers only: their
        base changes once per window, so the copy is cheap to keep exact.
    grads : Tensor of shape (R, capacity, out) or None, U: lr-scaled output gradients
    inputs : Tensor of shape (R, capacity, in) or None, V: the matching layer inputs
    count : int, rows of ``grads``/``inputs`` pending (the effective weight is W0 - U^T V)
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        self.weight, self.bias = weight, bias
        self.weight_t: torch.Tensor | None = None
        self.grads: torch.Tensor | None = None
        self.inputs: torch.Tensor | None = None
        self.count = 0

    def pending(self) -> tuple[torch.Tensor, torch.Tensor]:
        """U (R, count, out) and V (R, count, in), views of the pending rows."""
        return self.grads[:, :self.count], self.inputs[:, :self.count]

    def keep_transposed(self) -> None:
        """(Re)build ``weight_t`` = W0^T; call after every change of W0."""
        if self.weight_t is None:
            self.weight_t = torch.empty_like(self.weight.transpose(1, 2), memory_format=torch.contiguous_format)
        self.weight_t.copy_(self.weight.transpose(1, 2))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """h (R, N, in) -> h W^T + bias (R, N, out) with the effective W."""
        if h.shape[1] == 1:
            z = _gemv(self.weight, h, self.bias)
        else:
            z = torch.baddbmm(self.bias, h, self.weight.transpose(1, 2))
        if self.count:
            u, v = self.pending()
            z.baddbmm_(torch.bmm(h, v.transpose(1, 2)), u, alpha=-1)
        return z

    def input_grad(self, g: torch.Tensor) -> torch.Tensor:
        """g (R, B, out) -> g W (R, B, in) with the effective W."""
        if self.weight_t is not None:
            grad_in = _gemv(self.weight_t, g)
        else:
            grad_in = torch.bmm(g, self.weight)
        if self.count:
            u, v = self.pending()
            grad_in.baddbmm_(torch.bmm(g, u.transpose(1, 2)), v, alpha=-1)
        return grad_in

    def defer_update(self, g: torch.Tensor, h: torch.Tensor, *, lr: float, capacity: int) -> None:
        """Record W <- W - lr g^T h for g (R, B, out), h (R, B, in); the bias is updated now.

        ``capacity`` is the number of rows a full window needs (window * B).
        """
        self.bias.sub_(g.sum(1, keepdim=True), alpha=lr)
        b = g.shape[1]
        if self.grads is None or self.grads.shape[1] < self.count + b:
            self._grow(max(capacity, self.count + b))
        torch.mul(g, lr, out=self.grads[:, self.count:self.count + b])
        self.inputs[:, self.count:self.count + b].copy_(h)
        self.count += b

    def update_now(self, g: torch.Tensor, h: torch.Tensor, *, lr: float) -> None:
        """Eager SGD update W <- W - lr g^T h, bias <- bias - lr sum(g), for g (R, B, out), h (R, B, in)."""
        if g.shape[1] == 1:
            self.weight.addcmul_(g.transpose(1, 2), h, value=-lr)
        else:
            self.weight.baddbmm_(g.transpose(1, 2), h, alpha=-lr)
        self.bias.sub_(g.sum(1, keepdim=True), alpha=lr)

    def materialise(self) -> None:
        """Fold the pending rows into the base weight: W0 <- W0 - U^T V (one pass over W0)."""
        if self.count:
            u, v = self.pending()
            self.weight.baddbmm_(u.transpose(1, 2), v, alpha=-1)
            self.count = 0
            if self.weight_t is not None:
                self.keep_transposed()

    def effective_weight(self) -> torch.Tensor:
        """W0 - U^T V (R, out, in): the base itself when nothing is pending, else a new tensor."""
        if not self.count:
            return self.weight
        u, v = self.pending()
        return torch.baddbmm(self.weight, u.transpose(1, 2), v, alpha=-1)

    def set_pending(self, grads: torch.Tensor, inputs: torch.Tensor) -> None:
        """Replace the pending rows by grads (R, P, out) and inputs (R, P, in) (a resume)."""
        self.count = 0
        self._grow(grads.shape[1])
        self.grads[:, :grads.shape[1]].copy_(grads)
        self.inputs[:, :inputs.shape[1]].copy_(inputs)
        self.count = grads.shape[1]

    def _grow(self, capacity: int) -> None:
        r, out, inp = self.weight.shape
        grads, inputs = self.weight.new_empty((r, capacity, out)), self.weight.new_empty((r, capacity, inp))
        if self.count:
            grads[:, :self.count].copy_(self.grads[:, :self.count])
            inputs[:, :self.count].copy_(self.inputs[:, :self.count])
        self.grads, self.inputs = grads, inputs


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
    """

    def __init__(self, params: dict[str, torch.Tensor], *, head: torch.Tensor | None, window: int = WINDOW):
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
            LazyLinear(p[f"body.{n}.weight"], p[f"body.{n}.bias"].view(r, 1, -1))
            for n in ("fc1", "fc2", "classifier")
        ]
        self.window = int(window)
        names = ("fc1", "fc2", "classifier")
        self._defer = tuple(self.window > 1 and n in DEFERRED for n in names)  # per entry of self.fc
        self._deferred = {f"body.{n}.weight": layer for n, layer, lazy in zip(names, self.fc, self._defer) if lazy}
        for layer in self._deferred.values():
            layer.keep_transposed()  # their input gradients read W0^T row by row (see ``_gemv``)
        self._pending_steps = 0  # steps since the last folding (windows counted from iteration 0)

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
        z1 = self.fc[0].forward(flat)
        g1 = z1.relu()
        z2 = self.fc[1].forward(g1)
        g2 = z2.relu()
        return g2, (*conv_saved, flat, z1, g1, z2, g2)

    def _logits(self, features: torch.Tensor) -> torch.Tensor:
        logits = self.fc[2].forward(features)
        return logits if self.head is None else logits @ self.head.T

    @staticmethod
    def _shared_conv1(x: torch.Tensor, w1_by_patch: torch.Tensor, b1: torch.Tensor, out: torch.Tensor) -> None:
        """conv1 + max pool + ReLU of every trial on the same images x (n, C, 32, 32), written into
        ``out`` (n, 14, 14, R*6), given the weights as w1_by_patch (C*25, R*6) and the bias b1 (R*6,).

        All R*6 filters see the same patches, so this is one plain matmul. The patches are
        grouped by their offset in the 2x2 pooling window, (4, n*196, C*25), so the pooling is
        one reduction over the leading axis of contiguous blocks; the bias is added after the
        max (it commutes). The result is channels-last, the layout the grouped conv2 wants.
        """
        n, c = x.shape[:2]
        sn, sc, sh, sw = x.stride()
        patches = x.as_strided((2, 2, n, 14, 14, c, 5, 5), (sh, sw, sn, 2 * sh, 2 * sw, sc, sh, sw),
                               x.storage_offset()).reshape(4, n * 196, c * 25)
        a = torch.matmul(patches, w1_by_patch)  # (4, n*196, R*6)
        pooled = out.view(n * 196, -1)
        torch.amax(a, 0, out=pooled)
        pooled.add_(b1).relu_()

    def _shared_conv_stack(self, x: torch.Tensor, weights: tuple, h1: torch.Tensor, out: torch.Tensor) -> None:
        """Inference convolutions on the same images x (n, C, 32, 32) for every trial, written into
        ``out`` (R, n, 400) (any strides); ``weights`` from ``_inference_weights``, ``h1`` a scratch
        buffer of at least (n, 14, 14, R*6).

        conv1 runs ``CONV1_CHUNK`` images at a time: its unpooled output is 4x the pooled one
        (~1.9 MB per image in fp32 at R = 100) and should stay in cache until it is pooled.
        conv2 is one grouped convolution (groups = R) on all n channels-last conv1 outputs:
        oneDNN's direct convolution beats im2col + bmm here by ~3x, mostly by never
        materialising the 25x larger patch matrix. It takes the whole chunk in one call (each
        call reorders the weights into oneDNN's blocked layout).
        """
        r, n = self.trials, x.shape[0]
        w1_by_patch, b1, w2_grouped, b2 = weights
        h1 = h1[:n]
        for s in range(0, n, CONV1_CHUNK):
            self._shared_conv1(x[s:s + CONV1_CHUNK], w1_by_patch, b1, h1[s:s + CONV1_CHUNK])
        a2 = F.conv2d(h1.permute(0, 3, 1, 2), w2_grouped, b2, groups=r)  # (n, R*16, 10, 10), channels-last
        m2 = F.max_pool2d(a2, 2)  # (n, R*16, 5, 5), channels-last
        # ReLU fused with the copy into place (one pass instead of a reshape copy, ReLU and copy).
        torch.clamp_min(m2.unflatten(1, (r, 16)).transpose(0, 1), 0, out=out.unflatten(2, (16, 5, 5)))

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
        n = x.shape[0]
        h1 = x.new_empty((min(chunk, n), 14, 14, self.trials * 6))
        flat = x.new_empty((self.trials, n, 400))
        for s in range(0, n, chunk):
            self._shared_conv_stack(x[s:s + chunk], weights, h1, flat[:, s:s + chunk])
        features = self.fc[1].forward(self.fc[0].forward(flat).relu_()).relu_()
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
            linear = self.fc[layer]
            grad_in = linear.input_grad(grad)
            if self._defer[layer]:
                linear.defer_update(grad, inputs[layer], lr=lr, capacity=self.window * b)
            else:
                linear.update_now(grad, inputs[layer], lr=lr)
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

        self._pending_steps += 1
        if self._pending_steps >= self.window:
            self.materialise()
        return logits, loss

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

    def load_pending_state(self, state: dict) -> None:
        """Restore what ``pending_state`` returned (tensors or arrays; {} = at a boundary), after
        ``params`` were set to the effective parameters."""
        self._pending_steps = int(state.get("steps", 0))
        for name, layer in self._deferred.items():
            layer.count = 0
            if self._pending_steps and f"{name}/base" in state:
                layer.weight.copy_(torch.as_tensor(state[f"{name}/base"], dtype=layer.weight.dtype))
                layer.set_pending(*(torch.as_tensor(state[f"{name}/{part}"], dtype=layer.weight.dtype)
                                    for part in ("grads", "inputs")))
            layer.keep_transposed()


"""A batched fully connected layer with deferred (lazy) low-rank SGD updates.

Why (fc1 of the LeNet kernel). With batch size B the SGD update of a fully
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
``_gemv``): MKL's column-wise gemv (g W0) is much slower on out-of-cache weights. The fold
is not free (a rank-p fold is the same arithmetic as p eager rank-1 updates, plus the
refresh of W0^T), nor are the corrections (four skinny products per step), so the gain
comes from the cheaper reads more than from the skipped writes. fc2 (4 MB) gains nothing
measurable and stays eager.

The pending count is part of the state: windows are counted from iteration 0 and a
checkpoint saves W0 plus U, V, so neither the split of training into ``train(n)`` calls
nor a resume changes a single bit. The effective weights differ from those of eager
updates only by float rounding (the same products, summed in another order).
"""

from __future__ import annotations

import torch


def _gemv(matrix: torch.Tensor, rows: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """rows (R, N, k) @ matrix^T (+ bias (R, 1, m)) for matrix (R, m, k) -> (R, N, m), a transposed view.

    Computed as matrix @ rows^T, so that the inner loop runs along the contiguous rows of
    ``matrix``: with fc1 out of cache (19 MB at R = 100) that is faster than
    rows @ matrix^T, which MKL streams column by column. (Contiguous when N = 1.)
    """
    cols = rows.transpose(1, 2)  # (R, k, N)
    if cols.shape[2] == 1:
        # Same numbers, but the unit axis gets stride k: with stride 1 there (which the input
        # gradient from the layer above has), ATen's bmm takes a much slower path (torch 2.14, CPU).
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

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        self.weight, self.bias = weight, bias
        self.weight_t: torch.Tensor | None = None
        self.grads: torch.Tensor | None = None
        self.inputs: torch.Tensor | None = None
        self.count = 0

    def pending(self) -> tuple[torch.Tensor, torch.Tensor]:
        """U (R, count, out) and V (R, count, in), views of the pending rows."""
        if self.grads is None or self.inputs is None:  # no row recorded yet: nothing pending
            r, out, inp = self.weight.shape
            return self.weight.new_empty((r, 0, out)), self.weight.new_empty((r, 0, inp))
        return self.grads[:, : self.count], self.inputs[:, : self.count]

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
        if self.grads is None or self.inputs is None or self.grads.shape[1] < self.count + b:
            grads, inputs = self._grow(max(capacity, self.count + b))
        else:
            grads, inputs = self.grads, self.inputs
        torch.mul(g, lr, out=grads[:, self.count : self.count + b])
        inputs[:, self.count : self.count + b].copy_(h)
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
        rows, columns = self._grow(grads.shape[1])
        rows[:, : grads.shape[1]].copy_(grads)
        columns[:, : inputs.shape[1]].copy_(inputs)
        self.count = grads.shape[1]

    def _grow(self, capacity: int) -> tuple[torch.Tensor, torch.Tensor]:
        """New row buffers of ``capacity`` rows holding the pending ones; they become ``grads``, ``inputs``."""
        r, out, inp = self.weight.shape
        grads, inputs = self.weight.new_empty((r, capacity, out)), self.weight.new_empty((r, capacity, inp))
        if self.count:
            old_grads, old_inputs = self.pending()
            grads[:, : self.count].copy_(old_grads)
            inputs[:, : self.count].copy_(old_inputs)
        self.grads, self.inputs = grads, inputs
        return grads, inputs

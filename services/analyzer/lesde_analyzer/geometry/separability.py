"""Exact linear separability of point clouds (not a classifier's accuracy).

Two finite clouds ``X`` and ``Y`` in ``R^p`` are (strictly) linearly separable iff some
``(w, b)`` has ``w.x - b >= 1`` on ``X`` and ``w.y - b <= -1`` on ``Y`` (scale any strict
separator). Tests used here:

* ``p = 1``: ``max X < min Y`` or ``max Y < min X`` (exact, vectorised).
* :func:`linearly_separable`: the feasibility LP above (``scipy.optimize.linprog``, HiGHS).
* Batches (:func:`pairwise_separable`): a cheap exact *accept* first (the projections on the
  mean difference and on the Fisher direction separate by min/max), then one sparse LP per
  chunk of undecided pairs minimising the total hinge slack
  ``sum s_i`` s.t. ``w.x_i - b >= 1 - s_i``, ``w.y_j - b <= -1 + s_j``, ``s >= 0``. The
  blocks are independent, so the optimum is the sum of per-pair optima; a pair is separable
  iff its optimum is 0, and when it is not separable its optimum is at least 2 (if the hulls
  meet at ``z = sum lambda_i x_i = sum mu_j y_j`` then ``2 <= sum lambda_i s_i + sum mu_j s_j``),
  so the threshold 1 is robust. Each pair is centred and scaled first (separability is
  affine invariant), which keeps the LP well conditioned for grown features.
  The batches solve the LP dual of that problem, which has the same optimum (strong
  duality; it is feasible at ``u = 0`` and bounded):
  ``max sum u`` s.t. ``sum_i u_i x_i = sum_j u_j y_j``, ``sum_i u_i = sum_j u_j``,
  ``0 <= u <= 1``. It has ``p + 1`` equality rows per pair instead of ``n1 + n2``
  inequality rows, which HiGHS solves faster; the primal stays as the reference.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.optimize import linprog

from .._validation import as_float_array
from ..errors import InvalidArgument

__all__ = ["linearly_separable", "pairwise_separable", "separable_fraction"]

#: maximum number of pair problems per batched LP
LP_CHUNK = 256


def linearly_separable(X: ArrayLike, Y: ArrayLike) -> bool:
    """Exact test whether two point clouds are strictly linearly separable.

    Parameters
    ----------
    X : array_like of shape (n1, p)
    Y : array_like of shape (n2, p)

    Returns
    -------
    bool

    Examples
    --------
    >>> linearly_separable([[0, 0], [1, 0]], [[0, 1], [1, 1]])
    True
    >>> linearly_separable([[0, 0], [1, 1]], [[0, 1], [1, 0]])  # XOR
    False
    """
    X = as_float_array(X, "X", ndim=2)
    Y = as_float_array(Y, "Y", ndim=2)
    if X.shape[1] != Y.shape[1] or X.shape[0] < 1 or Y.shape[0] < 1:
        raise InvalidArgument("Y", f"must have shape (n2 >= 1, p) with the p of X {X.shape}; got {Y.shape}")
    p = X.shape[1]
    if p == 1:
        return bool(X.max() < Y.min() or Y.max() < X.min())
    c = np.concatenate([X, Y])
    center, scale = c.mean(axis=0), c.std() or 1.0
    Xs, Ys = (X - center) / scale, (Y - center) / scale
    # variables (w, b); rows: -(w.x - b) <= -1 and (w.y - b) <= -1
    A = np.vstack([np.hstack([-Xs, np.ones((Xs.shape[0], 1))]), np.hstack([Ys, -np.ones((Ys.shape[0], 1))])])
    res = linprog(np.zeros(p + 1), A_ub=A, b_ub=-np.ones(A.shape[0]), bounds=[(None, None)] * (p + 1), method="highs")
    return bool(res.status == 0)


def _projection_accept(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Exact accept (never a false positive): min/max on two candidate directions. (B,) bool."""
    mx, my = X.mean(axis=1), Y.mean(axis=1)
    u = my - mx  # (B, p)
    ok = _gap(X, Y, u)
    if X.shape[2] > 1 and not ok.all():
        cx, cy = X - mx[:, None], Y - my[:, None]
        Sw = np.einsum("bni,bnj->bij", cx, cx) + np.einsum("bni,bnj->bij", cy, cy)
        Sw += 1e-9 * np.trace(Sw, axis1=1, axis2=2)[:, None, None] * np.eye(X.shape[2]) + 1e-300 * np.eye(X.shape[2])
        v = np.linalg.solve(Sw, u[..., None])[..., 0]
        ok |= _gap(X, Y, v)
    return ok


def _gap(X: np.ndarray, Y: np.ndarray, u: np.ndarray) -> np.ndarray:
    px = np.einsum("bnp,bp->bn", X, u)
    py = np.einsum("bnp,bp->bn", Y, u)
    return (px.max(axis=1) < py.min(axis=1)) | (py.max(axis=1) < px.min(axis=1))


def _hinge_lp(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Batched exact test by total hinge slack (module docstring). X (B, n1, p), Y (B, n2, p) -> (B,) bool."""
    B, n1, p = X.shape
    n2 = Y.shape[1]
    N = n1 + n2
    pts = _normalised_pairs(X, Y)
    sign = np.concatenate([-np.ones(n1), np.ones(n2)])  # -(w.x - b) <= -1 + s ; (w.y - b) <= -1 + s
    rows = np.arange(B * N).reshape(B, N)
    nw = p + 1
    # w entries
    r_w = np.repeat(rows[:, :, None], p, axis=2)
    c_w = (np.arange(B)[:, None, None] * nw + np.arange(p)[None, None, :]) + np.zeros((1, N, 1), int)
    v_w = pts * sign[None, :, None]
    # bias entries
    r_b = rows
    c_b = np.repeat((np.arange(B) * nw + p)[:, None], N, axis=1)
    v_b = np.broadcast_to(-sign[None, :], (B, N))
    # slack entries
    r_s = rows
    c_s = B * nw + rows
    v_s = -np.ones((B, N))
    r = np.concatenate([r_w.ravel(), r_b.ravel(), r_s.ravel()])
    c = np.concatenate([c_w.ravel(), c_b.ravel(), c_s.ravel()])
    v = np.concatenate([v_w.ravel(), v_b.ravel(), v_s.ravel()])
    nvar = B * nw + B * N
    A = sp.csr_matrix((v, (r, c)), shape=(B * N, nvar))
    cost = np.concatenate([np.zeros(B * nw), np.ones(B * N)])
    lb = np.concatenate([np.full(B * nw, -np.inf), np.zeros(B * N)])
    ub = np.full(nvar, np.inf)
    res = linprog(cost, A_ub=A, b_ub=-np.ones(B * N), bounds=np.stack([lb, ub], axis=1), method="highs")
    if res.status != 0:  # pragma: no cover - the problem is always feasible and bounded
        raise RuntimeError(f"separability LP failed: {res.message}")
    slack = res.x[B * nw :].reshape(B, N).sum(axis=1)
    return slack < 1.0


def _normalised_pairs(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Pooled points of each pair, centred and scaled (separability is affine invariant). (B, n1 + n2, p)."""
    pts = np.concatenate([X, Y], axis=1)
    pts = pts - pts.mean(axis=1, keepdims=True)
    s = pts.reshape(pts.shape[0], -1).std(axis=1)
    return pts / np.where(s > 0, s, 1.0)[:, None, None]


def _hinge_dual_lp(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Batched exact test by the dual of the total hinge slack (module docstring). (B,) bool."""
    B, n1, p = X.shape
    N = n1 + Y.shape[1]
    pts = _normalised_pairs(X, Y)
    sign = np.concatenate([np.ones(n1), -np.ones(N - n1)])
    # per pair, rows: p coordinates of sum_X u x - sum_Y u y, then sum_X u - sum_Y u; columns: u of its N points
    vals = np.concatenate([pts, np.ones((B, N, 1))], axis=2) * sign[None, :, None]  # (B, N, p + 1)
    rows = np.arange(B)[:, None, None] * (p + 1) + np.arange(p + 1)[None, None, :] + np.zeros((1, N, 1), int)
    cols = np.arange(B * N).reshape(B, N)[:, :, None] + np.zeros((1, 1, p + 1), int)
    A = sp.csr_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(B * (p + 1), B * N))
    res = linprog(-np.ones(B * N), A_eq=A, b_eq=np.zeros(B * (p + 1)), bounds=(0, 1), method="highs")
    if res.status != 0:  # pragma: no cover - feasible at u = 0 and bounded by the box
        raise RuntimeError(f"separability LP failed: {res.message}")
    return res.x.reshape(B, N).sum(axis=1) < 1.0


def _pairs_separable(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """X (B, n1, p), Y (B, n2, p) -> (B,) bool, exact."""
    if X.shape[2] == 1:
        return (X.max(axis=(1, 2)) < Y.min(axis=(1, 2))) | (Y.max(axis=(1, 2)) < X.min(axis=(1, 2)))
    ok = _projection_accept(X, Y)
    todo = np.flatnonzero(~ok)
    for start in range(0, todo.size, LP_CHUNK):
        idx = todo[start : start + LP_CHUNK]
        ok[idx] = _batch_lp(X[idx], Y[idx])
    return ok


def _batch_lp(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The batched dual LP, falling back to the primal and then to one LP per pair.

    HiGHS can give up (status 'Unknown') on a large batch of nearly degenerate pairs,
    e.g. clouds a few 1e-7 wide after normalisation, although each pair alone solves:
    the answer must not depend on which pairs happen to share a batch.
    """
    for solve in (_hinge_dual_lp, _hinge_lp):
        try:
            return solve(X, Y)
        except RuntimeError:
            continue
    return np.array([linearly_separable(x, y) for x, y in zip(X, Y)])


def pairwise_separable(samples: ArrayLike) -> np.ndarray:
    """Whether all classes of each run are pairwise linearly separable (exact).

    Parameters
    ----------
    samples : array_like of shape (runs, K, n, p)
        Features per run, class and sample.

    Returns
    -------
    separable : ndarray of shape (runs,), bool
        True where every pair of classes ``k < l`` is strictly linearly separable.

    Examples
    --------
    Run 0 splits its classes by the second coordinate; run 1 is XOR:

    >>> samples = np.array([
    ...     [[[0, 0], [1, 0]], [[0, 1], [1, 1]]],
    ...     [[[0, 0], [1, 1]], [[0, 1], [1, 0]]],
    ... ], dtype=float)
    >>> pairwise_separable(samples)
    array([ True, False])
    """
    x = as_float_array(samples, "samples", ndim=4)
    runs, K, n, p = x.shape
    if K < 2 or n < 1:
        raise InvalidArgument("samples", f"must have shape (runs, K >= 2, n >= 1, p); got {x.shape}")
    alive = np.ones(runs, bool)
    for k in range(K):
        for j in range(k + 1, K):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                return alive
            alive[idx] = _pairs_separable(x[idx, k], x[idx, j])
    return alive


def separable_fraction(samples: ArrayLike) -> float:
    """Fraction of runs whose classes are all pairwise linearly separable.

    Parameters
    ----------
    samples : array_like of shape (runs, K, n, p)

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> samples = np.array([
    ...     [[[0, 0], [1, 0]], [[0, 1], [1, 1]]],
    ...     [[[0, 0], [1, 1]], [[0, 1], [1, 0]]],
    ... ], dtype=float)
    >>> separable_fraction(samples)
    0.5
    """
    return float(pairwise_separable(samples).mean())

"""Exact LE-ODE propagation for rates held constant on each record interval.

Records lie at times ``t_i = t_0 + i h`` (iterations); on ``[t_i, t_i + h]`` the rates are
``alpha_i``, ``beta_i`` (per iteration). With the rates constant, the LE-ODE (eq. 6) is a
constant linear system on the interval and its solution is a matrix exponential; both
models have fixed eigenvectors, so the exponential is a few scalar exponentials.

**I-model** (``H = I``, any ``p``). With ``c_0 = mean_k Xbar^k`` and
``c_k = Xbar^k - c_0``, ``c_0' = mu_0 c_0`` and ``c_k' = mu_1 c_k`` with
``mu_0 = (alpha + (K-1) beta)/K`` and ``mu_1 = (alpha - beta)/K`` (eq. 7), so

    Xbar(t_i) = e^{M_0(i)} P_mean Xbar(t_0) + e^{M_1(i)} P_diff Xbar(t_0),
    M(i) = h sum_{j<i} mu_j.

**L-model** (``H_l = d_l d_l^T / |d_l|^2``, ``d_l = e_l - 1/K``, ``p = K``). With
``y_k = d_k . Xbar^k / |d_k|^2``, ``ybar = mean_k y_k``, ``q_k = y_k - ybar`` and the
vector ``q = (q_1..q_K)``, using ``sum_l d_l = 0``, ``sum_l q_l d_l = q`` and
``q . d_k = q_k``:

    dXbar^k/dt = d_k (lambda_1 ybar + lambda_2 q_k) + (beta/K) r_k,
    lambda_1 = (alpha - beta)/K,  lambda_2 = (alpha + beta/(K-1))/K,
    r_k = q - K/(K-1) q_k d_k   (the part of q orthogonal to d_k).

Hence ``ybar`` (the mode ``S = sum_k y_k``) grows at ``lambda_1``, every ``q_k`` at
``lambda_2``, so does ``r_k``, and the component of ``Xbar^k`` outside ``span(d_k, r_k)``
never moves. On one interval the exact increment is

    d_k (ybar expm1(lambda_1 h) + q_k expm1(lambda_2 h)) + (beta h / K) phi1(lambda_2 h) r_k,

``phi1(z) = expm1(z)/z`` (1 at 0). Replacing the rates by ``alpha~, beta~`` with
``(alpha~ - beta~)/K = expm1(lambda_1 h)/h`` and ``(alpha~ + beta~/(K-1))/K =
expm1(lambda_2 h)/h`` in a forward-Euler step makes the ``d_k`` part exact but leaves the
``r_k`` part first order; the ``phi1`` factor makes it exact too. Summed over intervals,

    Xbar^k(t_i) = (I - P_k) Xbar^k(t_0) + d_k (G_i ybar_0 + F_i q_k0) + J_i r_k0,
    G_i = e^{h sum_{j<i} lambda_1j},  F_i = e^{h sum_{j<i} lambda_2j},
    J_i = sum_{j<i} (beta_j h / K) phi1(lambda_2j h) F_j,

with ``P_k`` the projection onto ``d_k``. In both models ``Xbar(t_i) = sum_n c_n(i) E_n
Xbar(t_0)`` for a few fixed matrices ``E_n`` and scalar series ``c_n``, so an ensemble of
initial states maps exactly: its mean to ``sum_n c_n E_n m_0`` and its covariance to
``Phi_i C_0 Phi_i^T``; the per-entry variance is ``sum_{n,m} c_n c_m Q_nm`` with
``Q_nm = diag(E_n C_0 E_m^T)``, whatever the number of runs.

The flow is a group, so the same matrices carry a record to any other record, earlier or
later (:func:`transport_to`): from record ``i`` to record ``c`` the coefficients are
``e^{M(c) - M(i)}`` (I-model) or ``1, G_c/G_i, F_c/F_i, (J_c - J_i)/F_i`` (L-model).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_choice, check_int, check_real
from ..errors import InvalidArgument
from .ensemble import EnsembleStats

__all__ = ["phi1", "mode_rates", "exact_coefficients", "transport_to", "exact_moments", "exact_runs"]


def phi1(z: ArrayLike) -> np.ndarray:
    """``expm1(z) / z`` with the limit 1 at ``z = 0`` (stable near 0).

    Parameters
    ----------
    z : array_like of any shape

    Returns
    -------
    ndarray of the shape of ``z``

    Examples
    --------
    >>> phi1([0.0, 1.0, -1e-12])
    array([1.        , 1.71828183, 1.        ])
    """
    z = np.asarray(z, dtype=np.float64)
    small = np.abs(z) < 1e-10
    # below 1e-10 the series 1 + z/2 is exact to rounding; the division would be 0/0 at z = 0
    return np.where(small, 1.0 + z / 2.0, np.expm1(z) / np.where(small, 1.0, z))


def mode_rates(alpha: np.ndarray, beta: np.ndarray, *, K: int, model: str) -> tuple[np.ndarray, np.ndarray]:
    """The two eigenvalue series of the drift matrix.

    Parameters
    ----------
    alpha, beta : ndarray of shape (T,)
    K : int
    model : {'I', 'L'}

    Returns
    -------
    first, second : ndarray of shape (T,)
        I-model: ``(alpha + (K-1) beta)/K`` (the class average ``c_0``) and
        ``(alpha - beta)/K`` (the differences ``c_k``). L-model: ``lambda_1 = (alpha - beta)/K``
        (the ``S`` mode) and ``lambda_2 = (alpha + beta/(K-1))/K`` (the ``q`` modes).
    """
    if model == "I":
        return (alpha + (K - 1) * beta) / K, (alpha - beta) / K
    return (alpha - beta) / K, (alpha + beta / (K - 1)) / K


def _basis(K: int, p: int, model: str) -> np.ndarray:
    """The fixed matrices ``E_n`` of the module docstring, shape (n, K p, K p), class-major."""
    P1 = np.full((K, K), 1.0 / K)
    P2 = np.eye(K) - P1
    if model == "I":
        Ip = np.eye(p)
        return np.stack([np.kron(P1, Ip), np.kron(P2, Ip)])
    d = np.eye(K) - 1.0 / K
    dd = (K - 1) / K
    Y = np.zeros((K, K * K))  # x -> y
    D = np.zeros((K * K, K))  # y -> (d_k y_k)_k
    for k in range(K):
        Y[k, k * K : (k + 1) * K] = d[k] / dd
        D[k * K : (k + 1) * K, k] = d[k]
    U = np.tile(np.eye(K), (K, 1))  # a K-vector copied to every class
    still = np.eye(K * K) - D @ Y  # (I - P_k) on every class
    r = U @ P2 @ Y - (K / (K - 1)) * D @ P2 @ Y  # x -> r_k of every class
    return np.stack([still, D @ P1 @ Y, D @ P2 @ Y, r])


def exact_coefficients(alpha: np.ndarray, beta: np.ndarray, *, K: int, step: float, model: str) -> np.ndarray:
    """The scalar series ``c_n(i)`` of the module docstring.

    Parameters
    ----------
    alpha, beta : ndarray of shape (T,)
        Rates per iteration; interval ``i`` (from record ``i`` to ``i+1``) uses entry ``i``,
        the last entry is not used.
    K : int
    step : float
        ``h``, iterations between records.
    model : {'I', 'L'}

    Returns
    -------
    c : ndarray of shape (T, 2) (I-model: ``e^{M_0}, e^{M_1}``) or (T, 4) (L-model:
        ``1, G, F, J``); row 0 is the identity map.
    """
    return _coefficients_to(alpha, beta, K=K, step=step, model=model, target=None)


def _coefficients_to(alpha: np.ndarray, beta: np.ndarray, *, K: int, step: float, model: str, target: int | None) -> np.ndarray:
    """``c_n`` from record 0 to every record (``target`` None), or from every record to ``target``; (T, n)."""
    lam1, lam2 = mode_rates(alpha[:-1], beta[:-1], K=K, model=model)
    T = alpha.size
    L1 = np.concatenate(([0.0], np.cumsum(lam1 * step)))
    L2 = np.concatenate(([0.0], np.cumsum(lam2 * step)))
    kick = beta[:-1] * step / K * phi1(lam2 * step)  # (T-1,): r_k gained per interval, per unit F
    if target is None:
        G, F = np.exp(L1), np.exp(L2)
        J = np.concatenate(([0.0], np.cumsum(kick * F[:-1])))
    else:
        # exponents relative to the target, so that no exponential is taken of more than the
        # growth between a record and the target: here F_i means F_c / F_i, and the sum is
        # J_i / F_c, giving (J_c - J_i) / F_i = (J_c/F_c - J_i/F_c) F_c / F_i
        G, F = np.exp(L1[target] - L1), np.exp(L2[target] - L2)
        J = np.concatenate(([0.0], np.cumsum(kick / F[:-1])))
        J = (J[target] - J) * F
    if model == "I":
        return np.stack([G, F], axis=1)
    return np.stack([np.ones(T), G, F, J], axis=1)


def transport_to(alpha: ArrayLike, beta: ArrayLike, x: ArrayLike, *, target: int, step: float = 1.0, model: str = "L") -> np.ndarray:
    """Every record carried by the exact flow to record ``target`` (back in time for later records).

    For records of an exact LE-ODE with these rates every row of the result is the state at
    ``target``; for noisy records, that state plus each record's noise mapped by the flow.

    Parameters
    ----------
    alpha, beta : array_like of shape (T,)
        Rates per iteration; interval ``i`` (from record ``i`` to ``i+1``) uses entry ``i``.
    x : array_like of shape (T, K, p)
        States at the records (``p = K`` for the L-model). A record with a non-finite entry
        comes back non-finite.
    target : int
        Record index in ``[0, T)``.
    step : float
        Iterations between records, ``h > 0``.
    model : {'I', 'L'}

    Returns
    -------
    ndarray of shape (T, K, p)

    Examples
    --------
    Records of the exact LE-ODE (here its closed form) all carry back to the first:

    >>> from lesde_analyzer.dynamics import l_model_solution
    >>> t = np.arange(4.0)
    >>> x = l_model_solution(0.3 * t, 0.1 * t, np.diag([2.0, 1.0, 1.0]))
    >>> carried = transport_to(np.full(4, 0.3), np.full(4, 0.1), x, target=0)
    >>> bool(np.allclose(carried, x[0]))
    True
    """
    x = as_float_array(x, "x", ndim=3, finite=False)
    T, K, p = x.shape
    a, b, h, model = _check(alpha, beta, step, model, K, p)
    if a.size != T:
        raise InvalidArgument("x", f"needs one record per rate, shape ({a.size}, K, p); got {x.shape}")
    c = check_int(target, "target", low=0, high=T - 1)
    coef = _coefficients_to(a, b, K=K, step=h, model=model, target=c)  # (T, n)
    E = _basis(K, p, model)  # (n, Kp, Kp)
    parts = np.einsum("nab,tb->tna", E, x.reshape(T, K * p))  # (T, n, Kp): each E_n x_t
    return np.einsum("tn,tna->ta", coef, parts).reshape(T, K, p)


def _check(alpha: ArrayLike, beta: ArrayLike, step: float, model: str, K: int, p: int) -> tuple[np.ndarray, np.ndarray, float, str]:
    a = as_float_array(alpha, "alpha", ndim=1)
    b = as_float_array(beta, "beta", ndim=1)
    if a.size < 1 or b.shape != a.shape:
        raise InvalidArgument("beta", f"must have the shape of alpha (T,) with T >= 1; got {a.shape} and {b.shape}")
    h = check_real(step, "step", low=0.0, low_open=True)
    model = check_choice(model, "model", ("I", "L"))
    if K < 2 or (model == "L" and p != K):
        raise InvalidArgument("x0", f"needs K >= 2 classes (and p = K for the L-model); got K = {K}, p = {p}")
    return a, b, h, model


def _stats(c: np.ndarray, E: np.ndarray, m0: np.ndarray, Q: np.ndarray, shape: tuple[int, int], runs: int | None) -> EnsembleStats:
    T, n = c.shape
    mean = c @ (E @ m0)  # (T, d)
    var = (c[:, :, None] * c[:, None, :]).reshape(T, n * n) @ Q.reshape(n * n, -1)
    # rounding can leave a tiny negative variance where the true one is 0
    std = np.sqrt(np.maximum(var, 0.0))
    return EnsembleStats(mean=mean.reshape((T,) + shape), std=std.reshape((T,) + shape), runs=runs)


def exact_moments(
    alpha: ArrayLike, beta: ArrayLike, mean0: ArrayLike, *, se: ArrayLike | None = None, step: float = 1.0, model: str = "L"
) -> EnsembleStats:
    """Mean and std of the exact ensemble started from ``N(mean0^k, se_k^2 I)`` per class.

    The mean is the deterministic solution from ``mean0`` (no Monte-Carlo noise); the std is
    the exactly propagated spread (the population std of infinitely many runs).

    Parameters
    ----------
    alpha, beta : array_like of shape (T,)
        Rates per iteration at the records (see :func:`exact_coefficients`).
    mean0 : array_like of shape (K, p)
        Initial class means (``p = K`` for the L-model).
    se : array_like of shape (K,), optional
        Per-class standard deviation of the initial states (default 0: no spread).
    step : float
        Iterations between records, ``h > 0``.
    model : {'I', 'L'}

    Returns
    -------
    EnsembleStats
        ``mean``, ``std`` of shape (T, K, p); ``runs`` is None (exact distribution).

    Examples
    --------
    I-model, classes at ``+-1`` with ``alpha = 1``, ``beta = 1/2``: the mean grows as
    ``e^{t/4}`` (``e^{0.25} = 1.284``, ``e^{0.5} = 1.6487``); the spread of the start grows with it:

    >>> stats = exact_moments(np.ones(3), np.full(3, 0.5), [[1.0], [-1.0]], se=[0.1, 0.1], model="I")
    >>> np.round(stats.mean[:, :, 0], 4)
    array([[ 1.    , -1.    ],
           [ 1.284 , -1.284 ],
           [ 1.6487, -1.6487]])
    >>> np.round(stats.std[:, 0, 0], 4), stats.runs
    (array([0.1   , 0.1751, 0.3377]), None)

    The L-model mean is its closed form (:func:`~lesde_analyzer.dynamics.l_model_solution`):

    >>> from lesde_analyzer.dynamics import l_model_solution
    >>> t = np.arange(3.0)
    >>> stats = exact_moments(np.full(3, 0.3), np.full(3, 0.1), np.diag([2.0, 1.0, 1.0]))
    >>> bool(np.allclose(stats.mean, l_model_solution(0.3 * t, 0.1 * t, np.diag([2.0, 1.0, 1.0]))))
    True
    """
    m0 = as_float_array(mean0, "mean0", ndim=2)
    K, p = m0.shape
    a, b, h, model = _check(alpha, beta, step, model, K, p)
    s = np.zeros(K) if se is None else as_float_array(se, "se", ndim=1)
    if s.shape != (K,) or np.any(s < 0):
        raise InvalidArgument("se", f"must be {K} non-negative numbers; got {s}")
    E = _basis(K, p, model)
    v = np.repeat(s**2, p)  # diagonal initial covariance, class-major
    Q = np.einsum("iab,b,jab->ija", E, v, E)
    return _stats(exact_coefficients(a, b, K=K, step=h, model=model), E, m0.reshape(-1), Q, (K, p), None)


def exact_runs(alpha: ArrayLike, beta: ArrayLike, x0: ArrayLike, *, step: float = 1.0, model: str = "L") -> EnsembleStats:
    """Sample mean and std (ddof 0) over given runs, each propagated exactly.

    Equal to :func:`naive_exact_loop` followed by ``mean``/``std`` over runs, up to rounding,
    at the cost of a few length-T series whatever the number of runs.

    Parameters
    ----------
    alpha, beta : array_like of shape (T,)
    x0 : array_like of shape (runs, K, p)
        Initial class means per run.
    step : float
    model : {'I', 'L'}

    Returns
    -------
    EnsembleStats
        ``mean``, ``std`` of shape (T, K, p).

    Examples
    --------
    >>> from lesde_analyzer.imitation import initial_states
    >>> alpha, beta = np.full(3, 0.3), np.full(3, 0.1)
    >>> x0 = initial_states([1.0, 1.0, 1.0], runs=50, seed=1)
    >>> stats = exact_runs(alpha, beta, x0)
    >>> stats.mean.shape, stats.runs
    ((3, 3, 3), 50)
    >>> loop = naive_exact_loop(alpha, beta, x0)  # (T, runs, K, p)
    >>> bool(np.allclose(stats.mean, loop.mean(axis=1))), bool(np.allclose(stats.std, loop.std(axis=1)))
    (True, True)
    """
    x0 = as_float_array(x0, "x0", ndim=3)
    runs, K, p = x0.shape
    a, b, h, model = _check(alpha, beta, step, model, K, p)
    E = _basis(K, p, model)
    flat = x0.reshape(runs, K * p)
    m0 = flat.mean(axis=0)
    Z = np.einsum("iab,rb->ira", E, flat - m0)  # deviations mapped by each E_n
    Q = np.einsum("ira,jra->ija", Z, Z) / runs
    return _stats(exact_coefficients(a, b, K=K, step=h, model=model), E, m0, Q, (K, p), runs)


def naive_exact_loop(alpha: ArrayLike, beta: ArrayLike, x0: ArrayLike, *, step: float = 1.0, model: str = "L") -> np.ndarray:
    """Reference: a Python loop over runs and intervals taking the exact step (numpy per step).

    Not part of the API: the tests and ``bench/leode.py`` check :func:`exact_runs` against it.

    Parameters
    ----------
    alpha, beta : array_like of shape (T,)
    x0 : array_like of shape (runs, K, p)
    step : float
    model : {'I', 'L'}

    Returns
    -------
    traj : ndarray of shape (T, runs, K, p)
    """
    x0 = as_float_array(x0, "x0", ndim=3)
    runs, K, p = x0.shape
    a, b, h, model = _check(alpha, beta, step, model, K, p)
    d = np.eye(K) - 1.0 / K
    dd = (K - 1) / K
    T = a.size
    lam1, lam2 = mode_rates(a, b, K=K, model=model)
    g1, g2 = np.expm1(lam1 * h), np.expm1(lam2 * h)  # per-interval growth - 1 of each mode
    side = b * h / K * phi1(lam2 * h)  # per-interval factor of r_k (L-model)
    out = np.empty((T, runs, K, p))
    for r in range(runs):
        x = x0[r].copy()
        out[0, r] = x
        for i in range(T - 1):
            if model == "I":
                c0 = x.mean(axis=0)
                x = x + c0 * g1[i] + (x - c0) * g2[i]
            else:
                y = np.einsum("kj,kj->k", d, x) / dd
                q = y - y.mean()
                x = x + d * (y.mean() * g1[i] + q * g2[i])[:, None] + side[i] * (q[None, :] - q[:, None] * d / dd)
            out[i + 1, r] = x
    return out

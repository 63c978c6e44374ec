"""Simulators of the LE dynamics, vectorised over independent runs.

* :func:`simulate_discrete`: the SGD-like discrete model (eq. 1 / eq. 4),
* :func:`simulate_sde`: the LE-SDE (eq. 2 / eq. 5) by Euler-Maruyama,
* :func:`simulate_ode`: the LE-ODE (eq. 6) for the class means (forward Euler or RK4).

Time is ``t = m * step`` at step ``m``; the coefficients used on step ``m`` are
``alpha(t_m)``, ``beta(t_m)`` (left end point). States are recorded at steps
``0, N, 2N, ...`` and at the final step (``N = record_every``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from .._validation import as_float_array, check_choice, check_int, check_real
from ..errors import InvalidArgument
from .interaction import Model, class_transforms, drift, mixing_matrix, normalise_weights
from .schedules import Schedule, as_schedule

__all__ = [
    "Trajectory",
    "record_steps",
    "initial_samples",
    "simulate_discrete",
    "simulate_sde",
    "simulate_ode",
    "sample_records",
]

SeedLike = int | np.random.Generator | None


@dataclass(frozen=True)
class Trajectory:
    """Recorded states of a simulation.

    Attributes
    ----------
    times : ndarray of shape (R,)
        Recorded times ``m * step``.
    steps : ndarray of shape (R,)
        Recorded step indices ``m``.
    means : ndarray of shape (R, runs, K, p)
        Class means ``Xbar^k`` per run.
    samples : ndarray of shape (S, runs, K, n, p) or None
        All features at the records ``sample_index`` (``None`` for :func:`simulate_ode` or
        with ``keep_samples=False``).
    sample_index : ndarray of shape (S,) or None
        Indices into ``times`` of the records held in ``samples``.
    """

    times: np.ndarray
    steps: np.ndarray
    means: np.ndarray
    samples: np.ndarray | None = None
    sample_index: np.ndarray | None = None

    @property
    def sample_times(self) -> np.ndarray | None:
        """Times of the records in ``samples``, shape (S,)."""
        return None if self.sample_index is None else self.times[self.sample_index]


def record_steps(steps: int, record_every: int) -> np.ndarray:
    """Step indices recorded: ``0, N, 2N, ...`` plus ``steps`` itself. Shape (R,).

    Examples
    --------
    >>> record_steps(10, 4)
    array([ 0,  4,  8, 10])
    """
    rec = np.arange(0, steps + 1, record_every)
    if rec[-1] != steps:
        rec = np.append(rec, steps)
    return rec


def _rng(seed: SeedLike) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return np.random.default_rng(seed)
    raise InvalidArgument("seed", f"must be a non-negative int, a numpy Generator or None; got {seed!r}")


def initial_samples(runs: int, K: int, n: int, p: int, *, scale: float = 1.0, seed: SeedLike = None) -> np.ndarray:
    """I.i.d. ``N(0, scale^2)`` initial features, the same law for every class.

    Returns
    -------
    x0 : ndarray of shape (runs, K, n, p)

    Examples
    --------
    >>> x0 = initial_samples(2, 3, 4, 5, scale=0.5, seed=0)
    >>> x0.shape
    (2, 3, 4, 5)
    >>> bool(np.array_equal(x0, initial_samples(2, 3, 4, 5, scale=0.5, seed=0)))
    True
    """
    return scale * _rng(seed).standard_normal((runs, K, n, p))


class _Common(NamedTuple):
    """The validated options every simulator shares, and ``alpha``, ``beta`` at each step."""

    alpha: Schedule
    beta: Schedule
    model: Model
    h: float
    steps: int
    record_every: int
    H: np.ndarray  # (K, p, p)
    pi: np.ndarray  # (K,)
    a: np.ndarray  # (steps,)
    b: np.ndarray  # (steps,)


def _common(
    alpha: Schedule | float, beta: Schedule | float, model: Model, weights: ArrayLike | None, step: float, steps: int,
    record_every: int, K: int, p: int,
) -> _Common:  # fmt: skip
    alpha_s = as_schedule(alpha, "alpha")
    beta_s = as_schedule(beta, "beta")
    model_c: Model = check_choice(model, "model", ("I", "L"))
    h = check_real(step, "step", low=0.0, low_open=True)
    n_steps = check_int(steps, "steps", low=1)
    every = check_int(record_every, "record_every", low=1)
    H = class_transforms(model_c, K, p)
    pi = normalise_weights(weights, K)
    m = np.arange(n_steps)
    a, b = alpha_s.at_steps(m, h), beta_s.at_steps(m, h)
    return _Common(alpha_s, beta_s, model_c, h, n_steps, every, H, pi, a, b)


def simulate_ode(
    xbar0: ArrayLike,
    *,
    alpha: Schedule | float,
    beta: Schedule | float,
    model: Model = "I",
    step: float,
    steps: int,
    weights: ArrayLike | None = None,
    record_every: int = 1,
    method: str = "euler",
) -> Trajectory:
    """Integrate the LE-ODE ``Xbar' = M(t) Xbar`` (eq. 6) for many initial conditions.

    Parameters
    ----------
    xbar0 : array_like of shape (runs, K, p)
        Initial class means per run.
    alpha, beta : Schedule or float
        Intra- and inter-class elasticity.
    model : {'I', 'L'}
        Transform ``H`` (the L-model needs ``p == K``).
    step : float
        Step length ``h > 0``.
    steps : int
        Number of steps.
    weights : array_like of shape (K,), optional
        Class sampling weights ``pi`` (normalised; default balanced ``1/K``).
    record_every : int
        Record every ``N`` steps (and the last).
    method : {'euler', 'rk4'}
        Forward Euler (``Xbar += h M(t_m) Xbar``) or classical RK4.

    Returns
    -------
    Trajectory
        ``means`` of shape (R, runs, K, p); ``samples`` is None.

    Examples
    --------
    Two classes at ``+-1``, ``alpha = 1``, ``beta = 0.5``: RK4 to ``t = 1`` gives the closed
    form ``+-e^{(alpha - beta) t / 2} = +-e^{0.25}`` (see :func:`i_model_solution`):

    >>> tr = simulate_ode([[[1.0], [-1.0]]], alpha=1.0, beta=0.5, step=0.01, steps=100, record_every=50, method="rk4")
    >>> tr.means.shape, tr.times
    ((3, 1, 2, 1), array([0. , 0.5, 1. ]))
    >>> np.round(tr.means[-1, 0, :, 0], 4)
    array([ 1.284, -1.284])
    """
    x = as_float_array(xbar0, "xbar0", ndim=3).copy()
    _, K, p = x.shape
    if K < 2:
        raise InvalidArgument("xbar0", f"needs K >= 2 classes on axis 1; got shape {x.shape}")
    alpha_s, beta_s, model, h, steps, record_every, H, pi, a, b = _common(alpha, beta, model, weights, step, steps, record_every, K, p)
    method = check_choice(method, "method", ("euler", "rk4"))
    ident = model == "I"
    rec = record_steps(steps, record_every)
    out = np.empty((rec.size,) + x.shape)
    out[0] = x
    j = 1
    if method == "rk4":
        t = np.arange(steps) * h
        a_mid, b_mid = alpha_s(t + h / 2), beta_s(t + h / 2)
        a_end, b_end = alpha_s(t + h), beta_s(t + h)
    for m in range(steps):
        if method == "euler":
            x += h * drift(x, mixing_matrix(a[m], b[m], pi), H, identity_h=ident)
        else:
            W0 = mixing_matrix(a[m], b[m], pi)
            W1 = mixing_matrix(a_mid[m], b_mid[m], pi)
            W2 = mixing_matrix(a_end[m], b_end[m], pi)
            k1 = drift(x, W0, H, identity_h=ident)
            k2 = drift(x + 0.5 * h * k1, W1, H, identity_h=ident)
            k3 = drift(x + 0.5 * h * k2, W1, H, identity_h=ident)
            k4 = drift(x + h * k3, W2, H, identity_h=ident)
            x += (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        if j < rec.size and m + 1 == rec[j]:
            out[j] = x
            j += 1
    return Trajectory(times=rec * h, steps=rec, means=out)


def _check_samples(x0: ArrayLike) -> np.ndarray:
    x = as_float_array(x0, "x0", ndim=4).copy()
    if x.shape[1] < 2 or x.shape[2] < 1:
        raise InvalidArgument("x0", f"must have shape (runs, K >= 2, n >= 1, p); got {x.shape}")
    return x


def sample_records(n_records: int, stride: int) -> np.ndarray:
    """Record indices kept with samples: every ``stride``-th record and the last. Shape (S,).

    Examples
    --------
    >>> sample_records(6, 2)
    array([0, 2, 4, 5])
    """
    idx = np.arange(0, n_records, stride)
    return idx if idx[-1] == n_records - 1 else np.append(idx, n_records - 1)


class _Recorder:
    """Stores means at every record and samples at every ``stride``-th record."""

    def __init__(self, x: np.ndarray, steps: int, record_every: int, keep_samples: bool, stride: int) -> None:
        self.rec = record_steps(steps, record_every)
        self.means = np.empty((self.rec.size,) + x.shape[:2] + x.shape[3:])
        stride = check_int(stride, "sample_stride", low=1)
        self.sample_index: np.ndarray | None = None
        self.samples: np.ndarray | None = None
        if keep_samples:
            self.sample_index = sample_records(self.rec.size, stride)
            self.samples = np.empty((self.sample_index.size,) + x.shape)
        self.j = 0
        self.s = 0
        self.store(x)

    def due(self, m_done: int) -> bool:
        return self.j < self.rec.size and m_done == self.rec[self.j]

    def store(self, x: np.ndarray) -> None:
        self.means[self.j] = x.mean(axis=2)
        kept = self.sample_index
        if self.samples is not None and kept is not None and self.s < kept.size and kept[self.s] == self.j:
            self.samples[self.s] = x
            self.s += 1
        self.j += 1

    def trajectory(self, h: float) -> Trajectory:
        return Trajectory(times=self.rec * h, steps=self.rec, means=self.means, samples=self.samples, sample_index=self.sample_index)


class _NoisyRun:
    """What the two noisy simulators share: the validated options, the features ``x`` (runs, K, n, p)
    moved in place, the Gaussian noise of each step and the recorder."""

    def __init__(self, x0: ArrayLike, *, alpha: Schedule | float, beta: Schedule | float, sigma: float, model: Model,
                 step: float, steps: int, weights: ArrayLike | None, record_every: int, seed: SeedLike,
                 keep_samples: bool, sample_stride: int) -> None:  # fmt: skip
        self.x = _check_samples(x0)
        _, K, _, p = self.x.shape
        _, _, self.model, self.h, self.steps, record_every, self.H, self.pi, self.a, self.b = _common(
            alpha, beta, model, weights, step, steps, record_every, K, p
        )
        sigma = check_real(sigma, "sigma", low=0.0)
        self.rng = _rng(seed)
        self._recorder = _Recorder(self.x, self.steps, record_every, keep_samples, sample_stride)
        self._noise = np.empty_like(self.x)
        self._scale = sigma * np.sqrt(self.h)

    def end_step(self, m: int) -> None:
        """After step ``m``'s drift: add its noise ``sigma sqrt(h) N(0, I)``, record if step ``m + 1`` is due."""
        if self._scale > 0:
            self.rng.standard_normal(out=self._noise)
            self.x += self._scale * self._noise
        if self._recorder.due(m + 1):
            self._recorder.store(self.x)

    def trajectory(self) -> Trajectory:
        return self._recorder.trajectory(self.h)


def simulate_sde(
    x0: ArrayLike, *, alpha: Schedule | float, beta: Schedule | float, sigma: float, model: Model = "I",
    step: float, steps: int, weights: ArrayLike | None = None, record_every: int = 1,
    seed: SeedLike = None, keep_samples: bool = True, sample_stride: int = 1,
) -> Trajectory:  # fmt: skip
    """Euler-Maruyama for the LE-SDE ``dX_i^k = sum_l pi_l E_kl H_kl Xbar^l dt + sigma dW_i^k``.

    Parameters
    ----------
    x0 : array_like of shape (runs, K, n, p)
        Initial features.
    alpha, beta : Schedule or float
    sigma : float
        Noise level (``>= 0``).
    model : {'I', 'L'}
    step : float
        ``h > 0``.
    steps : int
    weights : array_like of shape (K,), optional
        Class sampling weights ``pi``.
    record_every : int
    seed : int, numpy Generator or None
    keep_samples : bool
        Keep the features (else only the class means).
    sample_stride : int
        Keep the features at every ``sample_stride``-th record and the last.

    Returns
    -------
    Trajectory
        ``means`` (R, runs, K, p), ``samples`` (S, runs, K, n, p) or None.

    Examples
    --------
    Without noise the class means follow the LE-ODE by forward Euler:

    >>> x0 = initial_samples(3, 2, 4, 1, seed=0)
    >>> tr = simulate_sde(x0, alpha=1.0, beta=0.5, sigma=0.0, step=0.01, steps=20, record_every=10)
    >>> tr.means.shape, tr.samples.shape
    ((3, 3, 2, 1), (3, 3, 2, 4, 1))
    >>> ode = simulate_ode(x0.mean(axis=2), alpha=1.0, beta=0.5, step=0.01, steps=20, record_every=10)
    >>> bool(np.allclose(tr.means, ode.means))
    True
    >>> noisy = simulate_sde(x0, alpha=1.0, beta=0.5, sigma=1.0, step=0.01, steps=20, seed=1, keep_samples=False)
    >>> noisy.means.shape, noisy.samples is None
    ((21, 3, 2, 1), True)
    """
    run = _NoisyRun(x0, alpha=alpha, beta=beta, sigma=sigma, model=model, step=step, steps=steps, weights=weights,
                    record_every=record_every, seed=seed, keep_samples=keep_samples, sample_stride=sample_stride)  # fmt: skip
    x, h, ident = run.x, run.h, run.model == "I"
    for m in range(run.steps):
        xbar = x.mean(axis=2)
        x += h * drift(xbar, mixing_matrix(run.a[m], run.b[m], run.pi), run.H, identity_h=ident)[:, :, None, :]
        run.end_step(m)
    return run.trajectory()


def simulate_discrete(
    x0: ArrayLike, *, alpha: Schedule | float, beta: Schedule | float, sigma: float, model: Model = "I",
    step: float, steps: int, weights: ArrayLike | None = None, record_every: int = 1,
    seed: SeedLike = None, keep_samples: bool = True, sample_stride: int = 1,
) -> Trajectory:  # fmt: skip
    """The discrete LE dynamics (eq. 4), one sampled training point per step and run.

    At step ``m`` each run draws a class ``L ~ pi`` and a sample ``J ~ Unif[n]`` and every
    feature moves by ``X_i^k += h E_{k,L} H_{k,L} X_J^L + sqrt(h) zeta_i^k`` with
    ``zeta ~ N(0, sigma^2 I_p)``.

    The parameters and the returned :class:`Trajectory` are those of :func:`simulate_sde`
    (``x0`` of shape (runs, K, n, p); ``weights``, the class sampling probabilities ``pi``,
    default uniform).

    Examples
    --------
    With ``beta = 0`` a step moves only the sampled class, by ``h alpha`` times its sampled
    point, so a class whose points all sit at ``1`` grows by ``(1 + h alpha)`` each time it
    is drawn:

    >>> x0 = np.ones((1, 2, 3, 1))
    >>> tr = simulate_discrete(x0, alpha=1.0, beta=0.0, sigma=0.0, step=0.1, steps=5, seed=0)
    >>> tr.means.shape
    (6, 1, 2, 1)
    >>> draws = np.log(tr.means[-1, 0, :, 0]) / np.log(1.1)
    >>> int(np.round(draws).sum())
    5
    """
    run = _NoisyRun(x0, alpha=alpha, beta=beta, sigma=sigma, model=model, step=step, steps=steps, weights=weights,
                    record_every=record_every, seed=seed, keep_samples=keep_samples, sample_stride=sample_stride)  # fmt: skip
    x, h, rng = run.x, run.h, run.rng
    runs, K, n = int(x.shape[0]), int(x.shape[1]), int(x.shape[2])
    cum = np.cumsum(run.pi)
    cum[-1] = 1.0
    r_idx = np.arange(runs)
    k_idx = np.arange(K)
    for m in range(run.steps):
        L = np.searchsorted(cum, rng.random(runs), side="right")
        J = rng.integers(n, size=runs)
        src = x[r_idx, L, J]  # (runs, p)
        hx = src if run.model == "I" else np.einsum("rpq,rq->rp", run.H[L], src)
        coef = np.where(k_idx[None, :] == L[:, None], run.a[m], run.b[m])  # (runs, K)
        x += (h * coef)[:, :, None, None] * hx[:, None, None, :]
        run.end_step(m)
    return run.trajectory()

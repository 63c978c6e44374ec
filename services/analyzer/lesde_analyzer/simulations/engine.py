"""Run one spec'd simulation and reduce it to the per-record quantities the service reports."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from lesde_contract.specs.simulation import ArraySchedule, ConstantSchedule, PowerSchedule, SimulationSpec

from ..dynamics import Schedule, Trajectory, simulate_discrete, simulate_ode, simulate_sde
from ..dynamics.simulators import sample_records
from ..estimation import estimate_integrals
from ..geometry import etf_distance, pairwise_separable

__all__ = ["SimulationData", "simulate_spec", "MAX_SEPARABILITY_POINTS", "MAX_SNAPSHOT_FLOATS", "MAX_ESTIMATION_RUNS"]

#: records at which separability is evaluated when p > 1 (LPs); every record when p = 1
MAX_SEPARABILITY_POINTS = 26
#: cap on floats held in feature snapshots
MAX_SNAPSHOT_FLOATS = 25_000_000
#: runs whose class means are fed to the estimators (the median over them is reported)
MAX_ESTIMATION_RUNS = 64


@dataclass(frozen=True)
class SimulationData:
    """Arrays of one simulation.

    Attributes
    ----------
    trajectory : Trajectory
        ``means`` (R, runs, K, p); ``samples`` (S, runs, K, n, p) at ``sample_index``.
    separable : ndarray of shape (S, runs), bool
        All classes pairwise separable, per snapshot and run.
    etf : ndarray of shape (R, runs)
        ETF distance of the class means.
    A, B : ndarray of shape (R,)
        True integrals.
    A_hat, B_hat : ndarray of shape (R,)
        Median over (up to ``MAX_ESTIMATION_RUNS``) runs of the per-run estimates.
    """

    trajectory: Trajectory
    separable: np.ndarray
    etf: np.ndarray
    A: np.ndarray
    B: np.ndarray
    A_hat: np.ndarray
    B_hat: np.ndarray


def _schedule(spec: ConstantSchedule | PowerSchedule | ArraySchedule, *, step: float) -> Schedule:
    """The :class:`Schedule` a spec describes (array values are per step of length ``step``)."""
    if isinstance(spec, ConstantSchedule):
        return Schedule.constant(spec.value)
    if isinstance(spec, PowerSchedule):
        return Schedule.power(spec.scale, spec.exponent)
    return Schedule.array(spec.values, step=step)


def _stride(spec: SimulationSpec, n_records: int, *, final_only: bool) -> int:
    if final_only:
        return max(n_records - 1, 1)
    state = spec.runs * spec.classes * spec.samples_per_class * spec.p
    by_memory = max(1, MAX_SNAPSHOT_FLOATS // max(state, 1))
    points = n_records if spec.p == 1 else min(n_records, MAX_SEPARABILITY_POINTS)
    points = max(2, min(points, by_memory))
    return max(1, -(-(n_records - 1) // (points - 1)))


def simulate_spec(
    spec: SimulationSpec,
    *,
    alpha: Schedule | None = None,
    beta: Schedule | None = None,
    final_only: bool = False,
    estimate: bool = True,
) -> SimulationData:
    """Simulate ``spec`` (optionally with overriding schedules) and reduce it.

    Parameters
    ----------
    spec : SimulationSpec
    alpha, beta : Schedule, optional
        Override the spec's schedules (phase diagrams).
    final_only : bool
        Keep features only at the first and last record (phase diagrams).
    estimate : bool
        Compute ``A_hat``, ``B_hat`` (else NaN).

    Returns
    -------
    SimulationData
    """
    h = spec.step
    alpha = alpha if alpha is not None else _schedule(spec.alpha, step=h)
    beta = beta if beta is not None else _schedule(spec.beta, step=h)
    K, n, p = spec.classes, spec.samples_per_class, spec.p
    rng = np.random.default_rng(spec.seed)
    x0 = rng.standard_normal((spec.runs, K, n, p))
    n_records = spec.steps // spec.record_every + 1 + (spec.steps % spec.record_every != 0)
    stride = _stride(spec, n_records, final_only=final_only)
    model, weights, every = spec.model, spec.class_weights, spec.record_every
    if spec.mode == "ode":
        traj = simulate_ode(
            x0.mean(axis=2), alpha=alpha, beta=beta, model=model, step=h, steps=spec.steps,
            weights=weights, record_every=every,
        )  # fmt: skip
        idx = sample_records(traj.times.size, stride)
        shift = traj.means[idx] - traj.means[0][None]
        samples = x0[None] + shift[:, :, :, None, :]
        traj = Trajectory(times=traj.times, steps=traj.steps, means=traj.means, samples=samples, sample_index=idx)
    else:
        sim = simulate_sde if spec.mode == "sde" else simulate_discrete
        traj = sim(
            x0, alpha=alpha, beta=beta, sigma=spec.sigma, model=model, step=h, steps=spec.steps,
            weights=weights, record_every=every, seed=rng, sample_stride=stride,
        )  # fmt: skip
        if traj.samples is None:  # keep_samples defaults to True: the simulators always return samples here
            raise RuntimeError(f"{spec.mode} simulation returned no feature snapshots")
        samples = traj.samples
    separable = np.stack([pairwise_separable(s) for s in samples])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        etf = etf_distance(traj.means)
    A, B = alpha.integral(traj.times), beta.integral(traj.times)
    A_hat = B_hat = np.full(traj.times.size, np.nan)
    if estimate and traj.times.size >= 2:
        est = [estimate_integrals(traj.means[:, r], model=spec.model) for r in range(min(spec.runs, MAX_ESTIMATION_RUNS))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            A_hat = np.nanmedian(np.stack([e.A for e in est]), axis=0)
            B_hat = np.nanmedian(np.stack([e.B for e in est]), axis=0)
    return SimulationData(trajectory=traj, separable=separable, etf=etf, A=A, B=B, A_hat=A_hat, B_hat=B_hat)

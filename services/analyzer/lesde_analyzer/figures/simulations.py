"""Figures of a simulation or phase diagram (matplotlib Figures, saved as PNG, SVG or PDF by
:func:`lesde_analyzer.figures.formats.to_format`), in the shared style."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from .style import class_color, finish_axes, new_figure

if TYPE_CHECKING:  # the simulations product imports these figures, never the reverse at run time
    from ..simulations.engine import SimulationData

__all__ = ["trajectories", "separable_fraction", "neural_collapse", "integrals", "transition", "NUMERICAL_ZERO"]

_RUNS_SHOWN = 5
#: an ETF distance of smaller magnitude is rounding error of an exact 0 (drawn as 0, with a note)
NUMERICAL_ZERO = 1e-12


def trajectories(data: SimulationData, *, title: str) -> Figure:
    """Class means (coordinate 0) of a few runs, and the features of run 0 at the snapshots."""
    traj = data.trajectory
    fig, (ax0, ax1) = new_figure(ncols=2, width=5.2)
    K = traj.means.shape[2]
    for k in range(K):
        for r in range(min(_RUNS_SHOWN, traj.means.shape[1])):
            ax0.plot(
                traj.times, traj.means[:, r, k, 0], color=class_color(k), alpha=0.8, lw=1.0, label=f"class {k + 1}" if r == 0 else None
            )
        sample_times = traj.sample_times  # None exactly when no samples were kept
        if traj.samples is not None and sample_times is not None:
            t = np.repeat(sample_times, traj.samples.shape[3])
            ax1.scatter(t, traj.samples[:, 0, k, :, 0].ravel(), s=4, color=class_color(k), alpha=0.5, label=f"class {k + 1}")
    for ax in (ax0, ax1):
        ax.set_yscale("symlog", linthresh=1.0)
    finish_axes(
        ax0,
        xlabel="time t",
        ylabel=r"class mean $\bar X^k_1(t)$",
        title=f"{title}: class means, {min(_RUNS_SHOWN, traj.means.shape[1])} runs",
    )
    finish_axes(ax1, xlabel="time t", ylabel=r"feature $X^k_{i,1}(t)$", title="features of run 1")
    return fig


def separable_fraction(data: SimulationData, *, title: str) -> Figure:
    """Fraction of runs whose classes are pairwise linearly separable, against time."""
    traj = data.trajectory
    fig, ax = new_figure()
    ax.plot(traj.sample_times, data.separable.mean(axis=1), marker="o", ms=3, color=class_color(0), label="pairwise separable (exact LP)")
    ax.set_ylim(-0.03, 1.03)
    finish_axes(ax, xlabel="time t", ylabel="fraction of runs separable", title=title)
    return fig


def neural_collapse(data: SimulationData, *, title: str) -> Figure:
    """ETF distance of the class means: mean over runs with the 10-90 % band.

    Values below :data:`NUMERICAL_ZERO` in magnitude are rounding error of an exact 0 and are
    drawn as 0, with a note on the axes saying so (for K = 2 every value is one: two centred
    class means always form a simplex ETF), instead of a curve of noise on an axis of 1e-16.
    """
    t = data.trajectory.times
    fig, ax = new_figure()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(data.etf, axis=1)
        lo, hi = np.nanpercentile(data.etf, [10, 90], axis=1)
    zeroed = False
    for values in (mean, lo, hi):
        tiny = np.abs(values) < NUMERICAL_ZERO  # NaN compares False: left as it is
        zeroed |= bool(tiny.any())
        values[tiny] = 0.0
    ax.fill_between(t, lo, hi, color=class_color(0), alpha=0.2, label="10-90 % of runs")
    ax.plot(t, mean, color=class_color(0), label="mean over runs")
    drawn = np.concatenate([mean, lo, hi])
    if not np.any(np.isfinite(drawn) & (drawn != 0)):
        ax.set_ylim(-0.03, 1)  # nothing but zeros: a scale on which 0 reads as 0, the line clear of the axis
    else:
        ax.set_ylim(bottom=0)
    if zeroed:
        K = data.trajectory.means.shape[2]
        why = "for K = 2 two centred class means always form a simplex ETF" if K == 2 else "below numerical precision"
        ax.text(0.98, 0.95, f"0 (below {NUMERICAL_ZERO:g}): {why}", transform=ax.transAxes, ha="right", va="top",
                fontsize=8, color="#555555", wrap=True)  # fmt: skip
    finish_axes(ax, xlabel="time t", ylabel="ETF distance of class means", title=title)
    return fig


def integrals(data: SimulationData, *, title: str) -> Figure:
    """Estimated ``Ahat``, ``Bhat`` against the true ``A``, ``B``."""
    t = data.trajectory.times
    fig, ax = new_figure()
    ax.plot(t, data.A, color=class_color(0), label="A(t) true")
    ax.plot(t, data.A_hat, color=class_color(0), ls="--", label=r"$\hat A(t)$ (median over runs)")
    ax.plot(t, data.B, color=class_color(1), label="B(t) true")
    ax.plot(t, data.B_hat, color=class_color(1), ls="--", label=r"$\hat B(t)$ (median over runs)")
    finish_axes(ax, xlabel="time t", ylabel="integral", title=title)
    return fig


def transition(x: np.ndarray, fraction: np.ndarray, *, xlabel: str, critical: float, title: str) -> Figure:
    """Separable fraction at the final time against the grid variable, with the critical value."""
    order = np.argsort(x)
    fig, ax = new_figure()
    ax.axvline(critical, color="0.4", ls=":", label=f"theory: transition at {critical:g}")
    ax.plot(x[order], fraction[order], marker="o", color=class_color(0), label="separable fraction (final time)")
    ax.set_ylim(-0.03, 1.03)
    finish_axes(ax, xlabel=xlabel, ylabel="fraction of runs separable", title=title)
    return fig

"""The figures of an experiment's analysis, rendered from its stored summary and series.

Every figure is a function ``(summary, series, *, width, height, dpi) -> PNG bytes`` of
the stored results only, so a figure can be re-rendered at another size without reading
the chunks again. Long series are thinned to at most ``PLOT_POINTS`` points per line
(rendering 10^5-point lines is slow and no more informative at screen resolution).
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from matplotlib import rc_context

from lesde_analyzer.figures.style import STYLE, class_color, finish_axes, new_figure
from lesde_analyzer.pipeline.class_means import moving_average

PLOT_POINTS = 2000
DEFAULT_SIZE = {"width": 10.0, "height": 4.5, "dpi": 110}


def _thin(n: int, points: int = PLOT_POINTS) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, points)).round().astype(int)) if n else np.zeros(0, int)


def _png(fig, dpi: int) -> bytes:  # noqa: ANN001
    buffer = io.BytesIO()
    with rc_context(STYLE):
        fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _grid(nrows: int, ncols: int, width: float, height: float, **kw):  # noqa: ANN003, ANN202
    fig, axes = new_figure(nrows=nrows, ncols=ncols, width=width / ncols, height=height / nrows, **kw)
    return fig, np.atleast_1d(axes).reshape(nrows, ncols) if not kw.get("subplot_kw") else axes


def _smoothed_sampled(series: dict) -> tuple[np.ndarray, np.ndarray]:
    t, xbar, counts = series["sampled/t"], series["sampled/xbar"], series["sampled/counts"]
    window = max(1, min(51, len(t) // 50))
    return t, moving_average(xbar, counts, window=window)


def _projection_axis(summary: dict, series: dict) -> tuple[np.ndarray, tuple[int, int]]:
    """nu = Xbar^k(T) - Xbar^l(T) (Figure 1): the requested pair or the farthest one, unit length."""
    end = np.array(summary["class_means"]["sampled"]["end"], dtype=float)
    K = end.shape[0]
    pair = summary["options"].get("projection")
    if pair is None or max(pair) >= K:
        best, pair = -1.0, (0, 1)
        for k in range(K):
            for l in range(k + 1, K):
                d = np.linalg.norm(np.nan_to_num(end[k] - end[l]))
                if d > best:
                    best, pair = d, (k, l)
    nu = np.nan_to_num(end[pair[0]] - end[pair[1]])
    norm = np.linalg.norm(nu)
    return (nu / norm if norm > 0 else np.eye(K)[0]), tuple(pair)


def separation_1d(summary: dict, series: dict, *, width: float, height: float, dpi: int) -> bytes:
    """Figure 1b/d: per-sample logits projected on nu against t, class means, LE-ODE dashed."""
    names = summary["classes"]
    nu, pair = _projection_axis(summary, series)
    fig, axes = _grid(1, 1, width, height)
    ax = axes[0, 0]
    st, sl, sx = series["samples/t"], series["samples/label"], series["samples/logits"]
    t, smooth = _smoothed_sampled(series)
    idx = _thin(len(t))
    sim_key = f"estimates/leode_mean_{summary['options']['estimator']}"
    for k, name in enumerate(names):
        mine = sl == k
        ax.scatter(st[mine], sx[mine] @ nu, s=3, alpha=0.25, color=class_color(k), linewidths=0, rasterized=True)
        ax.plot(t[idx], smooth[idx, k] @ nu, color=class_color(k), lw=2.0, label=f"{name}: class mean")
        if sim_key in series and summary["source"] == "sampled":
            sim = series[sim_key]
            ax.plot(series["estimates/t"][idx], sim[idx, k] @ nu, "--", color=class_color(k), lw=1.2, label=f"{name}: LE-ODE")
    finish_axes(
        ax,
        xlabel="iteration t",
        ylabel=rf"projected logit $\nu^\top X$,  $\nu \propto \bar X^{{{names[pair[0]]}}}(T) - \bar X^{{{names[pair[1]]}}}(T)$",
        title="Separation of features in R (dots: samples, lines: class means)",
    )
    return _png(fig, dpi)


def separation_3d(summary: dict, series: dict, *, width: float, height: float, dpi: int) -> bytes:
    """Figure 1a/c: per-sample logits in 3-d (first three logits; K = 2: both logits and t)."""
    names = summary["classes"]
    fig, ax = new_figure(width=width, height=height, subplot_kw={"projection": "3d"})
    st, sl, sx = series["samples/t"], series["samples/label"], series["samples/logits"]
    K = sx.shape[1] if sx.ndim == 2 else len(names)
    coords = (lambda x, t: (x[:, 0], x[:, 1], x[:, 2])) if K >= 3 else (lambda x, t: (x[:, 0], x[:, 1], t))
    late = st >= (np.median(st) if st.size else 0)
    for k, name in enumerate(names):
        for mask, alpha, label in ((~late & (sl == k), 0.12, None), (late & (sl == k), 0.5, f"{name}")):
            if mask.any():
                ax.scatter(*coords(sx[mask], st[mask]), s=3, alpha=alpha, color=class_color(k), label=label, depthshade=False)
    t, smooth = _smoothed_sampled(series)
    idx = _thin(len(t), 500)
    for k in range(len(names)):
        ax.plot(*coords(smooth[idx, k], t[idx]), color="black", lw=1.0)
    ax.set_xlabel("logit 0")
    ax.set_ylabel("logit 1")
    ax.set_zlabel("logit 2" if K >= 3 else "iteration t")
    ax.set_title("Logits of sampled training points (faint: first half of training; black: class means)")
    ax.legend(loc="upper left", title="class")
    return _png(fig, dpi)


def ab(summary: dict, series: dict, *, width: float, height: float, dpi: int) -> bytes:
    """Figure 3, rows 1 and 3: Ahat(t), Bhat(t) by the I- and the L-model."""
    fig, axes = _grid(1, 2, width, height)
    t = series["estimates/t"]
    idx = _thin(len(t))
    for ax, model in zip(axes[0], ("I", "L")):
        ax.plot(t[idx], series[f"estimates/A_{model}"][idx], color="#0072B2", label=r"$\hat A(t)$")
        ax.plot(t[idx], series[f"estimates/B_{model}"][idx], color="#D55E00", label=r"$\hat B(t)$")
        tail = summary["estimates"]["models"][model]["tail_indices"]
        title = f"{model}-model: r_A = {_fmt(tail['A']['r'])}, r_B = {_fmt(tail['B']['r'])}"
        finish_axes(ax, xlabel="iteration t", ylabel="estimated integral", title=title)
    return _png(fig, dpi)


def alpha_beta(summary: dict, series: dict, *, width: float, height: float, dpi: int) -> bytes:
    """Figure 3, rows 2 and 4: alpha-hat, beta-hat (Savitzky-Golay), and the drift regression."""
    has_drift = "estimates/drift_alpha" in series
    fig, axes = _grid(1, 3 if has_drift else 2, width, height)
    t = series["estimates/t"]
    idx = _thin(len(t))
    for ax, model in zip(axes[0], ("I", "L")):
        window = summary["estimates"]["models"][model]["savgol_window"]
        ax.plot(t[idx], series[f"estimates/alpha_{model}"][idx], color="#0072B2", label=r"$\hat\alpha(t)$")
        ax.plot(t[idx], series[f"estimates/beta_{model}"][idx], color="#D55E00", label=r"$\hat\beta(t)$")
        ax.axhline(0.0, color="grey", lw=0.8)
        finish_axes(ax, xlabel="iteration t", ylabel="estimated rate", title=f"{model}-model, SG window {window}")
    if has_drift:
        ax = axes[0, 2]
        for name, color, label in (("alpha", "#0072B2", r"$\alpha$"), ("beta", "#D55E00", r"$\beta$")):
            v, se = series[f"estimates/drift_{name}"][idx], series[f"estimates/drift_{name}_se"][idx]
            ax.plot(t[idx], v, color=color, label=label)
            ax.fill_between(t[idx], v - se, v + se, color=color, alpha=0.2, lw=0)
        ax.axhline(0.0, color="grey", lw=0.8)
        drift = summary["estimates"]["drift_regression"]
        finish_axes(ax, xlabel="iteration t", ylabel="regressed rate (band: 1 s.e.)", title=f"drift regression ({drift['model']}, window {drift['window']})")
    return _png(fig, dpi)


def leode(summary: dict, series: dict, *, width: float, height: float, dpi: int) -> bytes:
    """Figure 5: LE-ODE mean +- 1 std over runs (I- and L-model rates) over the genuine Xbar."""
    names = summary["classes"]
    models = [m for m in ("I", "L") if f"estimates/leode_mean_{m}" in series]
    if not models:
        return _message("LE-ODE imitation unavailable: " + str(summary.get("imitation")), width, height, dpi)
    K = len(names)
    fig, axes = _grid(len(models), K, width, height * len(models) / 1.5)
    t, genuine = series["estimates/t"], series["estimates/xbar"]
    idx = _thin(len(t), 600)
    bars = _thin(len(t), 25)
    for row, model in enumerate(models):
        mean, std = series[f"estimates/leode_mean_{model}"], series[f"estimates/leode_std_{model}"]
        fit = summary["imitation"][model]
        for k in range(K):
            ax = axes[row, k]
            for j in range(K):
                color = class_color(j)
                ax.plot(t[idx], genuine[idx, k, j], "o", ms=2, alpha=0.25, color=color)
                ax.plot(t[idx], mean[idx, k, j], color=color, label=f"logit {names[j]}")
                ax.errorbar(t[bars], mean[bars, k, j], yerr=std[bars, k, j], fmt="none", ecolor=color, capsize=2, lw=0.8)
            finish_axes(
                ax,
                xlabel="iteration t",
                ylabel=f"{model}-model rates: logits" if k == 0 else "",
                title=f"class {names[k]}" + (f"  ({model}-model, nrmse {_fmt(fit['nrmse'])})" if k == 0 else ""),
                legend=(k == K - 1),
            )
    fig.suptitle("LE-ODE imitation (lines: mean of runs, bars: 1 std) over genuine class means (dots)")
    return _png(fig, dpi)


def neural_collapse(summary: dict, series: dict, *, width: float, height: float, dpi: int) -> bytes:
    """NC1, equinorm, equiangularity, ETF distance and separable fraction over training."""
    groups = [g for g in ("probe", "features") if f"{g}/t" in series and f"{g}/nc1" in series]
    if not groups:
        return _message("no probe or features stream: neural collapse needs probe features", width, height, dpi)
    fig, axes = _grid(2, 3, width, height * 1.6)
    panels = [
        ("nc1", "NC1 = tr(Σ_W Σ_B⁺)/K", True),
        ("equinorm", "equinorm (CV of centred mean norms)", False),
        ("equiangularity", "equiangularity", False),
        ("etf_distance", "ETF distance (per trial)", False),
        ("etf_distance_of_means", "ETF distance of normalised Xbar", False),
        ("separable_fraction", "separable fraction of trials", False),
    ]
    labels = {"probe": "probe logits (p = K)", "features": "penultimate features"}
    for ax, (name, ylabel, log) in zip(axes.ravel(), panels):
        for g, style in zip(groups, ("-o", "--s")):
            t, v = series[f"{g}/t"], series[f"{g}/{name}"]
            ok = np.isfinite(v)
            ax.plot(t[ok], v[ok], style, ms=3, label=labels[g])
            if f"{g}/{name}_std" in series:
                s = series[f"{g}/{name}_std"]
                ax.fill_between(t[ok], (v - s)[ok], (v + s)[ok], alpha=0.15, lw=0)
        if log and np.all(np.concatenate([series[f"{g}/{name}"] for g in groups]) > 0):
            ax.set_yscale("log")
        finish_axes(ax, xlabel="iteration t", ylabel=ylabel, legend=name == "nc1")
    fig.suptitle("Neural collapse over training (mean over trials, band: 1 std)")
    return _png(fig, dpi)


def training_curves(summary: dict, series: dict, *, width: float, height: float, dpi: int) -> bytes:
    """Loss and accuracy: sampled training loss (moving average) and eval records (mean +- std)."""
    fig, axes = _grid(1, 2, width, height)
    t, loss = series["sampled/t"], series["sampled/loss"]
    window = max(1, min(101, len(t) // 50))
    smooth = np.convolve(loss, np.ones(window) / window, mode="same") if window > 1 else loss
    idx = _thin(len(t))
    axes[0, 0].plot(t[idx], smooth[idx], color="grey", lw=1.0, label=f"sampled point (moving avg {window})")
    if "eval/t" in series:
        te = series["eval/t"]
        for ax, what in ((axes[0, 0], "loss"), (axes[0, 1], "acc")):
            for split, color in (("train", "#0072B2"), ("val", "#D55E00")):
                m, s = series[f"eval/{split}_{what}_mean"], series[f"eval/{split}_{what}_std"]
                if np.isfinite(m).any():
                    ax.plot(te, m, "-o", ms=2.5, color=color, label=f"{'training' if split == 'train' else 'validation'} set")
                    ax.fill_between(te, m - s, m + s, color=color, alpha=0.15, lw=0)
    else:
        axes[0, 1].text(0.5, 0.5, "no eval stream", ha="center", va="center", transform=axes[0, 1].transAxes)
    finish_axes(axes[0, 0], xlabel="iteration t", ylabel="cross-entropy loss", title="Loss (mean over trials)")
    finish_axes(axes[0, 1], xlabel="iteration t", ylabel="accuracy", title="Accuracy (mean over trials, band: 1 std)")
    return _png(fig, dpi)


def class_means(summary: dict, series: dict, *, width: float, height: float, dpi: int) -> bytes:
    """One panel per class: its mean logit vector over iterations (sampled, smoothed; probe dots)."""
    names = summary["classes"]
    K = len(names)
    fig, axes = _grid(1, K, width, height, sharey=True)
    t, smooth = _smoothed_sampled(series)
    idx = _thin(len(t))
    for k in range(K):
        ax = axes[0, k]
        for j in range(K):
            ax.plot(t[idx], smooth[idx, k, j], color=class_color(j), label=f"logit {names[j]}")
            if "probe/xbar" in series:
                ax.plot(series["probe/t"], series["probe/xbar"][:, k, j], "o", ms=2.5, color=class_color(j), alpha=0.6)
        finish_axes(ax, xlabel="iteration t", ylabel=r"class-mean logit $\bar X^k(t)$" if k == 0 else "", title=f"class {names[k]}", legend=k == K - 1)
    fig.suptitle("Class-mean logits (lines: sampled, smoothed; dots: probe set)")
    return _png(fig, dpi)


def _message(text: str, width: float, height: float, dpi: int) -> bytes:
    fig, ax = new_figure(width=width, height=height)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    ax.set_axis_off()
    return _png(fig, dpi)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


FIGURES: dict[str, Callable[..., bytes]] = {
    "separation-1d": separation_1d,
    "separation-3d": separation_3d,
    "AB": ab,
    "alpha-beta": alpha_beta,
    "leode": leode,
    "neural-collapse": neural_collapse,
    "curves": training_curves,
    "class-means": class_means,
}


def render(name: str, summary: dict, series: dict, *, width: float | None = None, height: float | None = None, dpi: int | None = None) -> bytes:
    """Render figure ``name`` (one of :data:`FIGURES`) as PNG bytes."""
    return FIGURES[name](
        summary,
        series,
        width=width or DEFAULT_SIZE["width"],
        height=height or DEFAULT_SIZE["height"],
        dpi=dpi or DEFAULT_SIZE["dpi"],
    )

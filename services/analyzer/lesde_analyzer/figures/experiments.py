"""The figures of an experiment's analysis, rendered from its stored summary and series.

Every figure is a function ``(summary, series, *, width, height) -> Figure`` of the stored
results only (:func:`draw`; :func:`render` turns it into PNG bytes), so a figure can be
re-rendered at another size, or drawn in a notebook, without reading the chunks again. Long series are thinned to at most ``PLOT_POINTS`` points per line
(rendering 10^5-point lines is slow and no more informative at screen resolution).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from lesde_contract.specs.analysis import DEFAULT_FIGURE_SIZE
from matplotlib.figure import Figure
from scipy.ndimage import uniform_filter1d

from lesde_analyzer.estimation.class_means import moving_average
from lesde_analyzer.figures.style import add_caption, class_color, finish_axes, new_figure, to_png

PLOT_POINTS = 2000


def _thin(n: int, points: int = PLOT_POINTS) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, min(n, points)).round().astype(int)) if n else np.zeros(0, int)


def _grid(nrows: int, ncols: int, width: float, height: float, **kw: Any) -> tuple[Figure, np.ndarray]:
    """A styled figure of ``nrows x ncols`` panels in ``width x height`` inches, its axes an
    (nrows, ncols) array; ``kw`` goes to :func:`new_figure`."""
    fig, axes = new_figure(nrows=nrows, ncols=ncols, width=width / ncols, height=height / nrows, **kw)
    return fig, np.atleast_1d(axes).reshape(nrows, ncols) if not kw.get("subplot_kw") else axes


def _smoothing_window(n: int) -> int:
    """Moving-average window (iterations) of the sampled class means drawn as lines."""
    return max(1, min(51, n // 50)) | 1  # odd: centred


def _smoothed_sampled(series: dict) -> tuple[np.ndarray, np.ndarray]:
    t, xbar, counts = series["sampled/t"], series["sampled/xbar"], series["sampled/counts"]
    return t, moving_average(xbar, counts, window=_smoothing_window(len(t)))


def _caption(summary: dict, detail: str) -> str:
    """The caption line: experiment, estimator source and model, then the figure's own detail."""
    partial = " (partial)" if summary.get("partial") else ""
    return (
        f"experiment {summary.get('job_id', '?')}{partial}, {summary.get('trials', '?')} trials x "
        f"{summary.get('iterations', '?')} iterations; estimates from the {summary.get('source', '?')} stream, "
        f"{summary.get('estimator', summary.get('options', {}).get('estimator', '?'))}-model; {detail}"
    )


def _projection_axis(summary: dict) -> tuple[np.ndarray, tuple[int, int]]:
    """nu = Xbar^k(T) - Xbar^j(T) (Figure 1): the requested pair or the farthest one, unit length."""
    end = np.array(summary["class_means"]["sampled"]["end"], dtype=float)
    K = end.shape[0]
    pair = summary["options"].get("projection")
    if pair is None or max(pair) >= K:
        best, pair = -1.0, (0, 1)
        for k in range(K):
            for j in range(k + 1, K):
                d = float(np.linalg.norm(np.nan_to_num(end[k] - end[j])))
                if d > best:
                    best, pair = d, (k, j)
    nu = np.nan_to_num(end[pair[0]] - end[pair[1]])
    norm = np.linalg.norm(nu)
    return (nu / norm if norm > 0 else np.eye(K)[0]), tuple(pair)


def separation_1d(summary: dict, series: dict, *, width: float, height: float) -> Figure:
    """Figure 1b/d: per-sample logits projected on nu against t, class means, LE-ODE dashed."""
    names = summary["classes"]
    nu, pair = _projection_axis(summary)
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
    detail = f"class means smoothed over {_smoothing_window(len(t))} iterations"
    fit = (summary.get("imitation") or {}).get(summary["options"]["estimator"]) or {}
    if fit.get("nrmse") is not None and summary["source"] == "sampled":
        detail += f"; dashed: LE-ODE of the {fit.get('model')}-model ({fit.get('procedure')} procedure), nrmse {_fmt(fit['nrmse'])}"
    add_caption(fig, _caption(summary, detail))
    return fig


def separation_3d(summary: dict, series: dict, *, width: float, height: float) -> Figure:
    """Figure 1a/c: per-sample logits in 3-d (first three logits; K = 2: both logits and t).

    The first half of training is drawn as small pale dots, the second half as larger
    opaque ones, and the trial-averaged class means as thick black lines on top (zorder),
    so the path from the shared start to the separated clusters is visible.
    """
    from matplotlib.ticker import MaxNLocator

    names = summary["classes"]
    fig, ax = new_figure(width=width, height=height, subplot_kw={"projection": "3d"})
    st, sl, sx = series["samples/t"], series["samples/label"], series["samples/logits"]
    K = sx.shape[1] if sx.ndim == 2 else len(names)
    coords = (lambda x, t: (x[:, 0], x[:, 1], x[:, 2])) if K >= 3 else (lambda x, t: (x[:, 0], x[:, 1], t))
    half = 0.5 * (float(st.min()) + float(st.max())) if st.size else 0.0
    late = st >= half
    for k, name in enumerate(names):
        early_mask, late_mask = ~late & (sl == k), late & (sl == k)
        if early_mask.any():
            ax.scatter(*coords(sx[early_mask], st[early_mask]), s=2, alpha=0.15, color=class_color(k), depthshade=False)
        if late_mask.any():
            ax.scatter(*coords(sx[late_mask], st[late_mask]), s=6, alpha=0.55, color=class_color(k), label=name, depthshade=False)
    t, smooth = _smoothed_sampled(series)
    idx = _thin(len(t), 500)
    for k in range(len(names)):
        ax.plot(*coords(smooth[idx, k], t[idx]), color="black", lw=2.2, zorder=10, label="class means" if k == 0 else None)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(4))
    if K >= 3:
        # look along (1, 1, 1): a shift common to all logits changes no prediction, and the
        # class directions d_k then fan out at 120 degrees instead of lining up in depth
        ax.view_init(elev=35.26, azim=45)
    label = [f"logit {names[j]}" for j in range(min(K, 3))]
    ax.set_xlabel(label[0])
    ax.set_ylabel(label[1])
    ax.set_zlabel(label[2] if K >= 3 else "iteration t")
    ax.set_title("Logits of sampled training points: pale dots first half of training, dark dots second half, black lines class means")
    ax.legend(loc="upper right", title="class (second half)")
    add_caption(
        fig,
        _caption(
            summary,
            f"sampled logits of every trial at evenly spread iterations; means smoothed over {_smoothing_window(len(t))} iterations",
        ),
    )
    return fig


def _r_text(index: dict) -> str:
    """``1.234 ± 0.056``, or the words for a fit stopped at its bound (no estimate)."""
    if index.get("at_bound"):
        return "at bound: no estimate"
    return f"{_fmt(index.get('r_slope'))} ± {_fmt(index.get('r_slope_se'))}"


def _verdict_text(tail: dict) -> str:
    """``r_Γ = 1.23 ± 0.05: label`` and, on a line of its own, r on each window (short: panels are narrow)."""
    verdict = tail["verdict"]
    windows = verdict.get("windows") or []
    text = f"r_Γ = {_r_text(tail['Gamma'])}: {verdict['label']}"
    if not windows:
        return text
    starts = ", ".join(f"{w['window'][0]:,.0f}" for w in windows)
    values = ", ".join("bound" if w["at_bound"] else (f"{w['r']:.2f}" if w["r"] is not None else "–") for w in windows)
    return f"{text}\nfrom t = {starts} to T: r_Γ = {values}"


def _log_bins(t: np.ndarray, v: np.ndarray, bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Medians of ``v`` (T,) over ``bins`` intervals even in log(1+t): the Gamma the tail fit sees, readable."""
    ok = np.isfinite(v) & (t > 0)
    if np.count_nonzero(ok) < 2:
        return np.zeros(0), np.zeros(0)
    L = np.log1p(t[ok])
    label = np.clip(((L - L[0]) / (L[-1] - L[0] or 1.0) * bins).astype(int), 0, bins - 1)
    keep = np.unique(label)
    centres = np.array([np.median(t[ok][label == b]) for b in keep])
    return centres, np.array([np.median(v[ok][label == b]) for b in keep])


def ab(summary: dict, series: dict, *, width: float, height: float) -> Figure:
    """Figure 3, rows 1 and 3: Ahat(t), Bhat(t) and Theorem 3.1's Gamma by the I- and the L-model.

    Gamma is drawn as the tail fit sees it, medians over bins even in log t (bold), over
    its raw per-record values (faint); each panel's title gives r on every window.
    """
    fig, axes = _grid(1, 2, width, height * 1.15)
    t = series["estimates/t"]
    idx = _thin(len(t))
    for ax, model in zip(axes[0], ("I", "L")):
        ax.plot(t[idx], series[f"estimates/A_{model}"][idx], color="#0072B2", label=r"$\hat A(t)$")
        ax.plot(t[idx], series[f"estimates/B_{model}"][idx], color="#D55E00", label=r"$\hat B(t)$")
        if f"estimates/Gamma_{model}" in series:
            gamma = series[f"estimates/Gamma_{model}"]
            ax.plot(t[idx], gamma[idx], color="black", lw=0.6, alpha=0.3)
            tb, gb = _log_bins(t, gamma)
            ax.plot(tb, gb, "-o", color="black", ms=2.5, lw=1.6, label=r"$\hat\Gamma(t)$, log-time bin medians (faint: raw)")
        tail = summary["estimates"]["models"][model]["tail_indices"]
        lo, hi = tail["Gamma"]["window"]
        if lo is not None and hi is not None:
            ax.axvspan(lo, hi, color="grey", alpha=0.08, lw=0, label="deciding window")
        title = f"{model}-model: r_A = {_r_text(tail['A'])}, r_B = {_r_text(tail['B'])}\n{_verdict_text(tail)}"
        finish_axes(ax, xlabel="iteration t", ylabel="estimated integral", title=title)
    gamma = {m: summary["estimates"]["models"][m]["tail_indices"]["gamma_definition"].split(" pointwise")[0] for m in ("I", "L")}
    method = summary["estimates"]["models"]["L"]["tail_indices"]["verdict"].get("se_method") or "see the JSON"
    add_caption(
        fig,
        _caption(
            summary,
            f"I-model {gamma['I']}, L-model {gamma['L']}; r: offset power-law fit to binned levels "
            f"over the shaded window ± 1 SE ({method.split(' (')[0]}), and on [T/20, T], [T/10, T], [T/5, T]",
        ),
    )
    return fig


def alpha_beta(summary: dict, series: dict, *, width: float, height: float) -> Figure:
    """Figure 3, rows 2 and 4: alpha-hat, beta-hat (Savitzky-Golay) and the drift regression.

    The Savitzky-Golay derivative extrapolates a polynomial over the first and last half
    window, so those stretches are drawn thin and shaded, and the y-axis is framed on the
    rest: they are not estimates a reader should trust, nor should they set the scale. Drift-regression fits (per window, ± 2 SE) are drawn as points on the
    chosen model's panel, on the same scale, when they are reliable.
    """
    fig, axes = _grid(1, 2, width, height)
    t = series["estimates/t"]
    idx = _thin(len(t))
    est = summary["estimates"]
    drift = est.get("drift_regression") or {}
    for ax, model in zip(axes[0], ("I", "L")):
        window = est["models"][model]["savgol_window"]
        half = window / 2
        inner = (t[idx] >= t[0] + half) & (t[idx] <= t[-1] - half)
        framed = [0.0]
        for name, color, label in (("alpha", "#0072B2", r"$\hat\alpha(t)$"), ("beta", "#D55E00", r"$\hat\beta(t)$")):
            v = series[f"estimates/{name}_{model}"][idx]
            framed += [x for x in v[inner] if np.isfinite(x)]
            ax.plot(t[idx], np.where(inner, v, np.nan), color=color, label=label)
            ax.plot(t[idx], np.where(inner, np.nan, v), color=color, lw=0.7, alpha=0.5)
        for lo, hi in ((t[0], min(t[-1], t[0] + half)), (max(t[0], t[-1] - half), t[-1])):
            ax.axvspan(lo, hi, color="grey", alpha=0.12, lw=0)
        ax.axhline(0.0, color="grey", lw=0.8)
        title = f"{model}-model, SG window {window:g} iterations"
        if model == drift.get("model") and drift.get("reported") and "estimates/drift_t" in series:
            ok = series["estimates/drift_reliable"].astype(bool)
            dt = series["estimates/drift_t"]
            for name, color in (("alpha", "#0072B2"), ("beta", "#D55E00")):
                v, se = series[f"estimates/drift_{name}"], series[f"estimates/drift_{name}_se"]
                if ok.any():
                    ax.errorbar(
                        dt[ok],
                        v[ok],
                        yerr=2 * se[ok],
                        fmt="s",
                        ms=4,
                        color=color,
                        mfc="white",
                        capsize=3,
                        lw=1.0,
                        label=f"drift regression {name} (± 2 SE)",
                    )
                    framed += [x for x in v[ok] if np.isfinite(x)]
            if not ok.any():
                title += "\n(drift regression not reliable here: not shown)"
        elif model == drift.get("model"):
            title += "\n(drift regression not reported: not shown)"
        lo, hi = min(framed), max(framed)
        pad = 0.08 * (hi - lo or 1.0)
        ax.set_ylim(lo - pad, hi + pad)
        finish_axes(ax, xlabel="iteration t", ylabel="estimated rate per iteration", title=title)
    note = "shaded: first and last half window, where the filter extrapolates (drawn thin, may run off the frame)"
    if drift.get("smoothing") is not None:
        note += f"; drift regression: Xbar smoothed over {drift['smoothing']:g}, increments over H = {drift['horizon']:g} iterations"
    add_caption(fig, _caption(summary, note))
    return fig


def leode(summary: dict, series: dict, *, width: float, height: float) -> Figure:
    """Figure 5: the LE-ODE of each model (mean, band: 1 std of the start ensemble) over the genuine Xbar (dots)."""
    names = summary["classes"]
    models = [m for m in ("I", "L") if f"estimates/leode_mean_{m}" in series]
    if not models:
        return _message("LE-ODE imitation unavailable: " + str(summary.get("imitation")), width, height)
    K = len(names)
    fig, axes = _grid(len(models), K, width, height * len(models) / 1.5)
    t, genuine = series["estimates/t"], series["estimates/xbar"]
    idx = _thin(len(t), 400)
    for row, model in enumerate(models):
        mean, std = series[f"estimates/leode_mean_{model}"], series[f"estimates/leode_std_{model}"]
        fit = summary["imitation"][model]
        per_class = fit.get("nrmse_per_class") or [None] * K
        for k in range(K):
            ax = axes[row, k]
            for j in range(K):
                color = class_color(j)
                ax.plot(t[idx], genuine[idx, k, j], "o", ms=2.5, alpha=0.45, color=color, mew=0)
                ax.plot(t[idx], mean[idx, k, j], color=color, lw=1.4, label=f"logit {names[j]}")
                ax.fill_between(t[idx], (mean - std)[idx, k, j], (mean + std)[idx, k, j], color=color, alpha=0.25, lw=0)
                # thin edges keep a band narrower than the line visible
                for edge in (mean - std, mean + std):
                    ax.plot(t[idx], edge[idx, k, j], color=color, lw=0.5, ls=(0, (2, 2)), alpha=0.8)
            # the scale is the data's: a wide ensemble band must not hide the points
            with np.errstate(invalid="ignore"):
                lo, hi = np.nanmin(genuine[:, k]), np.nanmax(genuine[:, k])
            pad = 0.08 * (hi - lo) if hi > lo else 1.0
            ax.set_ylim(lo - pad, hi + pad)
            if fit.get("t0") is not None:
                ax.axvline(fit["t0"], color="grey", lw=0.8, ls=":")
            title = f"class {names[k]}: nrmse {_fmt(per_class[k])}"
            if k == 0:
                title = f"{model}-model (skill {_fmt(fit.get('skill'))}): " + title
            finish_axes(ax, xlabel="iteration t", ylabel="class-mean logit" if k == 0 else "", title=title, legend=(k == K - 1))
    first = summary["imitation"][models[0]]
    if first.get("procedure") == "authors":
        fig.suptitle("LE-ODE imitation, THE AUTHORS' PROCEDURE (random starts, Euler, signed rescale): not a fit")
        detail = "authors' procedure kept to reproduce their Figure 5"
    else:
        fig.suptitle("LE-ODE imitation from the genuine start (lines; band: 1 std) over genuine class means (dots)")
        starts = ", ".join(_start_text(model, summary["imitation"][model]) for model in models)
        detail = (
            f"start (dotted): Xbar averaged over {first['start_window']['iterations']:g} iterations, from where the class means "
            f"stand clear of their noise: {starts}; "
            f"exact step per record interval of {first['step']:g} iterations; rates: SG window {first['savgol_window']:g} "
            "iterations of each model's own Ahat, Bhat; no rescaling; skill = 1 - nrmse / nrmse of holding Xbar(t0) "
            "over the same records"
        )
    add_caption(fig, _caption(summary, detail))
    return fig


def neural_collapse(summary: dict, series: dict, *, width: float, height: float) -> Figure:
    """NC1, equinorm, equiangularity, ETF distance and separable fraction over training."""
    groups = [g for g in ("probe", "features") if f"{g}/t" in series and f"{g}/nc1" in series]
    if not groups:
        return _message("no probe or features stream: neural collapse needs probe features", width, height)
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
        for g, (line, marker) in zip(groups, (("-", "o"), ("--", "s"))):
            t, v = series[f"{g}/t"], series[f"{g}/{name}"]
            ok = np.isfinite(v)
            # a few records joined by lines read as a trend: markers only below a dozen
            style = marker if np.count_nonzero(ok) < 12 else line + marker
            ax.plot(t[ok], v[ok], style, ms=5 if len(style) == 1 else 3, label=labels[g], zorder=3)
            if name == "separable_fraction" and f"{g}/separable_fraction_baseline" in series:
                b = series[f"{g}/separable_fraction_baseline"]
                okb = np.isfinite(b)
                ax.plot(
                    t[okb],
                    b[okb],
                    ":x",
                    ms=6,
                    mew=1.4,
                    color=ax.lines[-1].get_color(),
                    lw=1.2,
                    zorder=4,
                    label=f"{labels[g]}: relabelled (chance)",
                    clip_on=False,
                )
            if f"{g}/{name}_std" in series:
                s = series[f"{g}/{name}_std"]
                # on a log axis a band reaching 0 or below would stretch the scale to nothing
                low = np.maximum(v - s, v / 10) if log else v - s
                ax.fill_between(t[ok], low[ok], (v + s)[ok], alpha=0.15, lw=0)
        if log and np.all(np.concatenate([series[f"{g}/{name}"] for g in groups]) > 0):
            ax.set_yscale("log")
        finish_axes(ax, xlabel="iteration t", ylabel=ylabel, legend=name == "nc1")
        if name == "separable_fraction":
            ax.set_ylim(-0.1, 1.08)  # a chance level of 0 sits above the axis, not on it
            ax.legend(loc="lower right", fontsize=7)
    fig.suptitle("Neural collapse over training (mean over trials, band: 1 std)")
    add_caption(
        fig,
        _caption(
            summary,
            "per trial on the probe set, then mean over trials; separable fraction: exact LP test "
            "(dotted: the same test on randomly relabelled points, the chance level)",
        ),
    )
    return fig


def training_curves(summary: dict, series: dict, *, width: float, height: float) -> Figure:
    """Loss and accuracy: sampled training loss (moving average) and eval records (mean, quartiles over trials)."""
    fig, axes = _grid(1, 2, width, height)
    t, loss = series["sampled/t"], series["sampled/loss"]
    window = max(1, min(101, len(t) // 50)) | 1  # odd, so that the window is centred
    # A centred window that shrinks at the edges (nearest padding) instead of
    # np.convolve(mode="same"), whose zero padding halves the first and last values.
    smooth = uniform_filter1d(loss, size=window, mode="nearest") if window > 1 else loss
    idx = _thin(len(t))
    if "eval/t" in series:
        te = series["eval/t"]
        for ax, what in ((axes[0, 0], "loss"), (axes[0, 1], "acc")):
            for split, color in (("train", "#0072B2"), ("val", "#D55E00")):
                m = series[f"eval/{split}_{what}_mean"]
                if np.isfinite(m).any():
                    ax.plot(te, m, "-o", ms=2.5, color=color, label=f"{'training' if split == 'train' else 'validation'} set")
                    lo, hi = _spread(series, f"eval/{split}_{what}")
                    ax.fill_between(te, lo, hi, color=color, alpha=0.15, lw=0)
    else:
        axes[0, 1].text(0.5, 0.5, "no eval stream", ha="center", va="center", transform=axes[0, 1].transAxes)
    # drawn last so that the evaluation curves, often equal to it, do not hide it
    axes[0, 0].plot(t[idx], smooth[idx], color="black", lw=0.9, alpha=0.7, zorder=5, label=f"sampled point (moving avg {window})")
    finish_axes(axes[0, 0], xlabel="iteration t", ylabel="cross-entropy loss", title="Loss (mean over trials, band: middle 50% of trials)")
    finish_axes(axes[0, 1], xlabel="iteration t", ylabel="accuracy", title="Accuracy (mean over trials, band: middle 50% of trials)")
    add_caption(
        fig,
        _caption(
            summary,
            f"black: loss of the sampled training point, centred moving average of {window} iterations "
            "(shrinking at the edges); dots: training and validation sets at the eval records",
        ),
    )
    return fig


def class_means(summary: dict, series: dict, *, width: float, height: float) -> Figure:
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
        finish_axes(
            ax,
            xlabel="iteration t",
            ylabel=r"class-mean logit $\bar X^k(t)$" if k == 0 else "",
            title=f"class {names[k]}",
            legend=k == K - 1,
        )
    fig.suptitle("Class-mean logits (lines: sampled, smoothed; dots: probe set)")
    add_caption(
        fig, _caption(summary, f"lines: count-weighted moving average of {_smoothing_window(len(t))} iterations of the sampled Xbar(t)")
    )
    return fig


def _spread(series: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The band of an eval curve: quartiles over trials, or mean +- std for results stored before them."""
    if f"{name}_q25" in series:
        return series[f"{name}_q25"], series[f"{name}_q75"]
    m, s = series[f"{name}_mean"], series[f"{name}_std"]
    return m - s, m + s


def _message(text: str, width: float, height: float) -> Figure:
    fig, ax = new_figure(width=width, height=height)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes)
    ax.set_axis_off()
    return fig


def _start_text(model: str, imitation: dict) -> str:
    """``I-model t0 = 1,612`` (or that the means never cleared their noise)."""
    onset = imitation.get("onset") or {}
    where = f"{model}-model t0 = {imitation['t0']:,.0f}"
    return where + (" (means never clear their noise)" if onset.get("reached") is False else "")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


FIGURES: dict[str, Callable[..., Figure]] = {
    "separation-1d": separation_1d,
    "separation-3d": separation_3d,
    "AB": ab,
    "alpha-beta": alpha_beta,
    "leode": leode,
    "neural-collapse": neural_collapse,
    "curves": training_curves,
    "class-means": class_means,
}


def draw(name: str, summary: dict, series: dict, *, width: float | None = None, height: float | None = None) -> Figure:
    """Figure ``name`` (one of :data:`FIGURES`) as a matplotlib Figure (Agg canvas, not shown)."""
    return FIGURES[name](summary, series, width=width or DEFAULT_FIGURE_SIZE.width, height=height or DEFAULT_FIGURE_SIZE.height)


def render(
    name: str, summary: dict, series: dict, *, width: float | None = None, height: float | None = None, dpi: int | None = None
) -> bytes:
    """Render figure ``name`` (one of :data:`FIGURES`) as PNG bytes."""
    return to_png(draw(name, summary, series, width=width, height=height), dpi=dpi or DEFAULT_FIGURE_SIZE.dpi)

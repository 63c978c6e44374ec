"""Figures of an experiment's analysis (matplotlib, Agg), returned as PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lesde_analyzer.pipeline.class_means import moving_average  # noqa: E402

SMOOTHING = 51  # iterations in the moving average of the sampled class means


def png_bytes(figure: plt.Figure, *, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def class_means_figure(series: dict, *, class_names: list[str], dpi: int = 110) -> bytes:
    """One panel per class: its mean logit vector over iterations (sampled, smoothed; probe dots)."""
    iterations, xbar, counts = series["iterations"], series["xbar"], series["counts"]
    smooth = moving_average(xbar, counts, window=min(SMOOTHING, max(1, len(iterations) // 20)))
    classes = len(class_names)
    figure, axes = plt.subplots(
        1, classes, figsize=(4.2 * classes, 3.8), sharey=True, squeeze=False, layout="constrained"
    )
    colors = plt.get_cmap("tab10")(np.arange(classes))
    for k, axis in enumerate(axes[0]):
        for j in range(classes):
            axis.plot(iterations, smooth[:, k, j], color=colors[j], lw=1.4, label=f"logit {class_names[j]}")
            axis.plot(series["probe_t"], series["probe_xbar"][:, k, j], "o", ms=2.5, color=colors[j], alpha=0.6)
        axis.set_title(f"class {class_names[k]}")
        axis.set_xlabel("iteration t")
        axis.grid(alpha=0.3)
    axes[0, 0].set_ylabel(r"class-mean logit $\bar X^k(t)$")
    axes[0, -1].legend(loc="best", fontsize=8, title="lines: sampled (smoothed)\ndots: probe set", title_fontsize=7)
    figure.suptitle("Class-mean logits over training")
    return png_bytes(figure, dpi=dpi)

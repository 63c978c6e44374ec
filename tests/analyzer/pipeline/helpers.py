"""Checks shared by the analysis tests."""

from __future__ import annotations

import io

import numpy as np
from matplotlib import image

from lesde.specs.analysis import FIGURE_NAMES

PAPER_NUMBERS = ("estimates", "tail_indices", "verdict", "separability", "neural_collapse", "imitation", "curves", "class_means")


def assert_valid_png(data: bytes, *, min_size: int = 200) -> None:
    """A decodable PNG of reasonable size whose pixels are not all alike (not blank)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = image.imread(io.BytesIO(data), format="png")
    assert pixels.shape[0] >= min_size and pixels.shape[1] >= min_size, pixels.shape
    assert float(np.var(pixels[..., :3])) > 1e-3, "blank figure"


def assert_every_number(summary: dict, *, probe: bool = True) -> None:
    for key in PAPER_NUMBERS:
        assert key in summary, key
    for model in ("I", "L"):
        numbers = summary["estimates"]["models"][model]
        assert {"A_end", "B_end", "alpha_tail_mean", "beta_tail_mean", "tail_indices"} <= set(numbers)
        assert summary["imitation"][model]["nrmse"] is not None
    assert summary["verdict"]["label"] in ("separable", "not separable", "inconclusive")
    assert {"A", "B", "Gamma"} <= set(summary["tail_indices"])
    assert "drift_regression" in summary["estimates"]
    if probe:
        final = summary["neural_collapse"]["probe"]["final"]
        assert {"nc1", "equinorm", "equiangularity", "etf_distance", "separable_fraction"} <= set(final)
    assert set(summary["figures"]) == set(FIGURE_NAMES)

"""Analysis options of an experiment and where each option set's results are stored.

One definition for the API (validates, answers 422 naming the field and its range) and
the analyzer worker (computes). Results are cached per option set: the key is a hash of
the canonical JSON of the options with every default filled in, so two requests that
mean the same thing share one result. The default option set is stored at the plain
keys (``analysis/summary.json``, ``figures/<name>.png``); any other set under
``analysis/runs/<key>/`` and ``figures/runs/<key>/``. Every figure is stored as PNG, SVG
and PDF (``<name>.png``, ``.svg``, ``.pdf``); a figure rendered on request (another size,
axes shared with another experiment, or a format an older result lacks) is stored beside
them as ``<name>@<variant>.<ext>`` (:func:`figure_variant`).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Literal, NamedTuple

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from lesde_contract import object_keys
from lesde_contract.specs.base import StrictSpec

#: every figure the analysis renders (``class-means`` is kept for old clients)
FIGURE_NAMES = ("separation-1d", "separation-3d", "AB", "alpha-beta", "leode", "neural-collapse", "curves", "class-means")


class FigureSize(NamedTuple):
    """Width and height in inches, and dots per inch."""

    width: float
    height: float
    dpi: int


#: the size the analysis renders every figure at; other sizes are rendered on request
DEFAULT_FIGURE_SIZE = FigureSize(width=10.0, height=4.5, dpi=110)
#: the size of a sweep's cross-child figures
SWEEP_FIGURE_SIZE = FigureSize(width=10.0, height=5.0, dpi=110)
DEFAULT_KEY = "default"
OPTIONS_KEY_PATTERN = r"^(default|[0-9a-f]{16})$"


def _odd(value: int, field: str) -> int:
    if value % 2 == 0:
        raise ValueError(f"{field} must be odd; got {value}")
    return value


class AnalysisOptions(StrictSpec):
    """Options of one analysis run (all optional; defaults follow the paper)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"estimator": "I", "savgol_window": 21}]})

    estimator: Literal["L", "I"] = Field(
        default="L", description="Model whose Ahat, Bhat feed alpha-hat, beta-hat, the tail indices and the LE-ODE."
    )
    labels: Literal["trained", "true"] = Field(
        default="trained",
        description="Which label groups the sampled logits into Xbar(t): 'trained' (the label each network trained on, "
        "corrupted where label noise moved it; the authors' way and the drift's own labels) or 'true' (the sample's "
        "class). The JSON's 'labels' says which grouping every number used.",
    )
    jackknife_groups: int = Field(
        default=10,
        ge=0,
        le=1_000,
        description="Groups of trials left out in turn for the standard errors of the tail indices (delete-one-group "
        "jackknife); 0, or fewer than 3 trials: a time-series standard error instead, which the JSON names.",
    )
    source: Literal["sampled", "probe"] = Field(
        default="sampled", description="Xbar(t) from the sampled training logits (the authors' way) or the probe set."
    )
    smoothing: int = Field(
        default=1, ge=1, le=10_001, description="Count-weighted moving average (iterations) of the sampled Xbar(t); 1: none."
    )
    reference_window: int = Field(default=1, ge=1, le=10_000, description="Leading records averaged into the reference X(t0).")
    savgol_window: int = Field(
        default=151,
        ge=5,
        le=100_001,
        description="Odd Savitzky-Golay window of alpha-hat, beta-hat in iterations (paper: 151 GEOMNIST, 551 CIFAR-10); "
        "on the probe stream it becomes the nearest odd number of records.",
    )
    savgol_polyorder: int = Field(default=2, ge=1, le=4, description="Savitzky-Golay polynomial order.")
    imitation: Literal["exact", "authors"] = Field(
        default="exact",
        description="LE-ODE imitation: 'exact' starts from the genuine Xbar(t0) and steps each record interval exactly; "
        "'authors' reproduces the authors' Figure 5 procedure (random N(0, .) starts, forward Euler, one signed rescale), "
        "which is ill-posed and kept only to reproduce their figure.",
    )
    imitation_window: int = Field(
        default=21, ge=5, le=100_001, description="Odd Savitzky-Golay window (iterations) of the LE-ODE rates (paper: 21)."
    )
    imitation_start_window: int = Field(
        default=0,
        ge=0,
        le=100_001,
        description="Iterations averaged into the LE-ODE initial state, assigned to the window's centre time t0 (0: about 1% of the run).",
    )
    imitation_onset_snr: float = Field(
        default=3.0,
        ge=0.0,
        le=100.0,
        description="The LE-ODE starts at the first window where the model's modes are this many times their per-record "
        "noise (log-ratio rates read off noise-dominated records under-grow the simulation); 0: from the first record.",
    )
    imitation_runs: int = Field(default=500, ge=2, le=100_000, description="LE-ODE runs of the ensemble (paper: 500).")
    drift_smoothing: int = Field(
        default=51, ge=1, le=100_001, description="Odd centred window (iterations) that smooths Xbar before the drift regression."
    )
    drift_horizon: int = Field(
        default=0,
        ge=0,
        le=1_000_000,
        description="Increment horizon H (iterations) of the drift regression, at least twice drift_smoothing (0: automatic).",
    )
    tail_window: int = Field(
        default=1000,
        ge=2,
        le=1_000_000,
        description="Last iterations of the authors' r-hat (paper: 1000); a secondary number, the verdict uses verdict_window.",
    )
    verdict_window: tuple[float, float] | None = Field(
        default=None,
        description="[t1, t2] in iterations: the verdict's deciding window (default [T/10, T]); the verdict is also "
        "checked on [T/20, T] and [T/5, T] and needs every window to agree.",
    )
    verdict_tolerance: float = Field(default=0.05, ge=0.0, le=0.5, description="Least half-width of the inconclusive band around r = 1.")
    projection: tuple[int, int] | None = Field(
        default=None, description="Classes (k, l) whose final mean difference is the separation-1d axis; default: the farthest pair."
    )
    max_separability_records: int = Field(
        default=200, ge=2, le=100_000, description="Most probe/features records checked for exact separability (evenly spread)."
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Seed of the LE-ODE initial states and the sample subsets.")

    @field_validator("savgol_window", "imitation_window", "drift_smoothing")
    @classmethod
    def _odd_window(cls, value: int, info: ValidationInfo) -> int:
        return _odd(value, info.field_name or "window")  # a field validator always has its field's name

    @field_validator("imitation_start_window")
    @classmethod
    def _odd_or_auto(cls, value: int) -> int:
        return value if value == 0 else _odd(value, "imitation_start_window")

    @field_validator("verdict_window")
    @classmethod
    def _ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not (0 <= value[0] < value[1] and all(math.isfinite(v) for v in value)):
            raise ValueError(f"verdict_window must be [t1, t2] with 0 <= t1 < t2 (iterations); got {list(value)}")
        return value

    @field_validator("projection")
    @classmethod
    def _distinct(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and (value[0] == value[1] or min(value) < 0 or max(value) > 9):
            raise ValueError(f"projection must be two distinct class indices in [0, 9]; got {list(value)}")
        return value


def canonical_json(options: AnalysisOptions) -> str:
    return json.dumps(options.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def options_key(options: AnalysisOptions) -> str:
    """``"default"`` for the default option set, else 16 hex digits of the canonical hash."""
    if canonical_json(options) == canonical_json(AnalysisOptions()):
        return DEFAULT_KEY
    return hashlib.sha256(canonical_json(options).encode()).hexdigest()[:16]


def run_summary_key(job_id: str, key: str) -> str:
    name = "summary" if key == DEFAULT_KEY else f"runs/{key}/summary"
    return object_keys.analysis_key("experiment", job_id, name)


def run_series_key(job_id: str, key: str) -> str:
    base = object_keys.job_prefix("experiment", job_id) + "analysis/"
    return base + ("series.npz" if key == DEFAULT_KEY else f"runs/{key}/series.npz")


def run_state_key(job_id: str, key: str) -> str:
    """Per option set: ``{"state", "error", "options"}`` of its latest request (queued/running/succeeded/failed)."""
    base = object_keys.job_prefix("experiment", job_id) + "analysis/"
    return base + ("state.json" if key == DEFAULT_KEY else f"runs/{key}/state.json")


def figure_variant(width: float, height: float, dpi: int, *, share_with: str | None = None) -> str:
    """Name of a figure rendered on request: its size, e.g. ``"w8-h5-d200"``, and with axes shared
    with experiment ``share_with`` (same option set), ``"w10-h4.5-d110-with-<id>"``."""
    size = f"w{width:g}-h{height:g}-d{dpi}"
    return size if share_with is None else f"{size}-with-{share_with}"


def run_figure_key(job_id: str, key: str, name: str, *, variant: str = "", fmt: str = "png") -> str:
    """``variant``: ``""`` for the figure the analysis stored, else :func:`figure_variant` (rendered
    on request); ``fmt``: ``png``, ``svg`` or ``pdf`` (the file's extension)."""
    stem = name if not variant else f"{name}@{variant}"
    return object_keys.figure_key("experiment", job_id, stem if key == DEFAULT_KEY else f"runs/{key}/{stem}", fmt)

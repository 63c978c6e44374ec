"""An experiment's analysis as one Python object, wherever it was computed.

:class:`AnalysisResult` holds what the analyzer stores for one option set: the summary
(the JSON ``GET /v1/experiments/{id}/analysis`` answers, every number of the paper) and
the full-length series (``series.npz``), with the experiment's spec when known. The same
class comes back from :func:`lesde.analyze` (computed in this process) and from
:meth:`lesde.client.LesdeClient.result` (fetched from a server), so code written against
one works on the other.

Views for the tools researchers use: :meth:`AnalysisResult.to_pandas` (a tidy table),
:meth:`AnalysisResult.to_xarray` (labelled arrays), :meth:`AnalysisResult.figure`
(matplotlib Figures, drawn here from the series), and the MLflow / TensorBoard exports in
:mod:`lesde.exports`. pandas, xarray and matplotlib are imported only by the method that
needs them.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # imported lazily: optional extras
    import pandas
    import xarray
    from lesde_contract.analysis_results import ExperimentAnalysis
    from matplotlib.figure import Figure

MODELS = ("I", "L")  # the paper's two interaction models
INTEGRALS = ("A", "B", "Gamma", "alpha", "beta")  # per-model estimate series, "estimates/<q>_<model>"
TIDY_COLUMNS = ("time", "model", "quantity", "value", "se")


@dataclass
class AnalysisResult:
    """The analysis of one experiment for one option set.

    Attributes
    ----------
    summary : dict
        The analysis JSON, as the service serves it (NaN as None).
    series : dict of str to ndarray
        ``"group/name"`` -> full-length arrays; every group has its time axis ``"group/t"``
        in iterations. Groups: ``estimates`` (A, B, Gamma, alpha, beta per model, the class
        means ``xbar`` (T, K, K), the LE-ODE imitation), ``sampled``, ``probe``,
        ``features``, ``eval``, ``samples``.
    spec : dict or None
        The experiment's spec (None when not known).
    """

    summary: dict
    series: dict[str, np.ndarray]
    spec: dict | None = None
    _figures: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- the numbers most readers want first ----------------------------------------------
    @property
    def job_id(self) -> str | None:
        return self.summary.get("job_id")

    @property
    def classes(self) -> list[str]:
        return list(self.summary.get("classes") or [])

    @property
    def verdict(self) -> dict:
        """Theorem 3.1's verdict: ``label`` (separable / not separable / inconclusive), ``r_gamma``, ``se``, ``why``."""
        return self.summary.get("verdict") or {}

    @property
    def estimates(self) -> dict:
        return self.summary.get("estimates") or {}

    @property
    def tail_indices(self) -> dict:
        return self.summary.get("tail_indices") or {}

    @property
    def imitation(self) -> dict:
        return self.summary.get("imitation") or {}

    @property
    def typed(self) -> ExperimentAnalysis:
        """The summary as the contract's typed result (:class:`lesde_contract.analysis_results.ExperimentAnalysis`; needs
        pydantic, the analysis extra). A summary fetched from a server has the gateway's links left out."""
        from lesde_contract.analysis_results import ExperimentAnalysis  # imported here: pydantic, the analysis extra

        return ExperimentAnalysis.from_summary(self.summary)

    @property
    def figure_names(self) -> list[str]:
        """The figures this result can draw (the service's figure routes use the same names)."""
        from lesde_analyzer.figures.experiments import FIGURES  # imported here: the analysis extra

        return list(FIGURES)

    def __repr__(self) -> str:
        verdict = self.verdict
        r = verdict.get("r_gamma")
        detail = f", r_gamma = {r:.3g}" if isinstance(r, float) else ""
        return f"<AnalysisResult {self.job_id}: {verdict.get('label', 'no verdict')}{detail}; {len(self.series)} series>"

    # -- figures ------------------------------------------------------------------------------
    def figure(self, name: str, *, width: float | None = None, height: float | None = None) -> Figure:
        """Figure ``name`` as a matplotlib Figure (drawn from this result's series, like the service's PNG).

        Needs the analysis extra (``pip install lesde[analysis]``): the figures are the analyzer's own code.
        """
        try:
            from lesde_analyzer.figures.experiments import FIGURES, draw  # imported here: the analysis extra
            from lesde_analyzer.figures.style import to_png
        except ImportError as error:
            raise ImportError(f"AnalysisResult.figure needs the analysis extra: pip install 'lesde[analysis]' ({error})") from None
        if name not in FIGURES:
            raise ValueError(f"figure must be one of {', '.join(FIGURES)}; got {name!r}")
        figure = draw(name, self.summary, self.series, width=width, height=height)
        # Drawn without pyplot, a Figure has no image display in Jupyter until `%matplotlib inline`
        # registers one; the same PNG as the service's, for a notebook's rich display.
        figure.__dict__["_repr_png_"] = lambda: to_png(figure)  # an instance attribute Figure does not declare
        return figure

    def figure_png(self, name: str, *, width: float | None = None, height: float | None = None, dpi: int | None = None) -> bytes:
        """Figure ``name`` as PNG bytes (what ``GET .../figures/{name}.png`` serves)."""
        from lesde_analyzer.figures.style import to_png  # imported here: the analysis extra

        return to_png(self.figure(name, width=width, height=height), dpi=dpi)

    # -- tables ---------------------------------------------------------------------------------
    def tidy_rows(self) -> Iterator[tuple[float, str, str, float, float]]:
        """``(time, model, quantity, value, se)`` rows of every scalar-per-time series.

        ``model`` is ``"I"`` or ``"L"`` for the paper's per-model integrals and rates
        (A, B, Gamma, alpha, beta; no SE per record), ``"drift"`` for the drift regression
        (alpha, beta with their SE), ``"eval"`` for the evaluation curves (mean over trials,
        SE of that mean), ``"probe"`` / ``"features"`` for the neural-collapse metrics and
        the separable fraction, ``"sampled"`` for the mean training loss.
        """
        s = self.series
        nan = math.nan
        for model in MODELS:
            t = s.get("estimates/t")
            for quantity in INTEGRALS:
                values = s.get(f"estimates/{quantity}_{model}")
                if t is not None and values is not None:
                    yield from ((float(a), model, quantity, float(b), nan) for a, b in zip(t, values))
        if "estimates/drift_t" in s:
            reliable = reliable_drift(s)
            for quantity in ("alpha", "beta"):
                t, v, se = (
                    s[key][reliable] for key in ("estimates/drift_t", f"estimates/drift_{quantity}", f"estimates/drift_{quantity}_se")
                )
                yield from ((float(a), "drift", quantity, float(b), float(c)) for a, b, c in zip(t, v, se))
        trials = int(self.summary.get("trials") or 0)
        # the stored spread is the population std over trials (ddof 0): SE of the mean = std / sqrt(R - 1)
        se_scale = 1.0 / math.sqrt(trials - 1) if trials > 1 else nan
        if "eval/t" in s:
            for quantity in ("val_loss", "val_acc", "train_loss", "train_acc"):
                mean, std = s.get(f"eval/{quantity}_mean"), s.get(f"eval/{quantity}_std")
                if mean is not None:
                    std = std if std is not None else np.full(len(mean), nan)
                    yield from ((float(a), "eval", quantity, float(b), float(c) * se_scale) for a, b, c in zip(s["eval/t"], mean, std))
        for group in ("probe", "features"):
            if f"{group}/t" not in s:
                continue
            for quantity in ("nc1", "equinorm", "equiangularity", "etf_distance"):
                mean, std = s.get(f"{group}/{quantity}"), s.get(f"{group}/{quantity}_std")
                if mean is not None:
                    std = std if std is not None else np.full(len(mean), nan)
                    yield from ((float(a), group, quantity, float(b), float(c) * se_scale) for a, b, c in zip(s[f"{group}/t"], mean, std))
            for quantity in ("etf_distance_of_means", "separable_fraction", "separable_fraction_baseline"):
                values = s.get(f"{group}/{quantity}")
                if values is not None:
                    yield from ((float(a), group, quantity, float(b), nan) for a, b in zip(s[f"{group}/t"], values))
        if "sampled/t" in s:
            yield from ((float(a), "sampled", "loss", float(b), nan) for a, b in zip(s["sampled/t"], s["sampled/loss"]))

    def tidy_rows_measured(self) -> Iterator[tuple[float, str, str, float, float]]:
        """:meth:`tidy_rows` without the curves that hold no number at all (e.g. a loss never measured)."""
        rows = list(self.tidy_rows())
        measured = {(model, quantity) for _, model, quantity, value, _ in rows if math.isfinite(value)}
        return (row for row in rows if (row[1], row[2]) in measured)

    def to_pandas(self) -> pandas.DataFrame:
        """A tidy DataFrame, one row per (time, model, quantity): columns ``time`` (iterations),
        ``model``, ``quantity``, ``value``, ``se`` (NaN where the analysis has no SE per record).
        Curves with no finite value (an evaluation number never recorded) are left out; so are
        drift windows the analysis did not report (too few independent blocks).

        Filter it like any long table, e.g. ``df.query("model == 'I' and quantity == 'alpha'")``.
        """
        try:
            import pandas  # imported here: optional
        except ImportError:
            raise ImportError("AnalysisResult.to_pandas needs pandas: pip install 'lesde[dataframe]'") from None
        rows = list(self.tidy_rows_measured())
        frame = pandas.DataFrame.from_records(rows, columns=list(TIDY_COLUMNS))
        return frame.astype({"model": "category", "quantity": "category"})

    def to_xarray(self) -> xarray.Dataset:
        """The series as an ``xarray.Dataset``.

        Dimensions: ``time`` (the estimates' records, iterations), ``class`` (the class a
        mean belongs to) and ``logit`` (its coordinate), both labelled with the class
        names; the probe, features and eval records on their own time axes
        (``probe_time``, ``features_time``, ``eval_time``). Variables: ``xbar`` (time, class,
        logit), ``leode_mean_I`` / ``leode_std_I`` (and L) on the same axes, ``A_I`` ... ``beta_L``
        (time), the eval and neural-collapse curves on their axes. The summary is in ``attrs["summary"]`` (JSON).
        """
        try:
            import xarray  # imported here: optional
        except ImportError:
            raise ImportError("AnalysisResult.to_xarray needs xarray: pip install xarray") from None
        s = self.series
        K = int(s["estimates/xbar"].shape[1]) if "estimates/xbar" in s else len(self.classes)
        names = self.classes if len(self.classes) == K else [str(k) for k in range(K)]
        variables: dict[str, tuple] = {}
        coords: dict[str, Any] = {"class": names, "logit": names}
        if "estimates/t" in s:
            coords["time"] = s["estimates/t"]
            for key, value in s.items():
                group, _, name = key.partition("/")
                if group != "estimates" or name == "t" or len(value) != len(s["estimates/t"]):
                    continue
                dims = ("time", "class", "logit")[: value.ndim]
                variables[name] = (dims, value)
        for group in ("probe", "features", "eval"):
            if f"{group}/t" not in s:
                continue
            axis = f"{group}_time"
            coords[axis] = s[f"{group}/t"]
            for key, value in s.items():
                prefix, _, name = key.partition("/")
                if prefix != group or name == "t" or len(value) != len(s[f"{group}/t"]):
                    continue
                dims = (axis, "class", "logit")[: value.ndim]
                variables[f"{group}_{name}"] = (dims, value)
        attrs = {"summary": json.dumps(self.summary), "job_id": self.job_id or "", "units": "time in iterations"}
        return xarray.Dataset(variables, coords=coords, attrs=attrs)

    # -- storage --------------------------------------------------------------------------
    def save(self, folder: Path | str) -> Path:
        """Write ``summary.json``, ``series.npz`` (and ``spec.json``) into ``folder``; :meth:`load` reads them back."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "summary.json").write_text(json.dumps(self.summary, indent=1))
        np.savez(folder / "series.npz", allow_pickle=False, **self.series)
        if self.spec is not None:
            (folder / "spec.json").write_text(json.dumps(self.spec, indent=1))
        return folder

    @classmethod
    def load(cls, folder: Path | str) -> AnalysisResult:
        folder = Path(folder)
        spec_path = folder / "spec.json"
        return cls(
            summary=json.loads((folder / "summary.json").read_text()),
            series=series_from_npz((folder / "series.npz").read_bytes()),
            spec=json.loads(spec_path.read_text()) if spec_path.exists() else None,
        )


def reliable_drift(series: dict[str, np.ndarray]) -> np.ndarray:
    """Mask of the drift regression's windows the analysis reports (``estimates/drift_reliable``), shape (W,)."""
    flags = series.get("estimates/drift_reliable")
    n = len(series.get("estimates/drift_t", ()))
    return np.ones(n, bool) if flags is None else np.asarray(flags).astype(bool)


def series_from_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of a ``series.npz`` (as the service serves it), by name."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}

"""The service's analysis in this process: no server, no Redis, no Celery.

    import lesde
    result = lesde.analyze("runs/my-run")                 # a Recorder's run folder
    result = lesde.analyze(frame)                         # a DataFrame in the authors' layout
    result = lesde.analyze(logits=z, labels=y, itr=t, trial=r, classes=["cat", "dog", "ship"])
    result.verdict["label"], result.to_pandas(), result.figure("alpha-beta")

The analyzer's own code runs on the same chunks (a run folder is read as the stored
experiment it becomes after an upload; a table is written into chunks by the same code as
a CSV import), so the numbers are the ones the service would serve for the same data, to
the last bit. Needs ``pip install 'lesde[analysis]'`` (the analyzer's math: numpy, scipy,
matplotlib, pydantic; no FastAPI, no Celery).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from lesde_contract.csv_layout import FIXED_HEAD, FIXED_TAIL

from lesde.recorder.recorder import cross_entropy
from lesde.recorder.run_folder import RunFolder, read_run
from lesde.results import AnalysisResult

if TYPE_CHECKING:
    import pandas
    from lesde_contract.object_store import ObjectStore
    from lesde_contract.specs.analysis import AnalysisOptions

TABLE_JOB_ID = "inprocess0table0"  # the id a table's chunks are written under (in a temporary store)


def analyze(
    run: Path | str | pandas.DataFrame | None = None,
    *,
    logits: Any = None,
    labels: Any = None,
    itr: Any = None,
    trial: Any = None,
    loss: Any = None,
    classes: list[str] | None = None,
    options: AnalysisOptions | dict | None = None,
) -> AnalysisResult:
    """Analyse a recorded run, a table or arrays in this process; the service's result.

    Parameters
    ----------
    run : path or DataFrame, optional
        A run folder written by :class:`lesde.Recorder` (or downloaded), or a pandas
        DataFrame with the authors' columns ``trial, itr, smp, y, y_logit0 .. y_logit{K-1}``
        (``tr_loss``, ``val_loss``, ``val_acc`` optional), one row per trial and iteration.
    logits, labels, itr, trial : array-like, optional
        Instead of ``run``: the long table as arrays, shapes (N, K), (N,), (N,), (N,): every
        trial must have a row at every iteration (a full trial x iteration grid).
    loss : array-like of shape (N,), optional
        Training loss per row; default: the cross-entropy of the logits at the label.
    classes : list of str, optional
        Class names in label order (a run folder has its own).
    options : AnalysisOptions or dict, optional
        The analysis options (the fields of ``POST /v1/experiments/{id}/analysis``); default: the service's defaults.
    """
    try:  # lazy: the analysis extra (lesde_analyzer and what it needs), only for an analysis
        from lesde_analyzer.experiments.pipeline import analyse_experiment
        from lesde_analyzer.figures.experiments import FIGURES
        from lesde_analyzer.imports.chunks import write_import_chunks
        from lesde_contract.run_folder_store import RunFolderStore
        from lesde_contract.specs.analysis import AnalysisOptions
        from lesde_contract.specs.sampling import class_sampling
    except ImportError as error:
        raise ImportError(f"lesde.analyze needs the analysis extra: pip install 'lesde[analysis]' ({error})") from error
    parsed = options if isinstance(options, AnalysisOptions) else AnalysisOptions.model_validate(options or {})

    def analysed(store: ObjectStore, job_id: str, spec: dict, names: list[str] | None) -> AnalysisResult:
        """The analysis of the chunks of ``job_id`` in ``store``."""
        summary, series = analyse_experiment(store, job_id, options=parsed, class_names=names, sampling=class_sampling(spec))
        summary["figures"] = list(FIGURES)  # as the service's job adds them
        return AnalysisResult(summary=summary, series=series, spec=spec)

    if run is not None and not _is_table(run):
        manifest, spec = read_run(run)
        names = classes or (spec.get("dataset") or {}).get("classes")
        return analysed(RunFolderStore(run, manifest.job_id), manifest.job_id, spec, names)
    grid, K, first_itr = grid_of_table(run) if run is not None else grid_of_arrays(logits, labels, itr, trial, loss)
    names = list(classes) if classes else [str(k) for k in range(K)]
    if len(names) != K:
        raise ValueError(f"classes: {len(names)} names for K = {K} logit columns")
    spec = {
        "kind": "import",
        "name": None,
        "source": {"format": "table", "first_itr": first_itr},
        "dataset": {"name": "imported", "classes": names},
        "training": {"iterations": int(grid.shape[0]), "trials": int(grid.shape[1])},
    }
    with tempfile.TemporaryDirectory(prefix="lesde-analyze-") as folder:
        # the CSV import's own chunk writing, into a run folder read back like a recorded run
        sink = _FolderSink(RunFolder(folder, run_id=TABLE_JOB_ID), spec)
        write_import_chunks(sink, grid, K)
        return analysed(RunFolderStore(folder, TABLE_JOB_ID), TABLE_JOB_ID, spec, names)


class _FolderSink:
    """A run folder as the import's chunk writer (``put``, then ``commit`` with the spec)."""

    def __init__(self, run: RunFolder, spec: dict) -> None:
        self.run, self.spec = run, spec

    def put(self, stream: str, first: int, last: int, arrays: dict[str, np.ndarray]) -> None:
        self.run.put(stream, first, last, arrays)

    def commit(self, iterations_done: int, *, complete: bool = False) -> None:
        self.run.commit(self.spec, iterations_done)


def _is_table(run: Any) -> bool:
    return hasattr(run, "columns") and hasattr(run, "to_numpy")


def grid_of_table(frame: pandas.DataFrame) -> tuple[np.ndarray, int, int]:
    """The authors' long table as an iteration-major grid ``(T, R, 4 + K + 3)`` (the CSV import's layout), K, first itr."""
    columns = [str(name) for name in frame.columns]
    missing = [name for name in (*FIXED_HEAD, "y_logit0", "y_logit1") if name not in columns]
    if missing:
        raise ValueError(f"run: the table lacks column(s) {', '.join(missing)}; it needs trial, itr, smp, y, y_logit0 .. y_logit{{K-1}}")
    K = sum(1 for name in columns if name.startswith("y_logit"))
    if [f"y_logit{k}" for k in range(K)] != [name for name in columns if name.startswith("y_logit")]:
        raise ValueError("run: the logit columns must be y_logit0 .. y_logit{K-1}, each once")
    n = len(frame)
    values = {
        name: frame[name].to_numpy(dtype=np.float64) if name in columns else np.full(n, np.nan) for name in (*FIXED_HEAD, *FIXED_TAIL)
    }
    logits = frame[[f"y_logit{k}" for k in range(K)]].to_numpy(dtype=np.float64)
    loss = values["tr_loss"] if "tr_loss" in columns else None
    return _grid(values["trial"], values["itr"], values["smp"], values["y"], logits, loss, values["val_loss"], values["val_acc"])


def grid_of_arrays(logits: Any, labels: Any, itr: Any, trial: Any, loss: Any = None) -> tuple[np.ndarray, int, int]:
    """``logits`` (N, K), ``labels``, ``itr``, ``trial`` (N,) as the grid of :func:`grid_of_table`."""
    named = {"logits": logits, "labels": labels, "itr": itr, "trial": trial}
    absent = [name for name, value in named.items() if value is None]
    if absent:
        raise ValueError(f"{', '.join(absent)}: give a run (folder or DataFrame) or all of logits, labels, itr and trial")
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        raise ValueError(f"logits: shape (N, K) with K >= 2 is needed, got {z.shape}")
    n = len(z)
    for name in ("labels", "itr", "trial"):
        if np.shape(named[name]) != (n,):
            raise ValueError(f"{name}: shape ({n},) to match logits, got {np.shape(named[name])}")
    nan = np.full(n, np.nan)
    smp = np.full(n, -1.0)
    given_loss = None if loss is None else np.asarray(loss, dtype=np.float64)
    return _grid(np.asarray(trial, np.float64), np.asarray(itr, np.float64), smp, np.asarray(labels, np.float64), z, given_loss, nan, nan)


def _grid(
    trial: np.ndarray,
    itr: np.ndarray,
    smp: np.ndarray,
    y: np.ndarray,
    logits: np.ndarray,
    loss: np.ndarray | None,
    val_loss: np.ndarray,
    val_acc: np.ndarray,
) -> tuple[np.ndarray, int, int]:
    """Scatter long rows into the (T, R, C) grid; ValueError naming the first (trial, itr) missing or repeated."""
    K = logits.shape[1]
    if not np.isfinite(logits).all():
        raise ValueError("logits: every logit must be a finite number")
    labels = y.astype(np.int64)
    if (labels != y).any() or labels.min() < 0 or labels.max() >= K:
        raise ValueError(f"labels: integers 0 .. {K - 1} are needed")
    if loss is None:
        loss = cross_entropy(logits, labels)
    trials, trial_index = np.unique(trial.astype(np.int64), return_inverse=True)
    first = int(itr.min())
    step = itr.astype(np.int64) - first
    T, R = int(step.max()) + 1, len(trials)
    position = step * R + trial_index
    if len(position) != T * R or np.unique(position).size != position.size:
        counts = np.bincount(position, minlength=T * R)
        bad = int(np.flatnonzero(counts != 1)[0])
        what = "missing" if counts[bad] == 0 else "repeated"
        raise ValueError(
            f"itr, trial: the rows must form a full trial x itr grid; trial {trials[bad % R]} at itr {first + bad // R} is {what}"
        )
    columns = np.column_stack([trial, itr - first, smp, y, logits, loss, val_loss, val_acc])
    grid = np.empty((T * R, columns.shape[1]))
    grid[position] = columns
    return grid.reshape(T, R, -1), K, first

"""An analysis as one MLflow run: ``to_mlflow(result)``.

The run holds

- params: the experiment's spec flattened to dotted paths (``training.iterations`` ->
  ``"3000"``; lists and other non-strings JSON-encoded), see :func:`flatten_params`;
- metrics: the curves and single numbers of :mod:`lesde.exports.content` (``I/alpha``,
  ``drift/beta_se``, ``eval/val_acc``, ``verdict/r_gamma``, ...), step = iteration, long
  curves thinned evenly (:func:`thin_indices`);
- tags: ``lesde.verdict`` (Theorem 3.1's label), ``lesde.job_id``, ``lesde.classes`` (JSON
  list), ``lesde.options_key``, and the verdict's reasoning as the run's description;
- artifacts: ``figures/<name>.png`` (every figure), ``summary.json`` (the analysis JSON) and
  ``spec.json`` (the whole spec, which params may truncate).

It talks to the tracking server (or local store) through ``mlflow.tracking.MlflowClient``
only: no ``mlflow.start_run``, so no active run or other global MLflow state is left behind.
MLflow is the optional extra ``lesde[mlflow]`` (``mlflow-skinny``), imported when an export runs.

The local file store (the default, ``file:./mlruns``): MLflow 3 keeps it "in maintenance
mode" and refuses to open it unless ``MLFLOW_ALLOW_FILE_STORE=true``. A ``file:`` URI asks
for that store by name, so the export sets the variable while it runs (and restores it; a
value the user set is left alone), and :func:`mlflow_ui_command` includes it, since ``mlflow
ui`` on the same folder needs it too. MLflow's own default, ``sqlite:///mlflow.db``, needs
SQLAlchemy and Alembic, which the full ``mlflow`` package brings and ``mlflow-skinny`` does not.

MLflow 3 sends anonymous usage telemetry of its client calls unless ``MLFLOW_DISABLE_TELEMETRY=true``
(or ``DO_NOT_TRACK=true``) is set; the export leaves that choice to the user.

Time: about 1.3 s for a 3,000-record result into the file store (20,000 metric values after
thinning; the file store's per-value cost is most of it), plus about 2.5 s for the figures.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from lesde.exports.content import figure_pngs, final_step, headline_numbers, scalar_curves

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from lesde.results import AnalysisResult

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
DEFAULT_TRACKING_URI = "file:./mlruns"
DEFAULT_EXPERIMENT = "lesde"
DEFAULT_MAX_POINTS = 2000
ALLOW_FILE_STORE_ENV = "MLFLOW_ALLOW_FILE_STORE"
INSTALL_HINT = "the MLflow export needs MLflow: pip install 'lesde[mlflow]'"
Item = TypeVar("Item")


def resolve_tracking_uri(tracking_uri: str | None = None) -> str:
    """``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else ``file:./mlruns``; a local path
    (``file:./x``, ``./x``, ``/x``) becomes an absolute ``file:///...`` URI, so the store does
    not depend on the directory a later command runs in."""
    uri = tracking_uri or os.environ.get(TRACKING_URI_ENV) or DEFAULT_TRACKING_URI
    if uri.startswith("file://"):
        return uri
    if uri.startswith("file:"):
        return Path(uri[len("file:") :]).resolve().as_uri()
    if "://" not in uri and ":" not in uri.split("/")[0]:  # a bare path, not "sqlite:..." or "databricks"
        return Path(uri).resolve().as_uri()
    return uri


def is_file_store(tracking_uri: str) -> bool:
    """Whether ``tracking_uri`` (as :func:`resolve_tracking_uri` returns it) names MLflow's local file store."""
    return tracking_uri.startswith("file:")


def mlflow_ui_command(tracking_uri: str) -> str | None:
    """The shell command that shows ``tracking_uri``'s runs, or None for a server (open its URL).

    ``mlflow ui`` is in the full ``mlflow`` package (``pip install mlflow``), not in ``mlflow-skinny``.
    """
    if tracking_uri.startswith(("http://", "https://", "databricks")):
        return None
    prefix = f"{ALLOW_FILE_STORE_ENV}=true " if is_file_store(tracking_uri) else ""
    return f"{prefix}mlflow ui --backend-store-uri {tracking_uri}"


def flatten_params(spec: Mapping[str, Any] | None) -> dict[str, str]:
    """The spec as MLflow params: nested keys joined with dots, values as text.

    Strings stay as they are; everything else is JSON (``3000`` -> ``"3000"``, ``True`` ->
    ``"true"``, ``None`` -> ``"null"``, ``["a", "b"]`` -> ``'["a", "b"]'``). An empty mapping is
    one param ``"{}"``, so that it still shows. Values are not truncated here (see :func:`to_mlflow`).
    """
    params: dict[str, str] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping) and value:
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, str):
            params[prefix] = value
        else:
            params[prefix] = json.dumps(value)

    if spec:
        walk("", spec)
    return params


def thin_indices(length: int, max_points: int) -> np.ndarray:
    """At most ``max_points`` indices into a curve of ``length`` points, evenly spread, the first
    and the last always among them; all of them when the curve is short enough. Shape (m,), int64.

    Why thin: ``MlflowClient.log_batch`` takes at most 1,000 metric values per request
    (``mlflow.utils.validation.MAX_METRICS_PER_BATCH``), so a 100,000-iteration run's ten
    estimate curves would be a thousand requests, each a row (or a file line) per point in the
    store; and MLflow's UI draws a run's chart from at most 2,500 sampled points
    (``MAX_RESULTS_PER_RUN`` of ``get-history-bulk-interval``), so points beyond that are
    stored and never seen. 2,000 by default stays under the UI's sampling, so it shows every
    logged point; the full series stay in the analysis (``series.npz``).
    """
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2 (the first and the last point); got {max_points}")
    if length <= max_points:
        return np.arange(length, dtype=np.int64)
    return np.unique(np.linspace(0, length - 1, max_points).round().astype(np.int64))


def _batches(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def _file_store_allowed(tracking_uri: str) -> Iterator[None]:
    """``MLFLOW_ALLOW_FILE_STORE=true`` while the block runs, for a ``file:`` URI that the user did
    not decide about (the variable unset); the environment is process-wide, so this is not
    thread-safe against other code reading it at the same moment."""
    if not is_file_store(tracking_uri) or ALLOW_FILE_STORE_ENV in os.environ:
        yield
        return
    os.environ[ALLOW_FILE_STORE_ENV] = "true"
    try:
        yield
    finally:
        os.environ.pop(ALLOW_FILE_STORE_ENV, None)


def mlflow_client(tracking_uri: str | None = None) -> MlflowClient:
    """An ``MlflowClient`` for reading exports back, also from a local file store in a fresh process.

    MLflow 3 refuses a ``file:`` store unless ``MLFLOW_ALLOW_FILE_STORE=true``; :func:`to_mlflow`
    sets it only while it writes, so reading the runs back later (another process, a restarted
    kernel) needs it again: this sets it for ``file:`` URIs the user has not decided about.
    """
    from mlflow.tracking import MlflowClient  # lazy: the mlflow extra

    uri = resolve_tracking_uri(tracking_uri)
    if is_file_store(uri):
        os.environ.setdefault(ALLOW_FILE_STORE_ENV, "true")
    return MlflowClient(tracking_uri=uri)


def _experiment_id(client: MlflowClient, name: str) -> str:
    """The id of the experiment called ``name``, created if there is none."""
    from mlflow.exceptions import MlflowException  # lazy: the mlflow extra

    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            return client.create_experiment(name)
        except MlflowException:  # created meanwhile by another exporter: use that one
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        raise ValueError(f"the MLflow experiment {name!r} is deleted: restore it (mlflow experiments restore) or choose another name")
    return experiment.experiment_id


def to_mlflow(
    result: AnalysisResult,
    *,
    tracking_uri: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    run_name: str | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    figures: bool = True,
) -> str:
    """Log ``result`` as a new, finished MLflow run and return its run id.

    Parameters
    ----------
    result : AnalysisResult
        From :meth:`lesde.client.LesdeClient.result`, :func:`lesde.analyze` or
        :meth:`AnalysisResult.load`.
    tracking_uri : str, optional
        Where to log; default ``$MLFLOW_TRACKING_URI``, else the local file store
        ``file:./mlruns`` (see the module docstring for MLflow 3's view of it).
    experiment : str
        The MLflow experiment's name, created when it does not exist.
    run_name : str, optional
        Default: the job id.
    max_points : int
        At most this many points per curve (:func:`thin_indices` says why), at least 2.
    figures : bool
        Draw every figure into ``figures/<name>.png`` (needs the analysis extra; without it
        the run gets the tag ``lesde.figures`` saying so instead).

    Param values longer than MLflow's limit (``MAX_PARAM_VAL_LENGTH``, 6,000 characters in
    MLflow 3) are cut to it, and the tag ``lesde.truncated_params`` lists their keys
    (``spec.json`` has them whole). Everything is computed (figures drawn) before the run is
    created; should logging fail halfway, the run is marked FAILED.
    """
    try:
        from mlflow.entities import Metric, Param, RunTag  # lazy: the mlflow extra
        from mlflow.tracking import MlflowClient
        from mlflow.utils import validation
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT} ({error})") from None

    uri = resolve_tracking_uri(tracking_uri)
    timestamp_ms = int(time.time() * 1000)
    params = flatten_params(result.spec)
    truncated = sorted(key for key, value in params.items() if len(value) > validation.MAX_PARAM_VAL_LENGTH)
    metrics = []
    for curve in scalar_curves(result):
        keep = thin_indices(len(curve.steps), max_points)
        metrics += [Metric(curve.name, float(v), timestamp_ms, int(s)) for s, v in zip(curve.steps[keep], curve.values[keep])]
    step = final_step(result)
    metrics += [Metric(name, value, timestamp_ms, step) for name, value in headline_numbers(result).items()]
    pngs, figures_missing = figure_pngs(result) if figures else ({}, None)
    tags = {
        "lesde.verdict": str(result.verdict.get("label", "no verdict")),
        "lesde.job_id": str(result.job_id or ""),
        "lesde.classes": json.dumps(result.classes),
        "lesde.options_key": str(result.summary.get("options_key") or ""),
        "mlflow.note.content": str(result.verdict.get("why") or ""),  # the run's description in the UI
    }
    if truncated:
        tags["lesde.truncated_params"] = json.dumps(truncated)
    if figures_missing:
        tags["lesde.figures"] = figures_missing
    tags = {key: value[: validation.MAX_TAG_VAL_LENGTH] for key, value in tags.items() if value}

    with _file_store_allowed(uri):
        client = MlflowClient(tracking_uri=uri)
        run = client.create_run(_experiment_id(client, experiment), run_name=run_name or result.job_id, start_time=timestamp_ms)
        run_id = run.info.run_id
        try:
            param_list = [Param(key, value[: validation.MAX_PARAM_VAL_LENGTH]) for key, value in params.items()]
            for param_batch in _batches(param_list, validation.MAX_PARAMS_TAGS_PER_BATCH):
                client.log_batch(run_id, params=param_batch, synchronous=True)
            tag_list = [RunTag(key, value) for key, value in tags.items()]
            for tag_batch in _batches(tag_list, validation.MAX_PARAMS_TAGS_PER_BATCH):
                client.log_batch(run_id, tags=tag_batch, synchronous=True)
            for metric_batch in _batches(metrics, validation.MAX_METRICS_PER_BATCH):
                client.log_batch(run_id, metrics=metric_batch, synchronous=True)
            with tempfile.TemporaryDirectory(prefix="lesde-mlflow-") as folder:
                _write_artifacts(Path(folder), result, pngs)
                client.log_artifacts(run_id, folder)
        except BaseException:
            client.set_terminated(run_id, status="FAILED")
            raise
        client.set_terminated(run_id, status="FINISHED")
    return run_id


def _write_artifacts(folder: Path, result: AnalysisResult, pngs: Mapping[str, bytes]) -> None:
    """``summary.json``, ``spec.json`` (when known) and ``figures/<name>.png`` into ``folder``."""
    (folder / "summary.json").write_text(json.dumps(result.summary, indent=1))
    if result.spec is not None:
        (folder / "spec.json").write_text(json.dumps(result.spec, indent=1))
    if pngs:
        (folder / "figures").mkdir()
        for name, data in pngs.items():
            (folder / "figures" / f"{name}.png").write_bytes(data)

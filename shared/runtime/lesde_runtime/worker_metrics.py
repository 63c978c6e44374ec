"""The workers' Prometheus metrics: tasks, trainer throughput, chunks (docs/operations.md, "Metrics").

A Celery worker runs its tasks in pool processes (prefork, compose's default) or in
itself (``--pool solo``, the embedded stack). Either way one port per worker
(``LESDE_METRICS_PORT``) answers for all of them, through prometheus_client's multiprocess
mode: each process keeps its values in files of one folder, and the worker's main process
serves the sum (:func:`serve`). That mode is chosen when the ``prometheus_client`` module
is first imported, hence here, before the import: a worker with a metrics port gets the
folder (``LESDE_METRICS_DIR``, emptied, or a fresh temporary one) before any metric exists.
A process without a port (the gateway, tests, ``lesde_runtime.worker_metrics`` imported by the trainer's
job code in-process) keeps plain in-memory metrics that nothing serves.

Names (every one prefixed ``lesde_``):

- ``lesde_worker_tasks_started_total{task}``, ``lesde_worker_tasks_total{task, outcome}``
  (outcome: Celery's state, lower case: ``success``, ``failure``, ``retry``...; a job that
  fails inside its task is recorded in the job's status and its task ends in ``success``),
  ``lesde_worker_task_duration_seconds{task}`` (histogram: analyses, simulations, imports,
  training), ``lesde_worker_tasks_running{task}``;
- ``lesde_trainer_chunks_written_total``, ``lesde_trainer_trial_iterations_total`` (trials
  x iterations trained, counted per chunk written: ``rate()`` of it is the throughput), and
  ``lesde_trainer_trial_iterations_per_second`` (the last chunk's, 0 between jobs).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from lesde_runtime.settings import ObservabilitySettings

log = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _prepare_multiprocess_folder() -> None:
    """Point prometheus_client at a clean folder when this process is a worker with a metrics port."""
    settings = ObservabilitySettings()
    if not settings.metrics_port or os.environ.get(MULTIPROCESS_ENV):
        return  # no port, or the operator chose the folder (and empties it) themselves
    if "prometheus_client" in sys.modules:
        log.warning("prometheus_client was imported before lesde_runtime.worker_metrics: LESDE_METRICS_PORT serves this process only")
        return
    if settings.metrics_dir is None:
        folder = Path(tempfile.mkdtemp(prefix="lesde-metrics-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    else:
        folder = settings.metrics_dir
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):  # a previous run's values would add to this one's
            stale.unlink(missing_ok=True)
    os.environ[MULTIPROCESS_ENV] = str(folder)


_prepare_multiprocess_folder()

# prometheus_client reads PROMETHEUS_MULTIPROC_DIR when imported: after the folder is set
from prometheus_client import (  # noqa: E402 - imported once the multiprocess folder is set
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

# From a figure's second to the longest training (48 h).
TASK_SECONDS_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 43200, 172800)

TASKS_STARTED = Counter("lesde_worker_tasks_started", "Tasks this worker started, by task name.", ["task"])
TASKS_DONE = Counter("lesde_worker_tasks", "Tasks this worker finished, by task name and Celery outcome.", ["task", "outcome"])
TASK_SECONDS = Histogram(
    "lesde_worker_task_duration_seconds",
    "Seconds from a task's start to its end, by task name.",
    ["task"],
    buckets=TASK_SECONDS_BUCKETS,
)
TASKS_RUNNING = Gauge("lesde_worker_tasks_running", "Tasks running now, by task name.", ["task"], multiprocess_mode="livesum")
CHUNKS_WRITTEN = Counter("lesde_trainer_chunks_written", "Training chunks written (each commits a checkpoint and the manifest).")
TRIAL_ITERATIONS = Counter("lesde_trainer_trial_iterations", "Trials x iterations trained, counted as each chunk is written.")
TRIAL_ITERATIONS_RATE = Gauge(
    "lesde_trainer_trial_iterations_per_second",
    "Trial-iterations per second of the last chunk written (0 between jobs).",
    multiprocess_mode="livesum",
)


def chunk_written(*, trial_iterations: int, seconds: float) -> None:
    """Count one training chunk: ``trial_iterations`` (trials x its iterations) done in ``seconds``."""
    CHUNKS_WRITTEN.inc()
    TRIAL_ITERATIONS.inc(trial_iterations)
    TRIAL_ITERATIONS_RATE.set(trial_iterations / seconds if seconds > 0 else 0.0)


def multiprocess_active() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


def serve(port: int) -> None:
    """Serve this worker's metrics (all its pool processes') on ``port``, from a thread."""
    registry = CollectorRegistry()
    if multiprocess_active():
        multiprocess.MultiProcessCollector(registry)
    else:  # prometheus_client came first (see _prepare_multiprocess_folder): this process's own
        from prometheus_client import REGISTRY as registry  # noqa: N811 - the local name the other branch binds
    start_http_server(port, registry=registry)


def process_exited(pid: int) -> None:
    """Forget a pool process's live gauges (its counters stay counted)."""
    if multiprocess_active():
        multiprocess.mark_process_dead(pid)

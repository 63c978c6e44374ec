"""What a worker does around each task: logs with the job's fields, the job's stored log
lines, worker_metrics. Wired to Celery's signals by :func:`observe_worker`, which each worker
module (``lesde_trainer.worker``, ``lesde_analyzer.worker``) calls before it imports its tasks.

- ``setup_logging``: the worker's logging is :func:`lesde_runtime.logs.configure_logging` (a receiver
  of this signal tells Celery to leave logging alone; ``--loglevel`` is then unused:
  ``LESDE_LOG_LEVEL`` decides);
- ``worker_init`` (the main process, before the pool starts): connect the handlers below
  (so that a process that only imports a worker module runs none), and serve the metrics
  when ``LESDE_METRICS_PORT`` is set (:func:`lesde_runtime.worker_metrics.serve`);
- ``task_prerun`` / ``task_postrun`` (in the process that runs the task, one thread, one
  context): bind ``job_id`` (the task's first argument), ``kind`` (from the task's name),
  ``task_id`` and ``task`` onto every line, attach a :class:`~lesde_runtime.job_logs.JobLogHandler`
  that keeps the job's lines in the store (not for :data:`UNSTORED_TASKS`), log the start
  and the end, count and time the task; then undo it all.
  ``task_postrun`` comes after success, failure and retry alike, with Celery's state;
- ``worker_process_shutdown``: a pool process's live gauges are dropped.
"""

from __future__ import annotations

import logging
import os
import time
from contextvars import Token
from dataclasses import dataclass
from datetime import UTC, datetime

from celery import Task, signals
from lesde_contract import object_keys

from lesde_runtime import celery_app, worker_metrics
from lesde_runtime.job_logs import JobLogHandler, segment_name
from lesde_runtime.logs import bind, configure_logging, unbind
from lesde_runtime.settings import ObservabilitySettings
from lesde_runtime.storage import make_store

log = logging.getLogger(__name__)

__all__ = ["TASK_KINDS", "observe_worker"]

# The kind of job whose id is each task's first argument.
TASK_KINDS = {
    celery_app.TRAIN_EXPERIMENT: "experiment",
    celery_app.ANALYZE_EXPERIMENT: "experiment",
    celery_app.IMPORT_EXPERIMENT: "experiment",
    celery_app.RENDER_FIGURE: "experiment",
    celery_app.RUN_SIMULATION: "simulation",
    celery_app.ANALYZE_SWEEP: "sweep",
    celery_app.VALIDATE_DATASET: "dataset",
}

# Tasks whose lines go to the process's stream only, not to the job's stored lines: one runs
# per figure size a browser asks for, and their runs would push the job's training and
# analysis runs out of the few runs a job keeps (lesde_runtime.job_logs.MAX_RUNS).
UNSTORED_TASKS = frozenset({celery_app.RENDER_FIGURE})


@dataclass
class _Running:
    token: Token  # the context token of the bound fields
    started: float  # time.monotonic()
    handler: JobLogHandler | None


_running: dict[str, _Running] = {}
_service = "worker"


def observe_worker(service: str) -> None:
    """Connect the handlers of this module to Celery's signals; ``service`` names the
    process in every log line (``trainer``, ``analyzer``). Call it once, at import of the worker module."""
    global _service
    _service = service
    signals.setup_logging.connect(_setup_logging, weak=False)
    signals.worker_init.connect(_worker_starts, weak=False)


def _setup_logging(**_: object) -> None:
    configure_logging(_service)


def _worker_starts(**_: object) -> None:
    """In a worker only (a process that merely imports the worker module, as a test does,
    runs no task handler): the task handlers, inherited by the pool's processes, and the worker_metrics."""
    signals.task_prerun.connect(task_started, weak=False)
    signals.task_postrun.connect(task_ended, weak=False)
    signals.worker_process_shutdown.connect(_pool_process_exited, weak=False)
    _serve_metrics()


def _serve_metrics() -> None:
    port = ObservabilitySettings().metrics_port
    if not port:
        return
    try:
        worker_metrics.serve(port)
    except OSError as error:  # the jobs matter more than their metrics: run on, say so loudly
        log.error("metrics not served: LESDE_METRICS_PORT=%d cannot be bound (%s)", port, error)
        return
    log.info("metrics served at http://0.0.0.0:%d/metrics", port)


def _job_of(task_name: str, args: object) -> tuple[str | None, str | None]:
    """``(kind, job_id)`` of a task's message: its first argument, when it is a job id."""
    kind = TASK_KINDS.get(task_name)
    first = args[0] if isinstance(args, list | tuple) and args else None
    if kind is None or not isinstance(first, str) or not object_keys.ID_PATTERN.match(first):
        return None, None
    return kind, first


def _attach_job_log(kind: str, job_id: str, worker: str) -> JobLogHandler | None:
    try:
        handler = JobLogHandler(make_store(), kind, job_id, service=_service, segment=segment_name(worker, datetime.now(UTC)))
    except Exception as error:  # noqa: BLE001 - a job without stored lines still runs
        log.warning("%s %s: its log lines will not be stored: %s", kind, job_id, error)
        return None
    logging.getLogger().addHandler(handler)
    return handler


def task_started(task_id: str, task: Task, args: object = None, **_: object) -> None:
    """``task_prerun``: bind the job's fields, keep its lines, count the start."""
    name = task.name
    kind, job_id = _job_of(name, args)
    token = bind(job_id=job_id, kind=kind, task_id=task_id, task=name)
    worker = getattr(task.request, "hostname", None) or f"{_service}-{os.getpid()}"
    handler = _attach_job_log(kind, job_id, worker) if kind and job_id and name not in UNSTORED_TASKS else None
    _running[task_id] = _Running(token=token, started=time.monotonic(), handler=handler)
    log.info("%s started on %s", name, worker)  # the first of the job's own lines for this run
    worker_metrics.TASKS_STARTED.labels(name).inc()
    worker_metrics.TASKS_RUNNING.labels(name).inc()


def task_ended(task_id: str, task: Task, state: str | None = None, **_: object) -> None:
    """``task_postrun``: count and time the task, store the job's last lines, unbind."""
    name = task.name
    running = _running.pop(task_id, None)
    worker_metrics.TASKS_DONE.labels(name, (state or "unknown").lower()).inc()
    worker_metrics.TASKS_RUNNING.labels(name).dec()
    if name == celery_app.TRAIN_EXPERIMENT:
        worker_metrics.TRIAL_ITERATIONS_RATE.set(0.0)
    if running is None:
        return
    seconds = time.monotonic() - running.started
    worker_metrics.TASK_SECONDS.labels(name).observe(seconds)
    log.info("%s ended (%s) after %.1f s", name, (state or "unknown").lower(), seconds)  # the last, before the handler goes
    if running.handler is not None:
        logging.getLogger().removeHandler(running.handler)
        running.handler.close()  # the last write, here in the task's thread
    try:
        unbind(running.token)
    except ValueError:  # postrun in another context than prerun (not Celery's way): nothing to undo there
        pass


def _pool_process_exited(pid: int | None = None, **_: object) -> None:
    worker_metrics.process_exited(pid or os.getpid())

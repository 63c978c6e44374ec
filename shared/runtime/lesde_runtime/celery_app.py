"""The one Celery app, its queues and task names (the contract between services).

The API only *sends* tasks by name, so it never imports torch or scipy. Workers import
their own task modules (``lesde_trainer.worker``, ``lesde_analyzer.worker``).

``LESDE_BROKER_URL=filesystem://`` selects kombu's filesystem transport: the embedded
default that needs no Redis (messages are files under ``LESDE_BROKER_DIR``).

Delivery is at least once, tuned for jobs that run for hours:

- late acknowledgement with prefetch 1: a message is acknowledged when its task returns,
  so a worker that dies leaves it to be delivered again (``reject_on_worker_lost``
  requeues it at once when only a pool child died). Every task is idempotent: a training
  job resumes from its checkpoint, a finished job's task does nothing, and the job's lease
  (:mod:`lesde_runtime.leases`) refuses a second delivery while the first still runs;
- time limits per task (:func:`time_limits`, from :class:`~lesde_runtime.settings.LeaseSettings`):
  at the soft limit the task is told and records the failure; at the hard one, a few
  minutes later, the pool kills it;
- Redis hands out a message nobody acknowledged again only after the visibility timeout
  (:func:`visibility_timeout`): the longest hard time limit plus a margin, so no task still
  running is ever given to a second worker by the broker. A worker that died sooner is
  covered by the lease: :mod:`lesde_runtime.reaper` requeues its job once the lease expires;
- a worker that loses its broker connection lets its running tasks go on
  (``worker_cancel_long_running_tasks_on_connection_loss`` off): cancelling would throw
  away a training chunk at every broker blip. Such a task's acknowledgement is lost with
  the connection; the message then comes back after the visibility timeout, and finds
  its job finished.
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded  # noqa: F401  (raised in a task at its soft limit; services catch it from here)

from lesde_runtime.settings import BrokerSettings, LeaseSettings

log = logging.getLogger(__name__)

TRAIN_QUEUE = "train"
ANALYZE_QUEUE = "analyze"

TRAIN_EXPERIMENT = "lesde.train_experiment"
ANALYZE_EXPERIMENT = "lesde.analyze_experiment"
IMPORT_EXPERIMENT = "lesde.import_experiment"
RUN_SIMULATION = "lesde.run_simulation"
RENDER_FIGURE = "lesde.render_figure"
ANALYZE_SWEEP = "lesde.analyze_sweep"
VALIDATE_DATASET = "lesde.validate_dataset"

TASK_QUEUES = {
    TRAIN_EXPERIMENT: TRAIN_QUEUE,
    ANALYZE_EXPERIMENT: ANALYZE_QUEUE,
    IMPORT_EXPERIMENT: ANALYZE_QUEUE,
    RUN_SIMULATION: ANALYZE_QUEUE,
    RENDER_FIGURE: ANALYZE_QUEUE,
    ANALYZE_SWEEP: ANALYZE_QUEUE,
    VALIDATE_DATASET: ANALYZE_QUEUE,
}

# From the soft time limit (the task is told, and records its failure) to the hard one
# (the pool kills the process).
HARD_LIMIT_GRACE_S = 300.0
# Beyond the longest hard time limit before Redis hands an unacknowledged message out
# again: the broker's and the workers' clocks, and a task's last writes, fit in it.
VISIBILITY_MARGIN_S = 3600.0


def time_limits(leases: LeaseSettings) -> dict[str, tuple[float, float]]:
    """``{task name: (soft, hard) time limit in seconds}``: the training limit for the train
    queue's tasks, the analysis limit for the others."""
    limits = {}
    for name, queue in TASK_QUEUES.items():
        soft = leases.train_time_limit_seconds if queue == TRAIN_QUEUE else leases.analysis_time_limit_seconds
        limits[name] = (soft, soft + HARD_LIMIT_GRACE_S)
    return limits


def visibility_timeout(leases: LeaseSettings) -> float:
    """Seconds Redis waits before delivering an unacknowledged message again: longer than
    any task may run, so only a message whose worker is gone comes back."""
    return max(hard for _soft, hard in time_limits(leases).values()) + VISIBILITY_MARGIN_S


def _transport_options(settings: BrokerSettings, leases: LeaseSettings) -> dict:
    if settings.broker_url.startswith("filesystem://"):
        root = Path(settings.broker_dir).resolve()
        folder, control = root / "messages", root / "control"
        folder.mkdir(parents=True, exist_ok=True)
        control.mkdir(parents=True, exist_ok=True)
        # Producer and consumers share one folder: "in" of one is "out" of the other.
        # The control folder (exchange bindings) would otherwise land in the cwd.
        return {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(control),
            "store_processed": False,
        }
    return {"visibility_timeout": visibility_timeout(leases)}


def make_celery(settings: BrokerSettings | None = None, leases: LeaseSettings | None = None) -> Celery:
    settings = settings or BrokerSettings()
    leases = leases or LeaseSettings()
    celery = Celery("lesde", broker=settings.broker_url)
    celery.conf.update(
        broker_transport_options=_transport_options(settings, leases),
        broker_connection_retry_on_startup=True,
        task_routes={name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        task_default_queue=ANALYZE_QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_annotations={name: {"soft_time_limit": soft, "time_limit": hard} for name, (soft, hard) in time_limits(leases).items()},
        worker_hijack_root_logger=False,
        task_serializer="json",
        accept_content=["json"],
    )
    return celery


app = make_celery()


def send(task_name: str, *args: object) -> None:
    """Enqueue ``task_name`` on its queue."""
    app.send_task(task_name, args=list(args), queue=TASK_QUEUES[task_name])


#: how long a follow-up message (an analysis after training or an import, a sweep's refresh) is retried, as the store's retries
FOLLOW_UP_RETRY_SECONDS = 60.0


def send_with_retry(task_name: str, *args: object, within: float = FOLLOW_UP_RETRY_SECONDS, sleep=None, clock=None) -> None:  # noqa: ANN001
    """:func:`send`, retried with doubling pauses (0.5 s up to 10 s) for ``within`` seconds, then raised.

    For the messages a worker sends after its own work is stored: a broker that is down
    for a minute (a Redis restart) delays them instead of dropping them; past that the
    reaper's scan sends them (within ``LESDE_FULL_SCAN_SECONDS`` of the broker's return).
    """
    import time

    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + within
    pause = 0.5
    while True:
        try:
            send(task_name, *args)
            return
        except Exception as error:  # kombu raises many types for a dead broker
            if clock() + pause > deadline:
                raise
            log.warning("could not send %s%s (%s: %s); retrying in %.1f s", task_name, args, type(error).__name__, error, pause)
            sleep(pause)
            pause = min(2 * pause, 10.0)

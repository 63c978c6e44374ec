"""The one Celery app, its queues and task names (the contract between services).

The API only *sends* tasks by name, so it never imports torch or scipy. Workers import
their own task modules (``lesde_trainer.worker``, ``lesde_analyzer.worker``).

``LESDE_BROKER_URL=filesystem://`` selects kombu's filesystem transport: the embedded
default that needs no Redis (messages are files under ``LESDE_BROKER_DIR``).
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery

from lesde.settings import BrokerSettings

TRAIN_QUEUE = "train"
ANALYZE_QUEUE = "analyze"

TRAIN_EXPERIMENT = "lesde.train_experiment"
ANALYZE_EXPERIMENT = "lesde.analyze_experiment"
IMPORT_EXPERIMENT = "lesde.import_experiment"
RUN_SIMULATION = "lesde.run_simulation"
RENDER_FIGURE = "lesde.render_figure"
ANALYZE_SWEEP = "lesde.analyze_sweep"

TASK_QUEUES = {
    TRAIN_EXPERIMENT: TRAIN_QUEUE,
    ANALYZE_EXPERIMENT: ANALYZE_QUEUE,
    IMPORT_EXPERIMENT: ANALYZE_QUEUE,
    RUN_SIMULATION: ANALYZE_QUEUE,
    RENDER_FIGURE: ANALYZE_QUEUE,
    ANALYZE_SWEEP: ANALYZE_QUEUE,
}

# Redis redelivers an unacknowledged task after this long. Training tasks ack late (so
# a killed worker's task is redelivered and resumes), hence the long timeout: a task
# still running must not be handed to a second worker.
VISIBILITY_TIMEOUT_S = 7 * 24 * 3600


def _transport_options(settings: BrokerSettings) -> dict:
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
    return {"visibility_timeout": VISIBILITY_TIMEOUT_S}


def make_celery(settings: BrokerSettings | None = None) -> Celery:
    settings = settings or BrokerSettings()
    celery = Celery("lesde", broker=settings.broker_url)
    celery.conf.update(
        broker_transport_options=_transport_options(settings),
        broker_connection_retry_on_startup=True,
        task_routes={name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        task_default_queue=ANALYZE_QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        task_serializer="json",
        accept_content=["json"],
    )
    return celery


app = make_celery()


def send(task_name: str, *args: object) -> None:
    """Enqueue ``task_name`` on its queue."""
    app.send_task(task_name, args=list(args), queue=TASK_QUEUES[task_name])

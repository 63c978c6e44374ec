"""How many messages wait in each of our queues, where the broker can tell (for ``/metrics``).

Redis: the length of each queue's lists (kombu keeps one per priority step, as
:mod:`lesde_runtime.broker_census` describes). The filesystem transport: the number of message
files named for the queue. Messages delivered to a worker and not yet acknowledged are not
waiting, so they are not counted. Any other transport: unknown (None).
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery

from lesde_runtime.celery_app import TASK_QUEUES

__all__ = ["queue_depths"]

CONNECT_TIMEOUT_S = 2.0


def _queues() -> list[str]:
    return sorted(set(TASK_QUEUES.values()))


def queue_depths(app: Celery) -> dict[str, int] | None:
    """``{queue: messages waiting}`` for every queue of ours; None when the transport cannot say.
    Broker errors propagate."""
    with app.connection_for_read() as connection:
        # One attempt: a scrape must answer quickly (the gauge is left out) while the broker is down.
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=CONNECT_TIMEOUT_S)
        driver = connection.transport.driver_type
        if driver == "redis":
            return _redis_depths(connection.default_channel)
        if driver == "filesystem":
            folder = app.conf.broker_transport_options.get("data_folder_in")
            return _file_depths(Path(folder)) if folder else None
    return None


def _redis_depths(channel) -> dict[str, int]:  # noqa: ANN001  (kombu.transport.redis.Channel)
    client = channel.client
    depths = {}
    for queue in _queues():
        lists = [queue if step == 0 else f"{queue}{channel.sep}{step}" for step in sorted(set(channel.priority_steps))]
        depths[queue] = sum(int(client.llen(key)) for key in lists)
    return depths


def _file_depths(folder: Path) -> dict[str, int]:
    try:
        names = [entry.name for entry in folder.iterdir()]
    except FileNotFoundError:
        names = []
    return {queue: sum(name.endswith(f".{queue}.msg") for name in names) for queue in _queues()}

"""Which jobs the broker still holds a message for: the reaper's way to tell a queued job
that waits its turn from one whose message was lost (Redis restarted without its data).

A census reads every message waiting in our queues and every one delivered but not yet
acknowledged, and notes each one's task name and first argument (the job id). It knows:

- Redis (kombu's layout): the queue lists (one per priority step) and the ``unacked``
  hash of delivered messages;
- the filesystem transport: the message files of the shared folder. A message a worker
  took is in no file: on this transport a job being started or run has no message to see
  (its lease and the reaper's grace period cover it).

Messages are Celery protocol 2 (task name in the headers, ``[args, kwargs, embed]`` as the
body) or protocol 1 (``{"task", "args"}`` as the body). Any other transport: no census.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from celery import Celery

from lesde_runtime.celery_app import TASK_QUEUES

log = logging.getLogger(__name__)

__all__ = ["Census", "take_census", "task_and_first_argument"]


@dataclass
class Census:
    """Task messages the broker holds, as ``(task name, first argument)`` pairs."""

    messages: set[tuple[str, str]] = field(default_factory=set)

    def has(self, task_name: str, job_id: str) -> bool:
        return (task_name, job_id) in self.messages

    def add(self, message: dict) -> None:
        found = task_and_first_argument(message)
        if found is not None:
            self.messages.add(found)

    def add_serialized(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
        except ValueError:  # a file still being written, or not a message
            return
        if isinstance(message, dict):
            self.add(message)


def task_and_first_argument(message: dict) -> tuple[str, str] | None:
    """``(task name, first argument)`` of a kombu message (as the transports store it); None if it is not a task's."""
    try:
        headers = message.get("headers") or {}
        body = message["body"]
        if (message.get("properties") or {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        decoded = json.loads(body)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        log.debug("not a task message: %s", error)
        return None
    if "task" in headers and isinstance(decoded, list) and decoded and decoded[0]:
        task, args = headers["task"], decoded[0]  # protocol 2
    elif isinstance(decoded, dict) and decoded.get("args"):
        task, args = decoded.get("task"), decoded["args"]  # protocol 1
    else:
        return None
    if not isinstance(task, str) or not isinstance(args, list) or not isinstance(args[0], str):
        return None
    return task, args[0]


def take_census(app: Celery) -> Census | None:
    """Every message of our queues the broker of ``app`` holds, waiting or delivered and
    unacknowledged; None when its transport allows no census. Broker errors propagate."""
    with app.connection_for_read() as connection:
        driver = connection.transport.driver_type
        if driver == "redis":
            return _redis_census(connection.default_channel)
        if driver == "filesystem":
            folder = app.conf.broker_transport_options.get("data_folder_in")
            return _census_of(_message_files(Path(folder))) if folder else None
    return None


def _queues() -> set[str]:
    return set(TASK_QUEUES.values())


def _redis_census(channel) -> Census:  # noqa: ANN001  (kombu.transport.redis.Channel)
    client = channel.client  # prefixes keys with the channel's global_keyprefix, as kombu does
    census = Census()
    for queue in sorted(_queues()):
        # kombu keeps one list per priority step: the queue's name, then name + sep + step.
        for step in sorted(set(channel.priority_steps)):
            key = queue if step == 0 else f"{queue}{channel.sep}{step}"
            for raw in client.lrange(key, 0, -1):
                census.add_serialized(raw)
    for raw in client.hvals(channel.unacked_key):
        try:
            message = json.loads(raw)[0]  # [message, exchange, routing key]
        except (ValueError, IndexError, TypeError):
            continue
        if isinstance(message, dict):
            census.add(message)
    return census


def _message_files(folder: Path) -> Iterator[bytes]:
    suffixes = {f".{queue}.msg" for queue in _queues()}
    try:
        names = [name for name in (entry.name for entry in folder.iterdir()) if any(name.endswith(s) for s in suffixes)]
    except FileNotFoundError:
        return
    for name in names:
        try:
            yield (folder / name).read_bytes()
        except OSError:  # taken by a worker meanwhile
            continue


def _census_of(messages: Iterable[str | bytes]) -> Census:
    census = Census()
    for raw in messages:
        census.add_serialized(raw)
    return census

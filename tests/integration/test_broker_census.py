"""The reaper's census on a real Redis: messages sent by the real Celery app are found by
job id, waiting in the queue or delivered and not yet acknowledged (kombu's ``unacked``
hash). Needs the Redis of ``scripts/test_stack.py``; it uses a database of its own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import redis
from celery import Celery
from lesde_runtime import celery_app
from lesde_runtime.broker_census import take_census
from lesde_runtime.settings import BrokerSettings

CENSUS_DB = 7  # the other integration tests use database 0: no worker of theirs takes these messages


@pytest.fixture
def app(redis_url: str) -> Iterator[Celery]:
    url = redis_url.rsplit("/", 1)[0] + f"/{CENSUS_DB}"
    app = celery_app.make_celery(BrokerSettings(broker_url=url))
    yield app
    redis.Redis.from_url(url).flushdb()
    app.close()


def _send(app: Celery, task: str, job_id: str) -> None:
    app.send_task(task, args=[job_id], queue=celery_app.TASK_QUEUES[task])


def test_the_census_finds_waiting_and_delivered_messages_by_job_id(app):
    first, second, analysed = (secrets.token_hex(8) for _ in range(3))
    _send(app, celery_app.TRAIN_EXPERIMENT, first)
    _send(app, celery_app.TRAIN_EXPERIMENT, second)
    _send(app, celery_app.ANALYZE_EXPERIMENT, analysed)

    census = take_census(app)
    assert census.has(celery_app.TRAIN_EXPERIMENT, first) and census.has(celery_app.TRAIN_EXPERIMENT, second)
    assert census.has(celery_app.ANALYZE_EXPERIMENT, analysed)
    assert not census.has(celery_app.ANALYZE_EXPERIMENT, first)  # a job's training and its analysis are told apart

    # A worker takes one (late acknowledgement: it moves to the unacked hash while the task runs).
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(celery_app.TRAIN_QUEUE)
        taken = queue.get(timeout=5)
        taken_id = taken.payload[0][0]
        assert taken_id in (first, second)
        client = redis.Redis.from_url(app.conf.broker_url)
        assert client.llen(celery_app.TRAIN_QUEUE) == 1 and client.hlen("unacked") == 1
        census = take_census(app)
        assert census.has(celery_app.TRAIN_EXPERIMENT, first) and census.has(celery_app.TRAIN_EXPERIMENT, second)
        taken.ack()
    assert not take_census(app).has(celery_app.TRAIN_EXPERIMENT, taken_id)  # acknowledged: gone

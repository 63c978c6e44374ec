"""``GET /v1/{kind}/{id}/logs``: the lines a worker logged while it ran the job's task, stored
beside the job's status and served by the gateway.

The real analyzer task (``lesde.run_simulation``) runs in-process through Celery's own
tracer (``task.apply``), so the real ``task_prerun``/``task_postrun`` signals bind the
job's fields and attach the store handler, exactly as in a worker (:mod:`lesde_runtime.task_signals`).
Only the worker process itself is absent (tests/integration runs real workers).
"""

from __future__ import annotations

import logging

import pytest
from celery import signals
from lesde_analyzer.tasks import run_simulation_task
from lesde_api.routes.logs import MOST_LINES
from lesde_runtime import worker_metrics
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.task_signals import task_ended, task_started

SIMULATION = {"mode": "ode", "classes": 2, "dim": 1, "runs": 2, "steps": 20, "record_every": 10, "seed": 1}


@pytest.fixture
def worker_signals(store, monkeypatch, caplog):
    """The worker's task signal handlers, connected for this test; the task's own store is ``store``."""
    monkeypatch.setenv("LESDE_STORE", "local")
    monkeypatch.setenv("LESDE_LOCAL_STORE_DIR", str(store.root))
    caplog.set_level(logging.INFO)  # the worker's LESDE_LOG_LEVEL default
    signals.task_prerun.connect(task_started)
    signals.task_postrun.connect(task_ended)
    yield
    signals.task_prerun.disconnect(task_started)
    signals.task_postrun.disconnect(task_ended)


def test_a_failed_jobs_error_and_traceback_are_served_with_its_fields(client, store, sent, worker_signals):
    job_id = client.post("/v1/simulations", json=SIMULATION).json()["id"]
    store.put_json(f"simulations/{job_id}/spec.json", {"mode": "broken"})  # damaged after submission: the job fails
    done_before = worker_metrics.TASKS_DONE.labels("lesde.run_simulation", "success")._value.get()

    result = run_simulation_task.apply(args=[job_id])

    assert JobRepository(store, "simulation").get(job_id).status == "failed"
    answer = client.get(f"/v1/simulations/{job_id}/logs")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    failure = next(line for line in body["data"] if line["message"] == f"simulation {job_id} failed")
    assert failure["level"] == "ERROR" and failure["logger"] == "lesde_analyzer.simulations.simulation_job"
    assert (failure["job_id"], failure["kind"], failure["task_id"], failure["task"]) == (
        job_id,
        "simulation",
        result.id,
        "lesde.run_simulation",
    )
    assert "Traceback" in failure["exception"] and failure["service"]
    assert body["count"] == len(body["data"]) >= 1
    assert all(line["job_id"] == job_id for line in body["data"])
    # the task signals counted the task (Celery's outcome: the job's failure is in its status)
    assert worker_metrics.TASKS_DONE.labels("lesde.run_simulation", "success")._value.get() == done_before + 1


def test_limit_takes_the_newest_lines_and_is_bounded(client, store, sent, worker_signals):
    job_id = client.post("/v1/simulations", json=SIMULATION).json()["id"]
    first = run_simulation_task.apply(args=[job_id])  # succeeds (Celery logs that it did)
    second = run_simulation_task.apply(args=[job_id])  # a redelivery: logs that the job is done already
    everything = client.get(f"/v1/simulations/{job_id}/logs").json()
    assert len({line["task_id"] for line in everything["data"]}) == 2  # both runs, each its own object
    assert f"simulation {job_id} already succeeded; nothing to do" in [line["message"] for line in everything["data"]]
    newest = client.get(f"/v1/simulations/{job_id}/logs", params={"limit": 1}).json()
    assert newest["count"] == everything["count"] >= 2 and newest["data"] == everything["data"][-1:]
    assert everything["data"][0]["task_id"] == first.id and newest["data"][0]["task_id"] == second.id
    too_many = client.get(f"/v1/simulations/{job_id}/logs", params={"limit": 10**6})
    assert too_many.status_code == 422 and too_many.json()["field"] == "limit"
    assert f"less than or equal to {MOST_LINES}" in too_many.json()["message"]


def test_a_job_that_logged_nothing_has_no_lines_and_an_unknown_one_is_404(client, sent):
    job_id = client.post("/v1/experiments", json={"training": {"iterations": 20, "trials": 2}}).json()["id"]
    assert client.get(f"/v1/experiments/{job_id}/logs").json() == {"data": [], "count": 0}
    assert client.get("/v1/experiments/0123456789abcdef/logs").status_code == 404
    assert client.get("/v1/sweeps/0123456789abcdef/logs").status_code == 404

"""One experiment from submission to analysis, seen through ``/metrics``, the workers' metric
ports and the job's JSON log lines, on the real stack: uvicorn, Celery workers over the test
Redis, the test S3 server (scripts/test_stack.py). Nothing is mocked.
"""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
from lesde.client import LesdeClient
from lesde_launcher.stack import EmbeddedStack, free_port
from lesde_runtime.storage.s3 import S3Store
from prometheus_client.parser import text_string_to_metric_families

from .helpers import stack_overrides, watch

ITERATIONS, TRIALS, CHUNK = 50, 2, 25
SPEC = {
    "name": "observed",
    "dataset": {"name": "geomnist", "train_per_class": 6, "val_per_class": 3, "seed": 1},
    "model": {"name": "lenet", "dtype": "float32"},
    "training": {
        "iterations": ITERATIONS,
        "trials": TRIALS,
        "learning_rate": 0.01,
        "eval_every": 25,
        "probe_every": 25,
        "probe_per_class": 2,
        "seed": 3,
    },
}
TRAIN, ANALYZE = "lesde.train_experiment", "lesde.analyze_experiment"
WAIT_S = 60.0  # for what comes after the job's record says it is done (a scrape's cache, the last log write)


@pytest.fixture(scope="module")
def observed_stack(redis_url, s3_settings, tmp_path_factory):
    """The stack with JSON logs and each worker's metrics on a port of its own."""
    bucket = f"lesde-obs-{uuid.uuid4().hex[:8]}"
    overrides = stack_overrides(redis_url, s3_settings, bucket=bucket, chunk=CHUNK) | {
        "LESDE_LOG_FORMAT": "json",
        "LESDE_LOG_LEVEL": "INFO",
    }
    ports = {"trainer": free_port(), "analyzer": free_port()}
    stack = EmbeddedStack(state_dir=tmp_path_factory.mktemp("observed"), port=free_port(), overrides=overrides, metrics_ports=ports)
    stack.start(timeout=120)
    try:
        yield stack, ports
    finally:
        stack.stop()
        S3Store(
            endpoint=s3_settings.endpoint, access_key=s3_settings.access_key, secret_key=s3_settings.secret_key, bucket=bucket
        ).delete_prefix("")


def samples(url: str) -> dict[tuple[str, frozenset], float]:
    text = httpx.get(url, timeout=10).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def eventually(read, check, what: str, timeout: float = WAIT_S):
    """Poll ``read()`` until ``check`` holds of it; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        got = read()
        if check(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s; last: {got}")
        time.sleep(0.5)


def test_metrics_and_logs_follow_one_experiment(observed_stack):
    stack, ports = observed_stack
    gateway = f"{stack.url}/metrics"
    trainer, analyzer = (f"http://127.0.0.1:{ports[name]}/metrics" for name in ("trainer", "analyzer"))
    before = samples(gateway)

    with LesdeClient(stack.url) as client:
        job_id = client.submit_experiment(SPEC)["id"]
        record, statuses, _progress = watch(client, job_id, timeout=240)
    assert record["status"] == "succeeded" and record["analysis"] == "succeeded", record

    # The gateway: the submission and the polls, by route template; the job counted as succeeded.
    after = eventually(
        lambda: samples(gateway),
        lambda found: value(found, "lesde_jobs", kind="experiment", status="succeeded") == 1,
        "the gateway's job gauge shows the experiment succeeded",
    )
    posted = {"method": "POST", "route": "/v1/experiments", "status": "202"}
    assert value(after, "lesde_http_requests_total", **posted) - value(before, "lesde_http_requests_total", **posted) == 1
    polls = {"method": "GET", "route": "/v1/experiments/{job_id}", "status": "200"}
    assert value(after, "lesde_http_requests_total", **polls) >= len(statuses)
    assert value(after, "lesde_jobs", kind="experiment", status="queued") == 0
    assert {("lesde_queue_messages", frozenset({"queue": queue}.items())) for queue in ("train", "analyze")} <= set(after)

    # The trainer: every chunk and trial-iteration, its task; the analyzer: the analysis, timed.
    trained = eventually(
        lambda: samples(trainer),
        lambda found: value(found, "lesde_worker_tasks_total", task=TRAIN, outcome="success") == 1,
        "the trainer counts its task",
    )
    assert value(trained, "lesde_trainer_chunks_written_total") == ITERATIONS // CHUNK
    assert value(trained, "lesde_trainer_trial_iterations_total") == ITERATIONS * TRIALS
    assert value(trained, "lesde_worker_task_duration_seconds_count", task=TRAIN) == 1
    analysed = eventually(
        lambda: samples(analyzer),
        lambda found: value(found, "lesde_worker_tasks_total", task=ANALYZE, outcome="success") >= 1,
        "the analyzer counts the analysis",
    )
    assert value(analysed, "lesde_worker_task_duration_seconds_count", task=ANALYZE) >= 1

    # The job's own lines, stored by both workers and served by the gateway: training, then analysis.
    def job_lines() -> list[dict]:
        return httpx.get(f"{stack.url}/v1/experiments/{job_id}/logs", timeout=10).json()["data"]

    lines = eventually(
        job_lines,
        lambda got: f"{ANALYZE} ended (success)" in " ".join(line["message"] for line in got),
        "the job's log shows its analysis ended",
    )
    messages = [line["message"] for line in lines]
    order = [
        next(i for i, message in enumerate(messages) if message.startswith(text))
        for text in (f"{TRAIN} started", f"{TRAIN} ended (success)", f"{ANALYZE} started", f"{ANALYZE} ended (success)")
    ]
    assert order == sorted(order), messages
    assert {line["service"] for line in lines} == {"trainer", "analyzer"}
    assert all(line["job_id"] == job_id and line["kind"] == "experiment" and line["task_id"] for line in lines)
    assert len({line["task_id"] for line in lines}) >= 2  # the training task and the analysis task

    # The workers' own log files are JSON lines, the job's carrying its fields.
    for name in ("trainer", "analyzer"):
        parsed = [json.loads(line) for line in (stack.state_dir / "logs" / f"{name}.log").read_text().splitlines() if line.startswith("{")]
        assert parsed and all(line["service"] == name for line in parsed)
        assert any(line.get("job_id") == job_id and line.get("task_id") for line in parsed), name

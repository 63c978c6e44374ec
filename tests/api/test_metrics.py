"""``GET /metrics``: Prometheus text that counts requests by route template and status, times
them, and gauges jobs by kind and status (from the listing index) and queue depths.

Real app, real local store, real filesystem broker (its message files are what the queue
gauge counts); no worker runs here.
"""

from __future__ import annotations

import pytest
from lesde_api import job_gauges
from prometheus_client.parser import text_string_to_metric_families

EXPERIMENT = {"training": {"iterations": 20, "trials": 2, "eval_every": 10, "probe_every": 10, "probe_per_class": 2}}
SIMULATION = {"mode": "ode", "classes": 2, "dim": 1, "runs": 2, "steps": 20, "record_every": 10, "seed": 1}
UNKNOWN = "0123456789abcdef"


@pytest.fixture
def fresh_gauges(monkeypatch):
    """Gauges read anew at every scrape (in service they are cached a few seconds)."""
    monkeypatch.setattr(job_gauges, "CACHE_SECONDS", 0.0)


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """``{(sample name, its labels): value}`` of one ``/metrics`` answer."""
    answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_and_status_and_timed(client, sent):
    job_id = client.post("/v1/experiments", json=EXPERIMENT).json()["id"]
    before = scrape(client)
    for _ in range(3):
        assert client.get(f"/v1/experiments/{job_id}").status_code == 200
    assert client.get(f"/v1/experiments/{UNKNOWN}").status_code == 404
    assert client.get("/no/such/path/at/all").status_code == 404
    after = scrape(client)

    route = "/v1/experiments/{job_id}"
    moved = {
        status: value(after, "lesde_http_requests_total", method="GET", route=route, status=status)
        - value(before, "lesde_http_requests_total", method="GET", route=route, status=status)
        for status in ("200", "404")
    }
    assert moved == {"200": 3, "404": 1}
    timed = value(after, "lesde_http_request_duration_seconds_count", method="GET", route=route) - value(
        before, "lesde_http_request_duration_seconds_count", method="GET", route=route
    )
    assert timed == 4
    assert value(after, "lesde_http_request_duration_seconds_bucket", method="GET", route=route, le="+Inf") >= 4
    unrouted = ("lesde_http_requests_total", {"method": "GET", "route": "<unrouted>", "status": "404"})
    assert value(after, unrouted[0], **unrouted[1]) - value(before, unrouted[0], **unrouted[1]) == 1
    # the raw path (with the id) never becomes a label: one series per route, whatever the ids
    assert not [key for key in after if any(job_id in label or UNKNOWN in label for _name, label in key[1])]


def test_a_refused_request_is_counted_too(keyed_client):
    before = scrape(keyed_client)
    assert keyed_client.get("/v1/experiments").status_code == 401  # answered by the key check, before routing
    after = scrape(keyed_client)
    labels = {"method": "GET", "route": "<unrouted>", "status": "401"}
    assert value(after, "lesde_http_requests_total", **labels) - value(before, "lesde_http_requests_total", **labels) == 1


def test_jobs_are_gauged_by_kind_and_status(client, sent, fresh_gauges):
    first = client.post("/v1/experiments", json=EXPERIMENT).json()["id"]
    client.post("/v1/experiments", json=EXPERIMENT)
    client.post("/v1/simulations", json=SIMULATION)
    samples = scrape(client)
    assert value(samples, "lesde_jobs", kind="experiment", status="queued") == 2
    assert value(samples, "lesde_jobs", kind="simulation", status="queued") == 1
    # every pair is present, zeros included, so a dashboard's series never vanish
    assert ("lesde_jobs", frozenset({"kind": "sweep", "status": "running"}.items())) in samples

    assert client.post(f"/v1/experiments/{first}/cancel").json()["status"] == "cancelled"
    samples = scrape(client)
    assert value(samples, "lesde_jobs", kind="experiment", status="queued") == 1
    assert value(samples, "lesde_jobs", kind="experiment", status="cancelled") == 1


def test_job_gauges_are_cached_between_scrapes(client, sent, monkeypatch):
    monkeypatch.setattr(job_gauges, "CACHE_SECONDS", 3600.0)
    client.post("/v1/simulations", json=SIMULATION)
    assert value(scrape(client), "lesde_jobs", kind="simulation", status="queued") == 1
    client.post("/v1/simulations", json=SIMULATION)
    assert value(scrape(client), "lesde_jobs", kind="simulation", status="queued") == 1  # the cached count


def test_queue_depth_counts_the_messages_the_broker_holds(client, fresh_gauges):
    # No `sent` fixture: the submission's message is a real file of the filesystem transport.
    # Other tests of the session share that folder, so the test compares before and after.
    before = value(scrape(client), "lesde_queue_messages", queue="train")
    client.post("/v1/experiments", json=EXPERIMENT)
    after = scrape(client)
    assert value(after, "lesde_queue_messages", queue="train") == before + 1
    assert ("lesde_queue_messages", frozenset({"queue": "analyze"}.items())) in after


def test_metrics_need_no_key_and_name_no_job(keyed_client, bearer, sent):
    job_id = keyed_client.post("/v1/experiments", json=EXPERIMENT, headers=bearer("ada")).json()["id"]
    answer = keyed_client.get("/metrics")
    assert answer.status_code == 200
    assert job_id not in answer.text and "ada" not in answer.text

"""``GET /v1/{kind}/{id}/events``: one Server-Sent Event per change, named by what changed,
a keep-alive when idle, and the end once the job and its analysis have finished.

The stream is read while the test changes the job's record in the store, as a worker
would; each change is made only after the previous event arrived, so nothing depends on
timing. The poll interval is shortened so the tests run in well under a second."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from lesde_api.operations import events as stream_logic
from lesde_api.routes import events as events_route
from lesde_contract.object_store import StoreUnavailable
from lesde_contract.records import AnalysisState, JobStatus
from lesde_runtime.job_repository import JobRepository

from tests.fixtures.sweeps import FixtureChild, write_sweep


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(events_route, "POLL_S", 0.01)
    monkeypatch.setattr(events_route, "SWEEP_POLL_S", 0.01)


class Messages:
    """The messages of an event stream, one at a time: ``(event, data)``, ``("comment", text)``
    for a keep-alive, ``None`` once the server has closed the stream."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines

    def next(self) -> tuple[str, object] | None:
        fields: dict[str, str] = {}
        for line in self.lines:
            if not line:
                if fields.get("event"):
                    return fields["event"], json.loads(fields["data"])
                fields = {}  # the "retry:" block
                continue
            if line.startswith(":"):
                return "comment", line[1:].strip()
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        return None


def _stream(client, path: str):
    return client.stream("GET", path, headers={"Accept": "text/event-stream"})


@pytest.mark.parametrize("kind", ["experiments", "simulations", "sweeps"])
@pytest.mark.parametrize("job_id", ["0123456789abcdef", "Not-An-Id"])
def test_an_unknown_or_malformed_id_is_a_404_before_any_stream(client, kind, job_id):
    response = client.get(f"/v1/{kind}/{job_id}/events")
    assert response.status_code == 404
    assert job_id in response.json()["detail"]


def test_a_finished_job_sends_its_state_then_the_end(client, experiments):
    record = experiments.create(spec={}, owner="ada", name="done already", total=300, unit="iterations")
    experiments.mark_finished(record.id, JobStatus.cancelled)
    with _stream(client, f"/v1/experiments/{record.id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        body = response.read().decode()
    assert body.startswith("retry: 2000\n\n")
    messages = Messages(iter(body.splitlines()))
    event, data = messages.next()
    assert (event, data["status"], data["name"], data["progress"]["total"]) == ("status", "cancelled", "done already", 300)
    assert "lease" not in data and "spec" not in data
    assert messages.next() == ("end", data)
    assert messages.next() is None


def test_each_change_is_one_event_named_by_what_changed(client, experiments):
    record = experiments.create(spec={}, owner="ada", name="watched", total=300, unit="iterations")
    job = record.id
    with _stream(client, f"/v1/experiments/{job}/events") as response:
        messages = Messages(response.iter_lines())
        event, data = messages.next()
        assert (event, data["status"]) == ("status", "queued")

        experiments.mark_running(job)
        event, data = messages.next()
        assert (event, data["status"], data["progress"]["done"]) == ("status", "running", 0)

        # A write that changes nothing a watcher sees (a lease heartbeat) sends nothing:
        # the next event is the progress written after it.
        experiments.update(job, lambda r: setattr(r, "progress_at_start", 7))
        experiments.update(job, lambda r: setattr(r.progress, "done", 100))
        event, data = messages.next()
        assert (event, data["progress"]["done"]) == ("progress", 100)

        experiments.mark_finished(job, JobStatus.succeeded, analysis=AnalysisState.queued)
        event, data = messages.next()
        assert (event, data["status"], data["analysis"]) == ("status", "succeeded", "queued")  # no end: the analysis is pending

        experiments.update(job, lambda r: setattr(r, "analysis", AnalysisState.running))
        assert messages.next()[0] == "analysis"

        experiments.update(job, lambda r: setattr(r, "analysis", AnalysisState.succeeded))
        event, data = messages.next()
        assert (event, data["analysis"]) == ("analysis", "succeeded")
        assert messages.next() == ("end", data)
        assert messages.next() is None


def test_a_job_deleted_while_watched_ends_its_stream(client, experiments):
    record = experiments.create(spec={}, owner="ada", name="doomed", total=10, unit="iterations")
    with _stream(client, f"/v1/experiments/{record.id}/events") as response:
        messages = Messages(response.iter_lines())
        assert messages.next()[0] == "status"
        experiments.delete(record.id)
        event, data = messages.next()
        assert (event, data["id"]) == ("deleted", record.id)
        assert messages.next() is None


def test_an_idle_stream_sends_keep_alive_comments(client, experiments, monkeypatch):
    monkeypatch.setattr(events_route, "HEARTBEAT_S", 0.05)
    record = experiments.create(spec={}, owner="ada", name="idle", total=10, unit="iterations")
    with _stream(client, f"/v1/experiments/{record.id}/events") as response:
        messages = Messages(response.iter_lines())
        assert messages.next()[0] == "status"
        assert messages.next() == ("comment", "keep-alive")
        experiments.mark_finished(record.id, JobStatus.failed, error="boom")
        event, data = messages.next()
        while event == "comment":  # more keep-alives may come before the stream reads the change
            event, data = messages.next()
        assert (event, data["status"], data["error"]) == ("status", "failed", "boom")
        assert messages.next()[0] == "end"


def test_a_sweep_streams_its_aggregate_and_each_child(client, store):
    sweep_id, children = write_sweep(
        store,
        [FixtureChild({"training.learning_rate": 0.01}, status="queued"), FixtureChild({"training.learning_rate": 0.02}, status="queued")],
        axes=["training.learning_rate"],
    )
    experiments = JobRepository(store, "experiment")
    with _stream(client, f"/v1/sweeps/{sweep_id}/events") as response:
        messages = Messages(response.iter_lines())
        event, data = messages.next()
        assert (event, data["status"], data["counts"]["queued"]) == ("status", "queued", 2)
        assert [child["experiment_id"] for child in data["children"]] == children

        experiments.mark_running(children[0])
        event, data = messages.next()
        assert (event, data["status"], data["children"][0]["status"]) == ("status", "running", "running")

        experiments.update(children[0], lambda r: setattr(r.progress, "done", 100))
        event, data = messages.next()
        assert (event, data["children"][0]["progress"]) == ("progress", 0.5)

        for child in children:  # two writes: the stream may see the first alone, as one more event
            experiments.mark_finished(child, JobStatus.cancelled)
        seen = [messages.next()]
        while seen[-1][1]["status"] != "cancelled":
            seen.append(messages.next())
        assert [event for event, _ in seen][-1] == "status" and seen[-1][1]["counts"]["cancelled"] == 2
        assert messages.next()[0] == "end"


def _collect(stream) -> list[str]:
    async def run() -> list[str]:
        return [text async for text in stream]

    return asyncio.run(run())


def test_the_stream_stops_reading_the_store_once_the_client_is_gone():
    reads = []

    def read() -> dict:
        reads.append(1)
        return {"status": "running", "analysis": "none", "analysis_error": None, "progress": {"done": len(reads)}}

    async def gone() -> bool:
        return True

    first = {"status": "running", "analysis": "none", "analysis_error": None, "progress": {"done": 0}}
    texts = _collect(stream_logic.event_stream(read, first=first, poll_s=0.0, heartbeat_s=60, disconnected=gone))
    assert reads == [] and len(texts) == 2  # the retry hint and the first event, then nothing


def test_a_store_outage_skips_reads_without_ending_the_stream():
    answers: list[object] = [StoreUnavailable("store down"), {"status": "cancelled", "analysis": "none", "analysis_error": None}]

    def read() -> dict:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def listening() -> bool:
        return False

    first = {"status": "running", "analysis": "none", "analysis_error": None}
    texts = _collect(stream_logic.event_stream(read, first=first, poll_s=0.0, heartbeat_s=60, disconnected=listening))
    assert [text.split("\n")[1] for text in texts[1:]] == ["event: status", "event: status", "event: end"]


@pytest.mark.parametrize(
    ("status", "analysis", "final"),
    [
        ("running", "none", False),
        ("succeeded", "queued", False),
        ("succeeded", "running", False),
        ("succeeded", "succeeded", True),
        ("succeeded", "failed", True),
        ("cancelled", "none", True),
        ("failed", "none", True),
    ],
)
def test_the_stream_ends_when_the_job_and_its_analysis_have_finished(status, analysis, final):
    assert stream_logic.is_final({"status": status, "analysis": analysis}) is final


@pytest.fixture
def keyed_client(store, monkeypatch):
    """The gateway with API keys: ada's and bob's."""
    from fastapi.testclient import TestClient
    from lesde_api.deps import get_store
    from lesde_api.main import create_app

    monkeypatch.setenv("LESDE_API_KEYS", "ada=ada-key-0123456789,bob=bob-key-0123456789")
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    with TestClient(app) as test_client:
        yield test_client


def test_with_api_keys_a_stream_needs_the_owners_key_and_a_page_needs_none(keyed_client, experiments):
    record = experiments.create(spec={}, owner="ada", name="ada's", total=1, unit="iterations")
    experiments.mark_finished(record.id, JobStatus.cancelled)
    path = f"/v1/experiments/{record.id}/events"
    assert keyed_client.get(path).status_code == 401
    assert keyed_client.get(path, headers={"Authorization": "Bearer bob-key-0123456789"}).status_code == 404  # not bob's: as if missing
    answer = keyed_client.get(path, headers={"Authorization": "Bearer ada-key-0123456789"})
    assert answer.status_code == 200 and "event: end" in answer.text
    assert keyed_client.get(f"/ui/experiments/{record.id}").status_code == 200  # the shell; its script sends the key


def test_every_stream_of_one_job_shares_one_watcher_and_reads_do_not_grow_with_them():
    """200 subscribers on one job: one watcher, one read per poll; the last to leave stops it."""
    from lesde_api.operations.event_hub import EventHub

    reads = []
    snapshot = {"status": "running", "analysis": "none", "analysis_error": None, "progress": {"done": 0}}

    def read() -> dict:
        reads.append(1)
        return snapshot | {"progress": {"done": len(reads) // 5}}  # a change every fifth read

    async def run() -> tuple[int, int, int]:
        hub = EventHub(max_total=1000, max_per_owner=1000)
        subs = [hub.subscribe("experiment", "j", f"owner{i % 7}", read=read, first=snapshot, poll_s=0.01) for i in range(200)]
        assert hub.watchers == 1 and hub.open_streams == 200
        seen = await asyncio.gather(*(sub.next(1.0) for sub in subs))  # each gets the snapshot at once
        assert all(s == snapshot for s in seen)
        await asyncio.sleep(0.3)
        got = await asyncio.gather(*(sub.next(1.0) for sub in subs))
        during = len(reads)
        for sub in subs:
            sub.close()
        await asyncio.sleep(0.1)
        return during, len(reads), sum(1 for g in got if g is not None)

    during, after, delivered = asyncio.run(run())
    assert 5 <= during <= 60  # ~30 polls in 0.3 s, whatever the number of subscribers (200 of them)
    assert after - during <= 2 and delivered == 200  # the watcher stopped with its last subscriber


def test_open_streams_are_capped_per_owner_with_429_and_retry_after(monkeypatch, store):
    from fastapi.testclient import TestClient
    from lesde_api.deps import get_store
    from lesde_api.main import create_app

    monkeypatch.setenv("LESDE_MAX_EVENT_STREAMS_PER_OWNER", "2")
    experiments = JobRepository(store, "experiment")
    record = experiments.create(spec={}, owner="anonymous", name="watched", total=10, unit="iterations")
    app = create_app()
    app.dependency_overrides[get_store] = lambda: store
    with TestClient(app) as client:
        with _stream(client, f"/v1/experiments/{record.id}/events") as one, _stream(client, f"/v1/experiments/{record.id}/events") as two:
            assert one.status_code == two.status_code == 200
            assert Messages(one.iter_lines()).next()[0] == "status" and Messages(two.iter_lines()).next()[0] == "status"
            third = client.get(f"/v1/experiments/{record.id}/events")
            assert third.status_code == 429 and third.headers["Retry-After"] == "10"
            assert "LESDE_MAX_EVENT_STREAMS_PER_OWNER" in third.json()["message"]

"""HTTP contract of /v1/sweeps: creation, refusals before anything exists, the aggregate
view, cancel, retry, delete, the cross-child results, and a broker that is down.

No worker runs here: child states are set through the records the trainer would write.
"""

import pytest
from lesde_api.operations.sweep_view import aggregate_status
from lesde_contract import object_keys
from lesde_contract.records import AnalysisState, JobStatus
from lesde_contract.sweep_children import read_children
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobRepository

BASE = {"training": {"iterations": 20, "trials": 2, "eval_every": 10, "probe_every": 10, "probe_per_class": 2}}
GRID = {"name": "noise", "base": BASE, "axes": {"dataset.label_noise": [0, 0.5], "training.seed": [1, 2]}}
UNKNOWN = "0123456789abcdef"


@pytest.fixture
def sweeps(store):
    return JobRepository(store, "sweep")


def _create(client, body=GRID):
    response = client.post("/v1/sweeps", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def _objects(store) -> list[str]:
    return sorted(info.key for info in store.list(""))


def _finish(experiments, experiment_id, status, *, done=None):
    experiments.mark_running(experiment_id)
    if done is not None:
        experiments.update(experiment_id, lambda record: setattr(record.progress, "done", done))
    if status is not JobStatus.running:
        experiments.mark_finished(experiment_id, status, error="boom" if status is JobStatus.failed else None)


def test_create_answers_202_and_queues_one_experiment_per_point_in_product_order(client, store, experiments, sent):
    response = client.post("/v1/sweeps", json=GRID)
    assert response.status_code == 202, response.text
    sweep = response.json()
    assert response.headers["location"] == f"/v1/sweeps/{sweep['id']}"
    assert sweep["status"] == "queued" and sweep["owner"] == "anonymous" and sweep["name"] == "noise"
    assert sweep["counts"] == {"queued": 4, "running": 0, "succeeded": 0, "failed": 0, "cancelled": 0, "missing": 0}
    assert sweep["progress"] == {"done": 0, "total": 4 * 20 * 2, "unit": "trial-iterations", "rate": None, "eta_seconds": None}
    assert sweep["axes"] == ["dataset.label_noise", "training.seed"]
    points = [child["point"] for child in sweep["children"]]
    assert points == [{"dataset.label_noise": n, "training.seed": s} for n in (0, 0.5) for s in (1, 2)]
    ids = [child["experiment_id"] for child in sweep["children"]]
    assert sent == [(celery_app.TRAIN_EXPERIMENT, experiment_id) for experiment_id in ids]  # in grid order
    assert read_children(store, sweep["id"]).experiment_ids() == ids
    assert sweep["spec"]["axes"] == GRID["axes"]
    assert set(sweep["links"]) == {"self", "cancel", "retry", "analysis", "table", "figures"}
    for child, point in zip(ids, points, strict=True):
        record, spec = experiments.get(child), experiments.get_spec(child)
        assert record.sweep_id == sweep["id"] and record.owner == "anonymous" and record.status is JobStatus.queued
        assert (spec["dataset"]["label_noise"], spec["training"]["seed"]) == (point["dataset.label_noise"], point["training.seed"])
        assert spec["training"]["iterations"] == 20 and spec["name"].startswith("noise [dataset.label_noise=")
    listed = client.get("/v1/experiments").json()
    assert listed["count"] == 4 and {item["sweep_id"] for item in listed["data"]} == {sweep["id"]}


def test_explicit_points_are_children_in_their_order(client, experiments, sent):
    points = [{"dataset.label_noise": 0.3, "training.seed": 7}, {"dataset.label_noise": 0.1, "training.seed": 3}]
    sweep = _create(client, {"base": BASE, "points": points})
    assert [child["point"] for child in sweep["children"]] == points
    assert [child["index"] for child in sweep["children"]] == [0, 1]
    assert experiments.get_spec(sweep["children"][1]["experiment_id"])["training"]["seed"] == 3


@pytest.mark.parametrize(
    ("grid", "field", "words"),
    [
        ({"axes": {"dataset.label_nois": [0.1]}}, "axes.dataset.label_nois", "did you mean dataset.label_noise"),
        ({"axes": {"dataset.label_noise": []}}, "axes.dataset.label_noise", "at least one value"),
        ({"axes": {"dataset.label_noise": [0.1, 0.1]}}, "axes.dataset.label_noise", "values [0] and [1] are equal"),
        ({"points": [{"training.seed": 1}, {"training.seed": 2}, {"training.seed": 1}]}, "points[2]", "same values as points[0]"),
        ({"points": [{"training.seed": 1}, {"dataset.seed": 2}]}, "points[1]", "every point must set the same fields"),
        (
            {"points": [{"dataset.label_noise": 0.1}, {"dataset.label_noise": 0.2}, {"dataset.label_noise": 1.2}]},
            "points[2]",
            "dataset.label_noise=1.2 is invalid: dataset.label_noise: Input should be less than 1",
        ),
        ({"axes": {"training.seed": [True]}}, "axes.training.seed", "must be a number, not true or false"),
        ({"axes": {"training.seed": list(range(201))}}, "axes", "allowed range: 1 to 200 points (LESDE_MAX_SWEEP_POINTS)"),
        ({"axes": {"training.trials": [10_000], "training.iterations": [1_000_000]}}, "axes", "(LESDE_MAX_TRIAL_ITERATIONS)"),
        (
            {"axes": {"training.trials": [10_000], "training.iterations": [10_000], "training.seed": list(range(11))}},
            "axes",
            "allowed range: 1 to 1,000,000,000 trial-iterations per sweep (LESDE_MAX_SWEEP_TRIAL_ITERATIONS)",
        ),
        ({}, "axes", "exactly one of axes"),
        ({"axes": {"training.seed": [1]}, "points": [{"training.seed": 1}]}, "axes", "exactly one of axes"),
        ({"axes": {"training.seed": [1]}, "base": {"training": {"trials": 0}}}, "base.training.trials", "greater than or equal to 1"),
        ({"axes": {"training.seed": 1}}, "axes.training.seed", "valid list"),
        ({"axes": {"training.seed": [1]}, "colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_bad_grids_are_422_naming_the_field_and_create_nothing(client, store, sent, grid, field, words):
    before = _objects(store)
    response = client.post("/v1/sweeps", json={"base": BASE, **grid})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert field in [item["field"] for item in problem["detail"]], problem
    assert words in problem["message"]
    assert _objects(store) == before and sent == []


def test_a_malformed_body_is_422(client):
    for raw in (b"{not json", b"[]", b"null", b'{"base": 5, "axes": {}}'):
        assert client.post("/v1/sweeps", content=raw, headers={"Content-Type": "application/json"}).status_code == 422


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], JobStatus.queued),
        (["queued", "queued"], JobStatus.queued),
        (["queued", "running"], JobStatus.running),
        (["queued", "succeeded"], JobStatus.running),
        (["failed", "queued"], JobStatus.running),
        (["succeeded", "succeeded"], JobStatus.succeeded),
        (["succeeded", "failed", "cancelled"], JobStatus.failed),
        (["succeeded", "cancelled"], JobStatus.cancelled),
        (["succeeded", None], JobStatus.failed),  # a deleted child cannot succeed
    ],
)
def test_status_aggregation(statuses, expected):
    assert aggregate_status([None if status is None else JobStatus(status) for status in statuses]) is expected


def test_the_view_aggregates_counts_progress_rate_and_eta(client, experiments, sent):
    sweep = _create(client, {"base": BASE, "axes": {"training.trials": [2, 3], "training.seed": [1, 2]}})
    a, b, c, d = (child["experiment_id"] for child in sweep["children"])  # trials 2, 2, 3, 3; 20 iterations each
    _finish(experiments, a, JobStatus.succeeded, done=20)
    _finish(experiments, b, JobStatus.failed, done=5)
    _finish(experiments, c, JobStatus.running, done=10)
    experiments.update(c, lambda record: setattr(record.progress, "rate", 6.0))  # trial-iterations per second
    view = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert view["status"] == "running"
    assert view["counts"] == {"queued": 1, "running": 1, "succeeded": 1, "failed": 1, "cancelled": 0, "missing": 0}
    total = 2 * 20 * 2 + 2 * 20 * 3
    done = 2 * 20 + 2 * 5 + 3 * 10
    left = 3 * (20 - 10) + 3 * 20  # the running and the queued child; the failed one will not run
    assert view["progress"] == {"done": done, "total": total, "unit": "trial-iterations", "rate": 6.0, "eta_seconds": round(left / 6.0, 1)}
    children = {child["experiment_id"]: child for child in view["children"]}
    assert children[b]["status"] == "failed" and children[b]["error"] == "boom"
    assert children[c]["progress"] == 0.5 and children[c]["url"] == f"/v1/experiments/{c}"
    assert view["started_at"] is not None and view["finished_at"] is None
    _finish(experiments, c, JobStatus.succeeded, done=20)
    _finish(experiments, d, JobStatus.cancelled)
    view = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert view["status"] == "failed" and view["finished_at"] is not None and view["progress"]["eta_seconds"] is None


def test_listing_is_newest_first_with_status_and_owner_filters(client, experiments, sent):
    first = _create(client)
    second = _create(client, {"base": BASE, "axes": {"training.seed": [5]}})
    _finish(experiments, second["children"][0]["experiment_id"], JobStatus.succeeded)
    listed = client.get("/v1/sweeps").json()
    assert listed["count"] == 2 and [item["id"] for item in listed["data"]] == [second["id"], first["id"]]
    assert listed["data"][0]["children"] is None and listed["data"][0]["spec"] is None
    assert [item["id"] for item in client.get("/v1/sweeps", params={"status": "succeeded"}).json()["data"]] == [second["id"]]
    assert client.get("/v1/sweeps", params={"status": "queued"}).json()["count"] == 1
    # Without API keys every caller is the default owner and the filter works as before (tests/api/test_ownership.py: with keys).
    assert client.get("/v1/sweeps", params={"owner": "anonymous"}).json()["count"] == 2
    assert client.get("/v1/sweeps", params={"owner": "ada"}).json()["count"] == 0
    assert client.get("/v1/sweeps", params={"limit": 1, "offset": 1}).json()["data"][0]["id"] == first["id"]


def test_cancel_stops_unfinished_children_only_and_no_other_sweep(client, store, experiments, sent):
    sweep, other = _create(client), _create(client)
    a, b, c, d = (child["experiment_id"] for child in sweep["children"])
    _finish(experiments, a, JobStatus.succeeded)
    _finish(experiments, b, JobStatus.running)
    sent.clear()
    view = client.post(f"/v1/sweeps/{sweep['id']}/cancel")
    assert view.status_code == 200, view.text
    statuses = {child["experiment_id"]: child["status"] for child in view.json()["children"]}
    assert statuses == {a: "succeeded", b: "running", c: "cancelled", d: "cancelled"}
    assert experiments.cancel_requested(b) and not experiments.cancel_requested(a)  # the running one stops at its next chunk
    assert sent == [(celery_app.ANALYZE_SWEEP, sweep["id"])]  # queued children have no trainer to say they ended
    assert client.get(f"/v1/sweeps/{other['id']}").json()["counts"]["queued"] == 4
    assert not any(experiments.cancel_requested(child["experiment_id"]) for child in other["children"])
    experiments.mark_finished(b, JobStatus.cancelled)
    conflict = client.post(f"/v1/sweeps/{sweep['id']}/cancel")
    assert conflict.status_code == 409
    assert "has finished (1 succeeded, 3 cancelled)" in conflict.json()["detail"]


def test_retry_requeues_only_the_failed_children(client, store, experiments, sent):
    sweep = _create(client)
    a, b, c, d = (child["experiment_id"] for child in sweep["children"])
    _finish(experiments, a, JobStatus.succeeded)
    _finish(experiments, b, JobStatus.failed, done=7)
    _finish(experiments, c, JobStatus.failed)
    store.put_bytes(object_keys.cancel_key("experiment", c), b"1")  # asked to stop before it failed
    sent.clear()
    response = client.post(f"/v1/sweeps/{sweep['id']}/retry")
    assert response.status_code == 202, response.text
    assert sent == [(celery_app.TRAIN_EXPERIMENT, b), (celery_app.TRAIN_EXPERIMENT, c)]
    statuses = {child["experiment_id"]: child["status"] for child in response.json()["children"]}
    assert statuses == {a: "succeeded", b: "queued", c: "queued", d: "queued"}
    record = experiments.get(b)
    assert record.error is None and record.finished_at is None and record.progress.done == 7  # the trainer resumes from its checkpoint
    assert not experiments.cancel_requested(c)
    sent.clear()
    conflict = client.post(f"/v1/sweeps/{sweep['id']}/retry")
    assert conflict.status_code == 409 and "no failed children" in conflict.json()["detail"] and sent == []


def test_delete_removes_the_children_then_the_sweep_and_nothing_else(client, store, experiments, sent):
    sweep, other = _create(client), _create(client)
    alone = client.post("/v1/experiments", json=BASE).json()["id"]
    a, b, *_ = (child["experiment_id"] for child in sweep["children"])
    _finish(experiments, a, JobStatus.running)
    before = _objects(store)
    conflict = client.delete(f"/v1/sweeps/{sweep['id']}")
    assert conflict.status_code == 409 and a in conflict.json()["detail"] and "cancel the sweep first" in conflict.json()["detail"]
    assert _objects(store) == before  # nothing deleted
    _finish(experiments, a, JobStatus.cancelled)
    _finish(experiments, b, JobStatus.succeeded)
    assert client.delete(f"/v1/sweeps/{sweep['id']}").status_code == 204
    left = [key for key in _objects(store) if not key.startswith("tombstones/")]  # a deleted job's tombstone stays
    assert not [key for key in left if sweep["id"] in key or any(c["experiment_id"] in key for c in sweep["children"])]
    assert client.get(f"/v1/sweeps/{sweep['id']}").status_code == 404
    assert client.get(f"/v1/sweeps/{other['id']}").json()["counts"]["queued"] == 4
    assert client.get(f"/v1/experiments/{alone}").status_code == 200
    assert client.get("/v1/experiments").json()["count"] == 5


def test_a_half_created_sweep_can_be_read_and_deleted(client, store, sweeps, sent):
    sweep = _create(client, {"base": BASE, "axes": {"training.seed": [1]}})
    store.delete(object_keys.sweep_children_key(sweep["id"]))  # as if the gateway stopped before listing the children
    view = client.get(f"/v1/sweeps/{sweep['id']}").json()
    assert view["status"] == "queued" and view["children"] == [] and view["spec"]["axes"] == {"training.seed": [1]}
    assert client.delete(f"/v1/sweeps/{sweep['id']}").status_code == 204
    assert not sweeps.store.exists(object_keys.status_key("sweep", sweep["id"]))


def test_analysis_figures_and_table(client, store, sweeps, sent):
    sweep_id = _create(client)["id"]
    missing = client.get(f"/v1/sweeps/{sweep_id}/analysis")
    assert missing.status_code == 404 and "children: 4 queued" in missing.json()["detail"]
    assert client.get(f"/v1/sweeps/{sweep_id}/table.csv").status_code == 404
    sweeps.update(sweep_id, lambda record: setattr(record, "analysis", AnalysisState.running))
    assert "its analysis is running" in client.get(f"/v1/sweeps/{sweep_id}/analysis").json()["detail"]
    store.put_json(object_keys.analysis_key("sweep", sweep_id, "summary"), {"children": [], "figures": ["accuracy", "tail-index"]})
    store.put_bytes(object_keys.figure_key("sweep", sweep_id, "accuracy"), b"\x89PNG fake", content_type="image/png")
    store.put_bytes(object_keys.sweep_table_key(sweep_id), b"index,label_noise\n0,0.0\n", content_type="text/csv")
    summary = client.get(f"/v1/sweeps/{sweep_id}/analysis").json()
    assert summary["figures"] == {name: f"/v1/sweeps/{sweep_id}/figures/{name}.png" for name in ("accuracy", "tail-index")}
    assert summary["table_url"] == f"/v1/sweeps/{sweep_id}/table.csv"
    figure = client.get(summary["figures"]["accuracy"])
    assert figure.status_code == 200 and figure.headers["content-type"] == "image/png" and figure.content == b"\x89PNG fake"
    absent = client.get(f"/v1/sweeps/{sweep_id}/figures/nothing.png")
    assert absent.status_code == 404 and "['accuracy']" in absent.json()["detail"]
    table = client.get(summary["table_url"])
    assert table.status_code == 200 and table.headers["content-type"].startswith("text/csv")
    assert table.text == "index,label_noise\n0,0.0\n"


def test_unknown_ids_are_404(client):
    for method, path in [
        ("GET", f"/v1/sweeps/{UNKNOWN}"),
        ("POST", f"/v1/sweeps/{UNKNOWN}/cancel"),
        ("POST", f"/v1/sweeps/{UNKNOWN}/retry"),
        ("DELETE", f"/v1/sweeps/{UNKNOWN}"),
        ("GET", f"/v1/sweeps/{UNKNOWN}/analysis"),
        ("GET", f"/v1/sweeps/{UNKNOWN}/figures/accuracy.png"),
        ("GET", f"/v1/sweeps/{UNKNOWN}/table.csv"),
        ("GET", "/v1/sweeps/..%2F..%2Fetc"),
    ]:
        assert client.request(method, path).status_code == 404, path


def _broker(monkeypatch, sent, *, accepts: int):
    """The broker takes ``accepts`` messages, then refuses every one."""

    def send(*args):
        if len(sent) >= accepts:
            raise ConnectionError("connection refused")
        sent.append(args)

    monkeypatch.setattr("lesde_runtime.celery_app.send", send)


def test_a_broker_that_is_down_is_503_and_leaves_nothing_queued(client, experiments, sweeps, monkeypatch, sent):
    _broker(monkeypatch, sent, accepts=0)
    response = client.post("/v1/sweeps", json=GRID)
    assert response.status_code == 503 and "/retry re-queues them" in response.json()["detail"]
    [sweep] = list(sweeps.iter_all())
    view = client.get(f"/v1/sweeps/{sweep.id}").json()
    assert view["status"] == "failed" and view["counts"]["failed"] == 4
    assert all("could not enqueue" in child["error"] for child in view["children"])
    assert not [record for record in experiments.iter_all() if record.status is JobStatus.queued]
    _broker(monkeypatch, sent, accepts=10)  # back up: retry sends them all
    assert client.post(f"/v1/sweeps/{sweep.id}/retry").json()["counts"]["queued"] == 4
    assert len(sent) == 4


def test_a_broker_that_fails_midway_fails_the_unsent_children(client, experiments, sweeps, monkeypatch, sent):
    _broker(monkeypatch, sent, accepts=1)
    assert client.post("/v1/sweeps", json=GRID).status_code == 503
    [sweep] = list(sweeps.iter_all())
    view = client.get(f"/v1/sweeps/{sweep.id}").json()
    assert [child["status"] for child in view["children"]] == ["queued", "failed", "failed", "failed"]
    assert sent == [(celery_app.TRAIN_EXPERIMENT, view["children"][0]["experiment_id"])]  # the queued one has its message


def test_figures_as_svg_and_pdf_and_an_older_analysis_renders_them_on_request(client, store, sent, monkeypatch):
    import xml.etree.ElementTree as ET

    from lesde_analyzer import tasks
    from lesde_analyzer.sweeps import run_sweep_analysis

    from tests.fixtures.sweeps import FixtureChild, child_summary, write_sweep

    noise = "dataset.label_noise"
    children = [FixtureChild({noise: p}, child_summary(r_gamma=0.5 + p, r_hat=0.4 + p, val_acc=(1 - p, 0.1))) for p in (0.0, 0.4, 0.8)]
    sweep_id, _ = write_sweep(store, children, axes=[noise])
    run_sweep_analysis(store, sweep_id)
    names = list(client.get(f"/v1/sweeps/{sweep_id}/analysis").json()["figures"])
    assert names == ["sweep-accuracy", "sweep-loss", "sweep-tail-index"]
    for name in names:
        svg = client.get(f"/v1/sweeps/{sweep_id}/figures/{name}.svg")
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
        assert svg.headers["content-disposition"] == f'inline; filename="sweep-{sweep_id}-{name}.svg"'
        assert ET.fromstring(svg.content).tag == "{http://www.w3.org/2000/svg}svg"
        pdf = client.get(f"/v1/sweeps/{sweep_id}/figures/{name}.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert not sent
    absent = client.get(f"/v1/sweeps/{sweep_id}/figures/nothing.pdf")
    assert absent.status_code == 404 and f"available: {names}" in absent.json()["detail"]  # each once
    # an analysis stored before SVG and PDF were: rendered from the stored summary on request
    store.delete(object_keys.figure_key("sweep", sweep_id, "sweep-loss", "pdf"))
    pending = client.get(f"/v1/sweeps/{sweep_id}/figures/sweep-loss.pdf")
    assert pending.status_code == 202 and pending.headers["retry-after"]
    assert sent[-1] == ("lesde.render_figure", sweep_id, "sweep", "sweep-loss", 10.0, 5.0, 110, "pdf", None)
    monkeypatch.setattr(tasks, "make_store", lambda: store)
    tasks.render_figure_task.run(*sent[-1][1:])  # the analyzer's task, which tells a sweep's figure by its key
    answer = client.get(f"/v1/sweeps/{sweep_id}/figures/sweep-loss.pdf")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF-") and len(sent) == 1
    assert client.get(f"/v1/sweeps/{sweep_id}/figures/nothing.pdf").json()["detail"].endswith(f"available: {names}")

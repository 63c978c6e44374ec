"""Analysis, series and figure routes of experiments (the analyzer runs in-process here)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from lesde_analyzer.experiments.analysis_job import render_figure_variant, run_experiment_analysis
from lesde_contract.object_store import ObjectNotFound
from lesde_contract.records import JobStatus
from lesde_contract.specs.analysis import FIGURE_NAMES, figure_variant, run_figure_key, run_state_key
from lesde_runtime.job_repository import JobRepository

from tests.fixtures.analysis_checks import assert_every_number, assert_valid_png
from tests.fixtures.synthetic import write_synthetic_experiment


@pytest.fixture
def experiment(store):
    return write_synthetic_experiment(store, trials=6, iterations=1200, chunk=400, probe_every=100, eval_every=100)


def test_404_before_analysis_then_full_json_thinned_series_and_npz(client, store, experiment, sent):
    base = f"/v1/experiments/{experiment}"
    assert client.get(f"{base}/analysis").status_code == 404
    assert client.get(f"{base}/figures/AB.png").status_code == 404
    assert client.get(f"{base}/analysis/series.npz").status_code == 404
    run_experiment_analysis(store, experiment)
    body = client.get(f"{base}/analysis", params={"max_points": 50}).json()
    assert_every_number(body)
    assert body["series"]["estimates"]["records"] == 1200 and body["series"]["estimates"]["returned"] == 50
    assert len(body["series"]["estimates"]["A_L"]) == 50 and body["series"]["estimates"]["t"][-1] == 1199
    assert "series" not in client.get(f"{base}/analysis", params={"series": "false"}).json()
    full = np.load(io.BytesIO(client.get(f"{base}/analysis/series.npz").content))
    assert full["estimates/A_L"].shape == (1200,)
    for name in FIGURE_NAMES:
        answer = client.get(f"{base}/figures/{name}.png")
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png", name
        assert_valid_png(answer.content)
    assert client.get(f"{base}/figures/nope.png").status_code == 404


def test_figure_size_renders_once_then_is_served(client, store, experiment, sent):
    run_experiment_analysis(store, experiment)
    url = f"/v1/experiments/{experiment}/figures/leode.png"
    pending = client.get(url, params={"width": 6, "height": 4, "dpi": 60})
    assert pending.status_code == 202 and pending.headers["retry-after"]
    assert sent[-1][0] == "lesde.render_figure"
    render_figure_variant(store, *sent[-1][1:])
    answer = client.get(url, params={"width": 6, "height": 4, "dpi": 60})
    assert answer.status_code == 200
    assert_valid_png(answer.content, min_size=150)
    too_big = client.get(url, params={"dpi": 400, "width": 30})
    assert too_big.status_code == 422 and too_big.json()["detail"][0]["field"] == "dpi"
    assert client.get(url, params={"dpi": 1000}).status_code == 422


def test_rerun_with_options_is_enqueued_cached_and_409_while_it_runs(client, store, experiment, sent):
    base = f"/v1/experiments/{experiment}"
    answer = client.post(f"{base}/analysis", json={"estimator": "I", "savgol_window": 51})
    assert answer.status_code == 202
    key = answer.json()["options_key"]
    assert sent[-1] == ("lesde.analyze_experiment", experiment, answer.json()["options"])
    assert client.get(f"{base}/analysis", params={"options_key": key}).status_code == 409
    assert client.post(f"{base}/analysis", json={"savgol_window": 51, "estimator": "I"}).json()["state"] == "queued"
    assert len(sent) == 1  # the same option set, in another order, is not enqueued twice
    run_experiment_analysis(store, experiment, answer.json()["options"])
    body = client.get(f"{base}/analysis", params={"options_key": key}).json()
    assert body["options"]["estimator"] == "I" and body["options_key"] == key
    assert body["figures"] == {name: f"{base}/figures/{name}.png?options_key={key}" for name in FIGURE_NAMES}
    assert body["series_url"] == f"{base}/analysis/series.npz?options_key={key}"
    cached = client.post(f"{base}/analysis", json={"estimator": "I", "savgol_window": 51})
    assert cached.status_code == 200 and cached.json()["cached"] is True
    assert_valid_png(client.get(f"{base}/figures/alpha-beta.png", params={"options_key": key}).content)
    assert client.get(f"{base}/analysis", params={"options_key": "0123456789abcdef"}).status_code == 404


@pytest.mark.parametrize("path", ["analysis", "analysis/series.npz", "figures/AB.png"])
def test_a_run_ending_while_the_api_looks_is_409_then_200_never_404(client, store, experiment, sent, monkeypatch, path):
    """The worker stores the result first and marks the state last. Had the API read the
    state after missing the result, a run that ended in between would answer 404, where a
    poller stops (issue 10: ``KeyError: 'options'`` in tests/integration/test_analysis_http.py)."""
    base = f"/v1/experiments/{experiment}"
    posted = client.post(f"{base}/analysis", json={"estimator": "I", "savgol_window": 21}).json()
    key, state_key = posted["options_key"], run_state_key(experiment, posted["options_key"])
    read, ended = store.get_bytes, []

    def worker_ends_after_a_miss(name: str) -> bytes:
        try:
            return read(name)
        except ObjectNotFound:
            if name != state_key and not ended:
                ended.append(name)
                run_experiment_analysis(store, experiment, posted["options"])
            raise

    monkeypatch.setattr(store, "get_bytes", worker_ends_after_a_miss)
    assert client.get(f"{base}/{path}", params={"options_key": key}).status_code == 409
    assert ended, "the API never missed the result: the test no longer opens the window"
    answer = client.get(f"{base}/{path}", params={"options_key": key})
    assert answer.status_code == 200
    if path == "analysis":
        assert answer.json()["options"]["estimator"] == "I"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"savgol_window": 4}, "savgol_window"),
        ({"savgol_window": 3}, "savgol_window"),
        ({"tail_window": 0}, "tail_window"),
        ({"estimator": "X"}, "estimator"),
        ({"projection": [1, 1]}, "projection"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_bad_options_are_422_naming_the_field(client, experiment, sent, options, field):
    answer = client.post(f"/v1/experiments/{experiment}/analysis", json=options)
    assert answer.status_code == 422
    assert field in answer.json()["message"]
    assert not sent


def test_bad_query_values_are_422(client, experiment):
    base = f"/v1/experiments/{experiment}"
    assert client.get(f"{base}/analysis", params={"max_points": 1}).status_code == 422
    assert client.get(f"{base}/analysis", params={"options_key": "../x"}).status_code == 422


def test_partial_analysis_on_demand_while_training(client, store, sent):
    job_id = write_synthetic_experiment(store, trials=4, iterations=600, chunk=200, probe_every=100, eval_every=100, complete=False)
    repo = JobRepository(store, "experiment")
    repo.mark_running(job_id)
    base = f"/v1/experiments/{job_id}"
    assert client.get(f"{base}/analysis").status_code == 409
    answer = client.post(f"{base}/analysis")
    assert answer.status_code == 202 and answer.json()["partial"] is True
    run_experiment_analysis(store, job_id, answer.json()["options"])
    body = client.get(f"{base}/analysis").json()
    assert body["partial"] is True and body["iterations_done"] == 600
    assert repo.get(job_id).analysis == "none"  # status.json stays the trainer's while it runs
    # a partial result is not a cache hit: asking again recomputes
    assert client.post(f"{base}/analysis").status_code == 202


def test_post_before_any_data_is_409(client, experiments, sent):
    record = experiments.create(spec={}, owner="x", name=None, total=10, unit="iterations")
    assert client.post(f"/v1/experiments/{record.id}/analysis").status_code == 409
    experiments.mark_finished(record.id, JobStatus.failed, error="boom")
    assert client.get(f"/v1/experiments/{record.id}/analysis").status_code == 404


def test_an_analysis_whose_analyzer_died_starts_again_when_asked_and_a_finished_one_leaves_no_lease(client, store, experiment, sent):
    """Running under a lease whose process is gone (the analyzer group killed): asked for again, it is queued again."""
    import json
    import subprocess
    import sys

    from lesde_contract import object_keys
    from lesde_contract.records import AnalysisState, utcnow
    from lesde_runtime.analysis_leases import _body
    from lesde_runtime.analysis_state import write_run_state
    from lesde_runtime.leases import new_lease
    from lesde_runtime.settings import LeaseSettings

    base = f"/v1/experiments/{experiment}"
    options = client.post(f"{base}/analysis", json={"estimator": "I"}).json()
    key = options["options_key"]
    write_run_state(store, experiment, key, AnalysisState.running, options["options"])
    pid = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout)
    lease = new_lease(utcnow(), LeaseSettings()).model_copy(update={"pid": pid})  # this host, a process that has ended
    store.put_bytes(
        object_keys.analysis_lease_key(experiment, key),
        json.dumps(_body("experiment", experiment, key, options["options"], lease)).encode(),
    )
    again = client.post(f"{base}/analysis", json={"estimator": "I"})
    assert again.status_code == 202 and again.json()["state"] == "queued" and len(sent) == 2
    run_experiment_analysis(store, experiment, options["options"])  # a live analyzer's run holds, then drops, its lease
    assert list(store.list(object_keys.ANALYSIS_LEASES_PREFIX)) == []
    assert client.get(f"{base}/analysis", params={"options_key": key}).status_code == 200


# -- formats (PNG, SVG, PDF) and figure pairs on shared axes ----------------------------------
SVG_NS = "{http://www.w3.org/2000/svg}"


def assert_valid_svg(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == f"{SVG_NS}svg", root.tag
    return root


def assert_valid_pdf(data: bytes) -> None:
    assert data.startswith(b"%PDF-") and b"/Type /Page" in data and data.rstrip().endswith(b"%%EOF")


def tick_labels(svg: bytes) -> list[list[str]]:
    """The tick label texts of each axis (x and y of every panel) of an SVG figure, in drawing order."""
    root = assert_valid_svg(svg)
    return [
        [text.text or "" for text in group.iter(f"{SVG_NS}text")]
        for group in root.iter(f"{SVG_NS}g")
        if group.get("id", "").startswith("matplotlib.axis")
    ]


def test_every_figure_is_served_as_svg_and_pdf_stored_by_the_analysis(client, store, experiment, sent):
    run_experiment_analysis(store, experiment)
    base = f"/v1/experiments/{experiment}/figures"
    for name in FIGURE_NAMES:
        svg = client.get(f"{base}/{name}.svg")
        assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml", name
        assert svg.headers["content-disposition"] == f'inline; filename="{experiment}-{name}.svg"'
        assert_valid_svg(svg.content)
        pdf = client.get(f"{base}/{name}.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf", name
        assert pdf.headers["content-disposition"] == f'inline; filename="{experiment}-{name}.pdf"'
        assert_valid_pdf(pdf.content)
        png = client.get(f"{base}/{name}.png")
        assert png.headers["content-disposition"] == f'inline; filename="{experiment}-{name}.png"'
    assert not sent  # stored by the analysis: nothing rendered on request
    assert store.exists(run_figure_key(experiment, "default", "AB", fmt="svg"))
    assert store.exists(run_figure_key(experiment, "default", "AB", fmt="pdf"))
    # the same drawing: the SVG's text is the PNG figure's (a caption naming the experiment)
    assert experiment in "".join(t.text or "" for t in assert_valid_svg(client.get(f"{base}/curves.svg").content).iter(f"{SVG_NS}text"))
    assert client.get(f"{base}/nope.svg").status_code == 404
    assert client.get(f"{base}/AB.gif").status_code == 404


def test_an_older_result_without_svg_or_pdf_renders_them_on_request(client, store, experiment, sent):
    run_experiment_analysis(store, experiment)
    for fmt in ("svg", "pdf"):  # as a result stored before the vector formats existed
        store.delete(run_figure_key(experiment, "default", "leode", fmt=fmt))
    url = f"/v1/experiments/{experiment}/figures/leode"
    pending = client.get(f"{url}.svg")
    assert pending.status_code == 202 and pending.headers["retry-after"] and "SVG" in pending.json()["message"]
    assert sent[-1] == ("lesde.render_figure", experiment, "default", "leode", 10.0, 4.5, 110, "svg", None)
    render_figure_variant(store, *sent[-1][1:])  # what the analyzer's task runs
    answer = client.get(f"{url}.svg")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
    assert assert_valid_svg(answer.content).get("width") == "720pt"  # 10 inches, the default size
    assert client.get(f"{url}.pdf").status_code == 202
    render_figure_variant(store, *sent[-1][1:])
    assert_valid_pdf(client.get(f"{url}.pdf").content)
    assert len(sent) == 2  # rendered once each: served at once afterwards
    assert client.get(f"{url}.svg").status_code == 200 and len(sent) == 2
    # a size variant as SVG: the vector drawn at that size
    assert client.get(f"{url}.svg", params={"width": 6, "height": 4}).status_code == 202
    assert sent[-1][1:] == (experiment, "default", "leode", 6.0, 4.0, 110, "svg", None)
    render_figure_variant(store, *sent[-1][1:])
    sized = client.get(f"{url}.svg", params={"width": 6, "height": 4})
    assert sized.status_code == 200 and assert_valid_svg(sized.content).get("width") == "432pt"
    # the stored PNG is never rendered again, and asking for the default size explicitly is the stored figure
    assert client.get(f"{url}.png", params={"width": 10, "height": 4.5, "dpi": 110}).status_code == 200 and len(sent) == 3


def test_an_older_result_still_being_rerun_is_409_not_rendered(client, store, experiments, sent):
    job_id = write_synthetic_experiment(store, trials=2, iterations=200, chunk=100, probe_every=100, eval_every=100, complete=False)
    experiments.mark_running(job_id)
    assert client.get(f"/v1/experiments/{job_id}/figures/AB.svg").status_code == 409
    assert not sent


@pytest.fixture
def pair(store):
    """Two analysed experiments whose figures span different ranges (1,200 and 600 iterations)."""
    long = write_synthetic_experiment(store, trials=4, iterations=1200, chunk=400, probe_every=100, eval_every=100)
    short = write_synthetic_experiment(store, trials=4, iterations=600, chunk=200, probe_every=100, eval_every=100, seed=3, noise=0.3)
    run_experiment_analysis(store, long)
    run_experiment_analysis(store, short)
    return long, short


def test_a_figure_on_axes_shared_with_another_experiment_renders_once_then_is_served(client, store, pair, sent):
    long, short = pair
    alone = {job: tick_labels(client.get(f"/v1/experiments/{job}/figures/curves.svg").content) for job in pair}
    assert alone[long] != alone[short]  # drawn on their own axes, the two disagree
    shared = {}
    for job, other in ((long, short), (short, long)):
        url = f"/v1/experiments/{job}/figures/curves.svg"
        pending = client.get(url, params={"share_axes_with": other})
        assert pending.status_code == 202 and pending.headers["retry-after"]
        assert sent[-1] == ("lesde.render_figure", job, "default", "curves", 10.0, 4.5, 110, "svg", other)
        render_figure_variant(store, *sent[-1][1:])
        answer = client.get(url, params={"share_axes_with": other})
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
        assert answer.headers["content-disposition"] == f'inline; filename="{job}-curves-with-{other}.svg"'
        shared[job] = tick_labels(answer.content)
    # the union of both: every axis of the pair carries the same ticks, the longer run's iteration range included
    assert shared[long] == shared[short]
    assert shared[short] != alone[short] and shared[short][0] == alone[long][0]
    sends = len(sent)
    assert client.get(f"/v1/experiments/{short}/figures/curves.svg", params={"share_axes_with": long}).status_code == 200
    assert len(sent) == sends  # a stored pair is served at once
    key = run_figure_key(short, "default", "curves", variant=figure_variant(10.0, 4.5, 110, share_with=long), fmt="svg")
    assert store.exists(key) and key.endswith(f"figures/curves@w10-h4.5-d110-with-{long}.svg")
    # PNG and PDF, and another size, each their own variant
    for fmt, check in (("png", assert_valid_png), ("pdf", assert_valid_pdf)):
        url = f"/v1/experiments/{short}/figures/leode.{fmt}"
        assert client.get(url, params={"share_axes_with": long, "width": 8}).status_code == 202
        assert sent[-1][1:] == (short, "default", "leode", 8.0, 4.5, 110, fmt, long)
        render_figure_variant(store, *sent[-1][1:])
        answer = client.get(url, params={"share_axes_with": long, "width": 8})
        assert answer.status_code == 200
        check(answer.content)


def test_the_other_experiment_must_exist_and_have_the_same_analysis(client, store, experiment, experiments, sent):
    run_experiment_analysis(store, experiment)
    url = f"/v1/experiments/{experiment}/figures/AB.png"
    missing = client.get(url, params={"share_axes_with": "0123456789abcdef"})
    assert missing.status_code == 404 and "0123456789abcdef" in missing.json()["message"]
    assert client.get(url, params={"share_axes_with": "../etc"}).status_code == 422
    running = write_synthetic_experiment(store, trials=2, iterations=200, chunk=100, probe_every=100, eval_every=100, complete=False)
    experiments.mark_running(running)
    conflict = client.get(url, params={"share_axes_with": running})
    assert conflict.status_code == 409 and f"cannot share axes with experiment {running}" in conflict.json()["message"]
    other_options = client.get(url, params={"share_axes_with": experiment, "options_key": "0123456789abcdef"})
    assert other_options.status_code == 404 and f"no figure 'AB' for experiment {experiment}" in other_options.json()["message"]
    assert client.get(url, params={"share_axes_with": running, "options_key": "0123456789abcdef"}).status_code == 404  # this one's first
    assert not sent


def test_another_owners_experiment_is_missing_as_a_partner(keyed_client, bearer, store, experiments, sent):
    mine = write_synthetic_experiment(store, trials=4, iterations=400, chunk=200, probe_every=100, eval_every=100)
    theirs = write_synthetic_experiment(store, trials=4, iterations=400, chunk=200, probe_every=100, eval_every=100, seed=2)
    for job, owner in ((mine, "bob"), (theirs, "ada")):
        experiments.update(job, lambda record, owner=owner: setattr(record, "owner", owner))
        run_experiment_analysis(store, job)
    url = f"/v1/experiments/{mine}/figures/AB.png"
    foreign = keyed_client.get(url, params={"share_axes_with": theirs}, headers=bearer("bob"))
    missing = keyed_client.get(url, params={"share_axes_with": "0123456789abcdef"}, headers=bearer("bob"))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["message"] == missing.json()["message"].replace("0123456789abcdef", theirs)
    assert not sent
    itself = keyed_client.get(url, params={"share_axes_with": mine}, headers=bearer("bob"))  # its own: the figure as stored
    assert itself.status_code == 200 and itself.content == keyed_client.get(url, headers=bearer("bob")).content and not sent


def test_the_client_takes_the_format_and_waits_for_a_figure_rendered_on_request(client, store, experiment, monkeypatch):
    from lesde.client import LesdeClient

    run_experiment_analysis(store, experiment)
    store.delete(run_figure_key(experiment, "default", "AB", fmt="pdf"))
    rendered = []

    def worker(*message):  # a worker that renders as soon as the message is sent
        rendered.append(message)
        render_figure_variant(store, *message[1:])

    monkeypatch.setattr("lesde_runtime.celery_app.send", worker)
    lesde = LesdeClient("http://testserver")
    lesde.http = client
    assert_valid_svg(lesde.figure(experiment, "AB", fmt="svg"))
    assert_valid_pdf(lesde.figure(experiment, "AB", fmt="pdf"))  # 202, then 200 after Retry-After
    assert len(rendered) == 1
    assert_valid_png(lesde.figure(experiment, "AB"))
    with pytest.raises(ValueError, match="fmt must be png, svg or pdf"):
        lesde.figure(experiment, "AB", fmt="gif")

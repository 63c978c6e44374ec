"""Analysis, series and figure routes of experiments (the analyzer runs in-process here)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from lesde.jobs import JobRepository
from lesde.records import JobStatus
from lesde.specs.analysis import FIGURE_NAMES, run_state_key
from lesde.storage import ObjectNotFound
from lesde_analyzer.experiments.job import render_figure_variant, run_experiment_analysis
from tests.fixtures.synthetic import write_synthetic_experiment
from tests.fixtures.analysis_checks import assert_every_number, assert_valid_png


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

    from lesde import keys
    from lesde.analysis_leases import _body
    from lesde.analysis_state import write_run_state
    from lesde.leases import new_lease
    from lesde.records import AnalysisState, utcnow
    from lesde.settings import LeaseSettings

    base = f"/v1/experiments/{experiment}"
    options = client.post(f"{base}/analysis", json={"estimator": "I"}).json()
    key = options["options_key"]
    write_run_state(store, experiment, key, AnalysisState.running, options["options"])
    pid = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout)
    lease = new_lease(utcnow(), LeaseSettings()).model_copy(update={"pid": pid})  # this host, a process that has ended
    store.put_bytes(keys.analysis_lease_key(experiment, key), json.dumps(_body("experiment", experiment, key, options["options"], lease)).encode())
    again = client.post(f"{base}/analysis", json={"estimator": "I"})
    assert again.status_code == 202 and again.json()["state"] == "queued" and len(sent) == 2
    run_experiment_analysis(store, experiment, options["options"])  # a live analyzer's run holds, then drops, its lease
    assert list(store.list(keys.ANALYSIS_LEASES_PREFIX)) == []
    assert client.get(f"{base}/analysis", params={"options_key": key}).status_code == 200

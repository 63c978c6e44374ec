"""The Python client and the ``lesde`` command against the in-process API (real store,
real filesystem broker). Tasks are recorded instead of run: no worker here."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from lesde import cli, cli_sweeps
from lesde import client as client_module
from lesde.client import LesdeApiError, LesdeClient
from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
from lesde_analyzer.imports import run_import_job
from lesde_analyzer.simulations.simulation_job import run_simulation_job
from lesde_contract.csv_layout import header as authors_header
from lesde_contract.records import AnalysisState, JobStatus

from tests.fixtures.authors_csv import authors_csv

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 120  # a `lesde` process on a busy machine: imports take most of it
TINY = {"training": {"iterations": 10, "trials": 1, "probe_per_class": 1}}


@pytest.fixture
def lesde_client(client):
    """A LesdeClient whose HTTP goes to the in-process app (TestClient is an httpx.Client)."""
    wrapped = LesdeClient("http://testserver")
    wrapped.http = client
    return wrapped


def test_client_submit_get_list_cancel_delete(lesde_client, sent):
    job = lesde_client.submit_experiment({"training": {"iterations": 10, "trials": 1, "probe_per_class": 1}})
    assert lesde_client.get(job["id"])["status"] == "queued"
    assert lesde_client.list(status="queued")["count"] == 1
    assert lesde_client.cancel(job["id"])["status"] == "cancelled"
    with pytest.raises(LesdeApiError) as conflict:
        lesde_client.cancel(job["id"])
    assert conflict.value.status == 409
    lesde_client.delete(job["id"])
    with pytest.raises(LesdeApiError) as missing:
        lesde_client.get(job["id"])
    assert missing.value.status == 404


def test_client_import_export_and_reanalysis(lesde_client, store, tmp_path, sent):
    csv_path = tmp_path / "run.csv"
    csv_path.write_text(authors_csv(trials=2, iterations=60, val_every=20))
    record = lesde_client.import_csv(csv_path, classes=["a", "b", "c"], name="theirs")
    assert record["status"] == "queued" and record["name"] == "theirs"
    run_import_job(store, record["id"])  # the analyzer's import task, in-process
    assert lesde_client.get(record["id"])["status"] == "succeeded"
    exported = lesde_client.export(record["id"], "csv", tmp_path)
    header = exported.read_text().splitlines()[0]
    assert header == "trial,itr,smp,y,y_logit0,y_logit1,y_logit2,tr_loss,val_loss,val_acc"
    assert len(exported.read_text().splitlines()) == 1 + 2 * 60
    answer = lesde_client.request_analysis(record["id"], {"savgol_window": 21})
    assert answer["options_key"] != "default"
    with pytest.raises(LesdeApiError) as bad:
        lesde_client.request_analysis(record["id"], {"savgol_window": 4})
    assert bad.value.status == 422 and "savgol_window" in str(bad.value)


class _KeepOpen(LesdeClient):
    """Each CLI command closes its client; the in-process TestClient must outlive them."""

    def close(self) -> None:
        pass


def test_cli_submit_status_list_and_errors(client, monkeypatch, tmp_path, capsys, sent):
    def make(url: str) -> LesdeClient:
        made = _KeepOpen(url)
        made.http = client
        return made

    monkeypatch.setattr(cli, "LesdeClient", make)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"training": {"iterations": 10, "trials": 1, "probe_per_class": 1}}))
    assert cli.main(["submit", str(spec)]) == 0
    job_id = capsys.readouterr().out.split()[2]
    assert cli.main(["status", job_id]) == 0
    assert "queued" in capsys.readouterr().out
    assert cli.main(["list"]) == 0
    assert job_id in capsys.readouterr().out

    spec.write_text(json.dumps({"training": {"trials": 0}}))
    assert cli.main(["submit", str(spec)]) == 2
    assert "training.trials" in capsys.readouterr().err
    spec.write_text("{not json")
    assert cli.main(["submit", str(spec)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_progress_line_shows_bar_rate_and_eta():
    line = cli.progress_line(
        {"status": "running", "progress": {"done": 500, "total": 2000, "unit": "iterations", "rate": 12345.6, "eta_seconds": 12}}
    )
    assert "25%" in line and "500/2,000 iterations" in line and "12,346 trial-it/s" in line and "ETA 12s" in line


def test_summary_lines_tolerate_missing_numbers():
    text = cli.format_summary({"verdict": {"label": "inconclusive", "r_gamma": None}, "classes": ["a", "b"]})
    assert "verdict from the tail index of Gamma: inconclusive (labels: trained)" in text


def test_summary_shows_every_window_a_bound_in_words_and_the_imitation_skill():
    summary = {
        "labels": {"option": "true"},
        "verdict": {"label": "inconclusive", "r_gamma": None, "why": "r of Gamma stopped at the fit's bound (4): no estimate. Windows: ...",
                    "windows": [{"window": [500.0, 10000.0], "r": 1.52, "se": 0.04, "at_bound": False, "label": "not separable", "deciding": False},
                                {"window": [1000.0, 10000.0], "r": None, "se": None, "at_bound": True, "label": "inconclusive", "deciding": True}]},
        "figure_4c": {"r_hat_min": 0.72},
        "imitation": {"L": {"nrmse": 0.4, "nrmse_hold": 0.8, "skill": 0.5, "scored_share": 0.9, "onset": {"iteration": 1000}},
                      "I": {"failed": "never clear of the noise"}},
    }  # fmt: skip
    text = cli.format_summary(summary)
    assert "inconclusive (labels: true)" in text
    assert "  window [500, 10,000]: r = 1.520 +- 0.040 (not separable)" in text
    assert "* window [1,000, 10,000]: at the fit's bound: no estimate (inconclusive)" in text
    assert "4 +-" not in text and "4.000" not in text  # a bound is never printed as an estimate
    assert "Figure 4c number" in text and "0.720" in text
    assert "nrmse 0.400, holding Xbar(t0) 0.800, skill 0.500; onset t = 1,000, 90% of the run scored" in text
    assert "I-model: not run: never clear of the noise" in text


def test_summary_of_an_import_without_training_accuracy_prints_what_it_has():
    summary = {
        "final": {
            "iteration": 99,
            "train_accuracy": {"mean": None, "std": None},
            "validation_accuracy": {"mean": 0.5, "std": 0.1},
            "train_loss": {"mean": None, "std": None},
            "validation_loss": {"mean": 1.0, "std": 0.2},
        },
        "trials": 2,
    }
    text = cli.format_summary(summary).splitlines()
    assert "  validation accuracy  0.5000 +- 0.1000" in text
    assert "  train accuracy       \u2013" in text and "  train loss           \u2013" in text


def test_summary_shows_a_dash_for_any_absent_number():
    summary = {
        "final": {"iteration": None, "validation_accuracy": {"mean": 0.5, "std": None}},
        "classes": ["a", "b"],
        "class_means": {"probe": {"end_iteration": 9, "end": [[1.0, None], [None, 2.0]]}},
    }
    text = cli.format_summary(summary).splitlines()
    assert text[0] == "after \u2013 iterations, over \u2013 trials (mean +- std):"
    assert "  validation accuracy  0.5000 +- \u2013" in text
    assert text[-2].split() == ["a", "1.0000", "\u2013"] and text[-1].split() == ["b", "\u2013", "2.0000"]


# -- waiting: callbacks on change only, retries while the server does not answer ------------------
class Clock:
    """Stands in for the client's ``time`` (its module attribute only): ``sleep`` advances
    ``monotonic`` at once and runs the next scripted step, so no test sleeps for real."""

    def __init__(self, steps: list[Callable[[], object]] | None = None) -> None:
        self.now, self.slept, self.steps = 0.0, [], list(steps or [])

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept.append(seconds)
        if self.steps:
            self.steps.pop(0)()


@pytest.fixture
def closed_url() -> str:
    """The URL of a port that was free a moment ago: nothing answers there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_wait_calls_back_only_when_status_done_or_analysis_changed(lesde_client, experiments, monkeypatch, sent):
    job_id = lesde_client.submit_experiment(TINY)["id"]

    def advance(done: int, rate: float) -> Callable[[], object]:
        def change(record) -> None:
            record.progress.done, record.progress.rate = done, rate

        return lambda: experiments.update(job_id, change)

    clock = Clock([
        lambda: None,  # nothing moved: no call
        lambda: experiments.mark_running(job_id) and advance(5, 100.0)(),
        advance(5, 90.0),  # only the rate moved: no call
        advance(10, 90.0),
        lambda: experiments.mark_finished(job_id, JobStatus.succeeded, analysis=AnalysisState.queued),
        lambda: None,
        lambda: experiments.update(job_id, lambda record: setattr(record, "analysis", AnalysisState.succeeded)),
    ])  # fmt: skip
    monkeypatch.setattr(client_module, "time", clock)
    seen: list[dict] = []
    final = lesde_client.wait(job_id, on_progress=seen.append, poll_seconds=1.0)
    assert clock.steps == [] and clock.slept == [1.0] * 7
    assert [(view["status"], view["progress"]["done"], view["analysis"]) for view in seen] == [
        ("queued", 0, "none"), ("running", 5, "none"), ("running", 10, "none"),
        ("succeeded", 10, "queued"), ("succeeded", 10, "succeeded"),
    ]  # fmt: skip
    assert final == seen[-1]


def test_wait_rides_out_a_server_that_does_not_answer_yet(lesde_client, client, closed_url, monkeypatch, sent):
    """A real refused connection (nothing listens at ``closed_url``) until the third backoff,
    when the client is pointed at the in-process app: the gateway is back."""
    job_id = lesde_client.submit_experiment(TINY)["id"]
    waiting = LesdeClient(closed_url)
    clock = Clock([
        lambda: None, lambda: None,
        lambda: setattr(waiting, "http", client),  # answers from here on
        lambda: client.post(f"/v1/experiments/{job_id}/cancel"),
    ])  # fmt: skip
    monkeypatch.setattr(client_module, "time", clock)
    seen: list[dict] = []
    assert waiting.wait(job_id, on_progress=seen.append, poll_seconds=1.0)["status"] == "cancelled"
    assert clock.slept == [0.5, 1.0, 2.0, 1.0]  # backoff while refused, then one poll
    assert [view["status"] for view in seen] == ["queued", "cancelled"]


def test_wait_gives_up_after_a_minute_of_backoff(closed_url, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(client_module, "time", clock)
    with LesdeClient(closed_url) as waiting, pytest.raises(httpx.ConnectError):
        waiting.wait("0123456789abcdef")
    # 0.5 + 1 + 2 + 4 + 6 x 8 = 55.5 s asked again; one more 8 s would pass the 60 s window
    assert clock.slept == [0.5, 1.0, 2.0, 4.0] + [8.0] * 6


def test_unreachable_server_is_one_line_with_the_hint_and_exit_3(closed_url):
    """A real ``lesde`` process against a closed port: no traceback."""
    finished = subprocess.run(
        [sys.executable, "-m", "lesde.cli", "--url", closed_url, "list"],
        capture_output=True, text=True, timeout=CLI_TIMEOUT_S, cwd=REPO,
    )  # fmt: skip
    assert finished.returncode == 3, finished.stderr
    assert finished.stdout == "" and finished.stderr.count("\n") == 1
    assert finished.stderr.startswith(f"error: no answer from {closed_url} (")
    assert finished.stderr.endswith("); is the server running? (make up)\n")


def test_wait_on_an_unreachable_server_retries_then_exits_3(closed_url, monkeypatch, capsys):
    clock = Clock()
    monkeypatch.setattr(client_module, "time", clock)
    assert cli.main(["wait", "0123456789abcdef", "--url", closed_url]) == 3
    assert sum(clock.slept) == 55.5  # retried with backoff first
    err = capsys.readouterr().err
    assert err.startswith(f"error: no answer from {closed_url} (") and err.endswith("is the server running? (make up)\n")


# -- the URL: command line (before or after the subcommand), then LESDE_URL, then the default --------
@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["list"], None, "http://127.0.0.1:8000"),
        (["list"], "http://from-env:1", "http://from-env:1"),
        (["--url", "http://before:2/", "list"], "http://from-env:1", "http://before:2"),
        (["list", "--url", "http://after:3"], "http://from-env:1", "http://after:3"),
        (["--url", "http://before:2", "list", "--url", "http://after:3"], None, "http://after:3"),
        (["sweep", "list", "--url", "http://after:4"], None, "http://after:4"),
    ],
)
def test_the_url_comes_from_the_command_line_then_lesde_url_then_the_default(argv, env, expected, monkeypatch, capsys):
    if env is None:
        monkeypatch.delenv("LESDE_URL", raising=False)
    else:
        monkeypatch.setenv("LESDE_URL", env)
    used: list[str] = []

    class Recorder(_KeepOpen):
        """Keeps the URL each command builds its client with; answers an empty listing (no server needed)."""

        def __init__(self, url: str) -> None:
            used.append(url)
            super().__init__(url)

        def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
            return httpx.Response(200, json={"data": [], "count": 0})

    monkeypatch.setattr(cli, "LesdeClient", Recorder)
    monkeypatch.setattr(cli_sweeps, "LesdeClient", Recorder)
    assert cli.main(argv) == 0
    assert used == [expected]
    assert capsys.readouterr().out == "0 in all\n"


@pytest.mark.parametrize(("argv", "env", "named"), [(["--url", "localhost:8000", "list"], None, "--url"), (["list"], "nope", "LESDE_URL")])
def test_a_malformed_url_is_a_usage_error_naming_where_it_came_from(argv, env, named, monkeypatch, capsys):
    if env is not None:
        monkeypatch.setenv("LESDE_URL", env)
    with pytest.raises(SystemExit) as usage:
        cli.main(argv)
    assert usage.value.code == 2
    err = capsys.readouterr().err
    assert f"{named}" in err and "is not an http:// or https:// URL with a host" in err


# -- the sampled logits as a DataFrame --------------------------------------------------------------
@pytest.fixture
def imported(lesde_client, store, tmp_path, sent) -> str:
    """An imported experiment (2 trials, 60 iterations, 3 classes), parsed into chunks."""
    csv_path = tmp_path / "run.csv"
    csv_path.write_text(authors_csv(trials=2, iterations=60, val_every=20))
    job_id = lesde_client.import_csv(csv_path, classes=["a", "b", "c"])["id"]
    run_import_job(store, job_id)
    return job_id


def test_dataframe_holds_the_sampled_logits_in_the_authors_columns(lesde_client, imported, monkeypatch):
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = lesde_client.dataframe(imported)  # through the Parquet export
    assert list(frame.columns) == authors_header(3) and len(frame) == 2 * 60
    assert sorted(frame["trial"].unique()) == [0, 1] and frame["itr"].max() == 59
    assert frame["val_acc"].notna().sum() == 2 * 3  # evaluated at itr 0, 20, 40 only
    monkeypatch.setattr(client_module.importlib.util, "find_spec", lambda name: None)  # no pyarrow here
    from_csv = lesde_client.dataframe(imported)
    pandas.testing.assert_frame_equal(from_csv, frame, check_dtype=False)


def test_dataframe_without_pandas_says_how_to_get_it(lesde_client, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        lesde_client.dataframe("0123456789abcdef")


def test_dataframe_before_any_data_is_the_apis_409(lesde_client, sent):
    pytest.importorskip("pandas")
    job_id = lesde_client.submit_experiment(TINY)["id"]
    with pytest.raises(LesdeApiError) as conflict:
        lesde_client.dataframe(job_id)
    assert conflict.value.status == 409


# -- whole commands: import --wait (no training accuracy) and simulate --wait ---------------------
@pytest.fixture
def run_cli(client, monkeypatch):
    """``lesde ...`` in-process, every command talking to the in-process app."""

    def make(url: str) -> LesdeClient:
        made = _KeepOpen(url)
        made.http = client
        return made

    monkeypatch.setattr(cli, "LesdeClient", make)
    return cli.main


def _newest(client, kind: str) -> str:
    return client.get(f"/v1/{kind}s").json()["data"][0]["id"]


def test_import_wait_prints_a_summary_without_training_accuracy(run_cli, client, store, tmp_path, monkeypatch, capsys, sent):
    csv_path = tmp_path / "run.csv"
    csv_path.write_text(authors_csv(trials=2, iterations=60, val_every=20))
    clock = Clock([
        lambda: run_import_job(store, _newest(client, "experiment")),  # the analyzer's tasks, in-process
        lambda: run_experiment_analysis(store, _newest(client, "experiment")),
    ])  # fmt: skip
    monkeypatch.setattr(client_module, "time", clock)
    assert run_cli(["import", str(csv_path), "--classes", "a,b,c", "--wait", "--dest", str(tmp_path / "out")]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert "  train accuracy       \u2013" in lines  # the CSV has no training accuracy
    assert any(line.startswith("  validation accuracy  0.") for line in lines)
    assert "trained; analysis succeeded" in err.splitlines()[-1]  # not a terminal: one line per change
    job_id = _newest(client, "experiment")
    assert (tmp_path / "out" / job_id / "analysis" / "summary.json").exists()


def test_simulate_submits_waits_and_prints_the_headline_numbers(run_cli, client, store, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("lesde_runtime.celery_app.send", lambda *args: None)
    clock = Clock([lambda: run_simulation_job(store, _newest(client, "simulation"))])  # the analyzer's task, in-process
    monkeypatch.setattr(client_module, "time", clock)
    spec = REPO / "examples" / "simulation-sde.json"
    assert run_cli(["simulate", str(spec), "--wait", "--dest", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    job_id = _newest(client, "simulation")
    assert out.splitlines()[0].startswith(f"submitted simulation {job_id} (")
    assert "LE sde simulation, I-model, 2 classes, dim 1, 30 runs:" in out
    assert "separable fraction at the end   " in out and "ETF distance at the end" in out
    assert err.splitlines()[-1] == "[##############################] 100% 400/400 steps  succeeded"
    saved = tmp_path / job_id
    assert (saved / "analysis" / "summary.json").exists() and list((saved / "figures").glob("*.png"))
    assert run_cli(["status", job_id, "--kind", "simulation"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("succeeded")


def test_the_client_reads_lesde_url_when_given_no_url(monkeypatch):
    monkeypatch.setenv("LESDE_URL", "http://from-env:1")
    with LesdeClient() as from_env, LesdeClient("http://given:2") as given:
        assert str(from_env.http.base_url) == "http://from-env:1" and str(given.http.base_url) == "http://given:2"
    monkeypatch.delenv("LESDE_URL")
    with LesdeClient() as default:
        assert str(default.http.base_url) == "http://127.0.0.1:8000"


def test_cli_packs_an_image_folder_uploads_shows_and_deletes_it(client, store, monkeypatch, tmp_path, capsys, sent):
    from lesde import cli_datasets
    from lesde_analyzer.datasets.validation_job import run_dataset_validation
    from lesde_contract.dataset_files import inspect_npz
    from PIL import Image

    rng = __import__("numpy").random.default_rng(0)
    for split, count in (("train", 5), ("val", 2)):
        for name in ("cat", "dog"):
            folder = tmp_path / "pets" / split / name
            folder.mkdir(parents=True)
            for i in range(count):
                Image.fromarray(rng.integers(0, 255, size=(12, 12), dtype="uint8"), mode="L").save(folder / f"{i}.png")
    packed = tmp_path / "pets.npz"
    assert cli.main(["dataset", "pack", str(tmp_path / "pets"), str(packed)]) == 0
    assert "packed 10 training and 4 validation images of (1, 12, 12) in classes ['cat', 'dog']" in capsys.readouterr().out
    with packed.open("rb") as handle:
        info, _ = inspect_npz(handle)
    assert info.class_names == ["cat", "dog"] and info.train_counts == [5, 5] and info.shape == (1, 12, 12)

    def make(url: str) -> LesdeClient:
        made = _KeepOpen(url)
        made.http = client
        return made

    monkeypatch.setattr(cli_datasets, "LesdeClient", make)
    assert cli.main(["dataset", "upload", str(packed), "--name", "pets"]) == 0
    dataset_id = capsys.readouterr().out.split()[5]  # "uploaded FILE as data set ID (...)"
    run_dataset_validation(store, dataset_id)
    assert cli.main(["dataset", "show", dataset_id]) == 0
    shown = capsys.readouterr().out
    assert "succeeded" in shown and "['cat', 'dog']" in shown and '"name": "uploaded"' in shown
    assert cli.main(["dataset", "list"]) == 0 and dataset_id in capsys.readouterr().out
    assert cli.main(["dataset", "delete", dataset_id]) == 0
    assert cli.main(["dataset", "pack", str(tmp_path / "nowhere"), str(packed)]) == 2
    assert "missing; expected" in capsys.readouterr().err

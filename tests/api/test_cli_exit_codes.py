"""The ``lesde`` command's exit statuses, its answer to an id of another kind, and ``lesde list``
over every kind, against the in-process API (real store, broker calls recorded; no worker:
the analyzer's tasks run in-process, or records are moved as a worker would move them).

0 succeeded (``status``: not failed); 1 failed or cancelled, or no job of any kind has the id;
2 bad input (a bad option, an id of another kind); 3 no answer from the server.
"""

from __future__ import annotations

import argparse
import socket
import time
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from lesde import cli, cli_sweeps
from lesde import client as client_module
from lesde.client import LesdeClient
from lesde_analyzer.imports import run_import_job
from lesde_analyzer.simulations.simulation_job import run_simulation_job
from lesde_contract.records import AnalysisState, JobStatus

from tests.fixtures.authors_csv import authors_csv

TINY = {"training": {"iterations": 10, "trials": 1, "probe_per_class": 1}}
SIMULATION = {
    "mode": "sde",
    "model": "I",
    "classes": 2,
    "dim": 1,
    "samples_per_class": 4,
    "runs": 3,
    "steps": 20,
    "step": 0.05,
    "record_every": 5,
    "seed": 1,
}
GRID = {"name": "noise", "base": TINY, "axes": {"dataset.label_noise": [0.0, 0.5]}}
UNKNOWN = "0123456789abcdef"


class _KeepOpen(LesdeClient):
    """Each CLI command closes its client; the in-process TestClient must outlive them."""

    def close(self) -> None:
        pass


@pytest.fixture
def lesde_client(client) -> LesdeClient:
    wrapped = _KeepOpen("http://testserver")
    wrapped.http = client
    return wrapped


@pytest.fixture
def run_cli(lesde_client, monkeypatch):
    """``lesde ...`` in-process; every command (``lesde sweep ...`` too) talks to the in-process app.
    Waits do not sleep: a finished job answers at once."""
    monkeypatch.setattr(cli, "LesdeClient", lambda url: lesde_client)
    monkeypatch.setattr(cli_sweeps, "LesdeClient", lambda url: lesde_client)
    never = SimpleNamespace(monotonic=time.monotonic, sleep=lambda seconds: pytest.fail(f"the wait slept {seconds} s on a finished job"))
    monkeypatch.setattr(client_module, "time", never)
    return cli.main


@pytest.fixture
def closed_url() -> str:
    """The URL of a port that was free a moment ago: nothing answers there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _bad_import(lesde_client, store, tmp_path) -> str:
    """An import whose CSV has a non-numeric loss: the analyzer's import task fails it."""
    lines = authors_csv(trials=2, iterations=10).strip().split("\n")
    lines[3] = lines[3].replace(",0.5,", ",abc,")
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    job_id = lesde_client.import_csv(path)["id"]
    run_import_job(store, job_id)  # the analyzer's import task, in-process
    return job_id


def _dataset(lesde_client, tmp_path) -> str:
    """An uploaded data set (queued for validation: no worker here)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.npz"
    np.savez_compressed(
        path, x_train=rng.integers(0, 255, (4, 1, 8, 8), dtype=np.uint8), y_train=np.array([0, 1, 0, 1]),
        x_val=rng.integers(0, 255, (2, 1, 8, 8), dtype=np.uint8), y_val=np.array([0, 1]),
    )  # fmt: skip
    return lesde_client.upload_dataset(path, name="tiny")["id"]


# -- 1: failed or cancelled; 0: succeeded (or not finished) ------------------------------------------
def test_a_failed_job_exits_1_from_status_and_wait(run_cli, lesde_client, store, tmp_path, capsys, sent):
    job_id = _bad_import(lesde_client, store, tmp_path)
    assert lesde_client.get(job_id)["status"] == "failed"
    assert run_cli(["status", job_id]) == 1
    out = capsys.readouterr().out
    assert "failed" in out and "error: row 4" in out
    assert run_cli(["wait", job_id, "--dest", str(tmp_path / "out")]) == 1
    assert f"experiment {job_id} failed: row 4" in capsys.readouterr().out


def test_a_job_marked_failed_by_its_worker_exits_1(run_cli, lesde_client, experiments, capsys, sent):
    job_id = lesde_client.submit_experiment(TINY)["id"]
    experiments.mark_running(job_id)
    experiments.mark_finished(job_id, JobStatus.failed, error="CUDA out of memory")
    assert run_cli(["status", job_id]) == 1
    assert "error: CUDA out of memory" in capsys.readouterr().out


def test_a_cancelled_job_exits_1(run_cli, lesde_client, tmp_path, capsys, sent):
    job_id = lesde_client.submit_experiment(TINY)["id"]
    assert run_cli(["status", job_id]) == 0  # queued: not failed
    assert "queued" in capsys.readouterr().out
    assert run_cli(["cancel", job_id]) == 0  # the cancel itself worked
    assert run_cli(["status", job_id]) == 1
    assert run_cli(["wait", job_id, "--dest", str(tmp_path)]) == 1
    assert f"experiment {job_id} cancelled" in capsys.readouterr().out


def test_a_trained_experiment_whose_analysis_failed_exits_1(run_cli, lesde_client, experiments, capsys, sent):
    job_id = lesde_client.submit_experiment(TINY)["id"]
    experiments.mark_running(job_id)
    experiments.mark_finished(job_id, JobStatus.succeeded, analysis=AnalysisState.queued)
    assert run_cli(["status", job_id]) == 0
    experiments.update(job_id, lambda record: setattr(record, "analysis", AnalysisState.failed))
    assert run_cli(["status", job_id]) == 1
    assert "analysis failed" in capsys.readouterr().out


def test_a_succeeded_job_exits_0_from_status_and_wait(run_cli, lesde_client, store, tmp_path, capsys, sent):
    job_id = lesde_client.submit_simulation(SIMULATION)["id"]
    run_simulation_job(store, job_id)  # the analyzer's task, in-process
    assert run_cli(["status", job_id, "--kind", "simulation"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("succeeded")
    assert run_cli(["wait", job_id, "--kind", "simulation", "--dest", str(tmp_path)]) == 0
    assert (tmp_path / job_id / "analysis" / "summary.json").exists()


def test_a_cancelled_sweep_exits_1_from_sweep_status(run_cli, lesde_client, capsys, sent):
    sweep_id = lesde_client.submit_sweep(GRID)["id"]
    assert run_cli(["sweep", "status", sweep_id]) == 0  # queued
    lesde_client.cancel_sweep(sweep_id)
    assert run_cli(["sweep", "status", sweep_id]) == 1
    assert f"sweep {sweep_id} cancelled" in capsys.readouterr().out


# -- 3: no answer; 2: usage -----------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["status", UNKNOWN], ["list"], ["sweep", "status", UNKNOWN]])
def test_an_unreachable_server_exits_3(argv, closed_url, capsys):
    """A real refused connection (``status`` and ``list`` ask once: no backoff)."""
    assert cli.main([*argv, "--url", closed_url]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"error: no answer from {closed_url} (") and err.count("\n") == 1


def test_a_server_that_times_out_exits_3(monkeypatch, capsys):
    def timing_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    def make(url: str) -> LesdeClient:
        made = _KeepOpen(url)
        made.http = httpx.Client(base_url=url, transport=httpx.MockTransport(timing_out))
        return made

    monkeypatch.setattr(cli, "LesdeClient", make)
    assert cli.main(["status", UNKNOWN, "--url", "http://10.255.255.1:8000"]) == 3
    assert "no answer from http://10.255.255.1:8000 (timed out)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["status"], ["status", UNKNOWN, "--kind", "bogus"], ["wait", UNKNOWN, "--no-such-option"], ["list", "--kind", "job"],
     ["list", "--limit", "many"], ["sweep", "status"], ["frobnicate"]],
)  # fmt: skip
def test_a_bad_option_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as usage:
        cli.main(argv)
    assert usage.value.code == 2
    assert "usage: lesde" in capsys.readouterr().err


def test_the_exit_statuses_are_in_the_help():
    top = cli.build_parser().format_help()
    for line in ("0 done", "1 the job failed or was cancelled", "2 bad input", "3 no answer from the server"):
        assert line in top, line
    commands = _subcommands(cli.build_parser())
    for name in ("status", "wait"):
        assert "exit status: 0 succeeded (status: or not finished yet); 1 failed or cancelled" in commands[name].format_help(), name
    for name in ("status", "wait"):
        assert "exit status: 0 succeeded" in _subcommands(commands["sweep"])[name].format_help(), name


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(action.choices for action in parser._actions if isinstance(action, argparse._SubParsersAction))


# -- an id of another kind ------------------------------------------------------------------------
def test_a_simulation_id_given_to_status_names_the_command_for_it(run_cli, lesde_client, capsys, sent):
    job_id = lesde_client.submit_simulation(SIMULATION)["id"]
    assert run_cli(["status", job_id]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: {job_id} is a simulation, not an experiment: lesde status {job_id} --kind simulation\n"
    assert run_cli(["wait", job_id]) == 2
    assert f"lesde wait {job_id} --kind simulation" in capsys.readouterr().err
    assert run_cli(["status", job_id, "--kind", "simulation"]) == 0


def test_an_experiment_sweep_or_data_set_id_of_the_wrong_kind(run_cli, lesde_client, tmp_path, capsys, sent):
    experiment = lesde_client.submit_experiment(TINY)["id"]
    sweep = lesde_client.submit_sweep(GRID)["id"]
    dataset = _dataset(lesde_client, tmp_path)
    cases = [
        (["status", experiment, "--kind", "simulation"], f"{experiment} is an experiment, not a simulation: lesde status {experiment}"),
        (["status", sweep], f"{sweep} is a sweep, not an experiment: lesde sweep status {sweep}"),
        (["cancel", sweep], f"{sweep} is a sweep, not an experiment: lesde sweep cancel {sweep}"),
        (["status", dataset], f"{dataset} is a data set, not an experiment: lesde dataset show {dataset}"),
        (["sweep", "status", experiment], f"{experiment} is an experiment, not a sweep: lesde status {experiment}"),
        (["sweep", "table", experiment], f"{experiment} is an experiment, not a sweep: lesde status {experiment}"),
    ]
    for argv, message in cases:
        assert run_cli(argv) == 2, argv
        assert capsys.readouterr().err == f"error: {message}\n", argv


def test_an_id_of_no_kind_exits_1_saying_so(run_cli, capsys):
    assert run_cli(["status", UNKNOWN]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"error: no experiment, simulation, sweep or data set has the id '{UNKNOWN}' at http://127.0.0.1:8000 (`lesde list` lists them)\n"
    )


def test_a_404_under_an_id_that_exists_stays_the_apis_error(run_cli, lesde_client, capsys, sent):
    sweep = lesde_client.submit_sweep(GRID)["id"]
    assert run_cli(["sweep", "table", sweep]) == 2  # no cross-child analysis yet: no table
    assert "no table for sweep" in capsys.readouterr().err


# -- lesde list: every kind -----------------------------------------------------------------------
def test_list_shows_every_kind_newest_first_and_filters_by_kind(run_cli, lesde_client, tmp_path, capsys, sent):
    experiment = lesde_client.submit_experiment({**TINY, "name": "mine"})["id"]
    simulation = lesde_client.submit_simulation(SIMULATION)["id"]
    sweep = lesde_client.submit_sweep(GRID)
    children = [child["experiment_id"] for child in sweep["children"]]
    dataset = _dataset(lesde_client, tmp_path)

    assert run_cli(["list"]) == 0
    header, *rows, total = capsys.readouterr().out.splitlines()
    assert header.split() == ["id", "kind", "status", "created", "name"]
    listed = [(row.split()[0], row.split()[1]) for row in rows]
    assert listed[0] == (dataset, "dataset") and listed[-1] == (experiment, "experiment")  # newest first
    assert set(listed) == {(experiment, "experiment"), (simulation, "simulation"), (sweep["id"], "sweep"), (dataset, "dataset")} | {
        (child, "experiment") for child in children
    }
    created = [row.split()[3] for row in rows]
    assert created == sorted(created, reverse=True)
    assert rows[-1].split()[-1] == "mine"
    assert total == "6 in all: 3 experiments, 1 simulation, 1 sweep, 1 data set"

    assert run_cli(["list", "--kind", "simulation"]) == 0
    header, row, total = capsys.readouterr().out.splitlines()
    assert row.split()[:3] == [simulation, "simulation", "queued"] and total == "1 in all"
    assert run_cli(["list", "--kind", "sweep"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split()[:2] == [sweep["id"], "sweep"]

    assert run_cli(["list", "--limit", "2"]) == 0
    *rows, total = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 2 and total.endswith("(the newest 2 shown; --limit shows more)")
    lesde_client.cancel(simulation, kind="simulation")
    assert run_cli(["list", "--status", "cancelled"]) == 0
    assert [row.split()[:3] for row in capsys.readouterr().out.splitlines()[1:-1]] == [[simulation, "simulation", "cancelled"]]


def test_list_leaves_out_a_kind_an_older_gateway_does_not_list(run_cli, lesde_client, monkeypatch, capsys, sent):
    job_id = lesde_client.submit_experiment(TINY)["id"]
    real = lesde_client.http

    class NoDatasets(httpx.Client):
        def request(self, method, url, **kwargs):
            if str(url).startswith("/v1/datasets"):
                return httpx.Response(404, json={"message": "Not Found", "field": None, "detail": "Not Found"})
            return real.request(method, url, **kwargs)

    monkeypatch.setattr(lesde_client, "http", NoDatasets())
    assert run_cli(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:2] == [job_id, "experiment"] and out[-1] == "1 in all: 1 experiment"

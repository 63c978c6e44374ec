"""Sweeps through the Python client and ``lesde sweep`` against the in-process API (real
store, broker calls recorded). No worker runs: children move through the states their
trainer would write, and the cross-child analysis runs in-process when a step says so."""

from __future__ import annotations

import argparse
import csv
import io
import json

import pytest
from lesde import cli, cli_sweeps
from lesde import client as client_module
from lesde.client import LesdeApiError, LesdeClient
from lesde.terminal import LiveLine, aligned_table, duration
from lesde_analyzer.sweeps.sweep_analysis_job import run_sweep_analysis
from lesde_contract.records import AnalysisState, JobStatus
from lesde_contract.specs import SweepSpec
from lesde_contract.specs.analysis import DEFAULT_KEY, run_summary_key
from lesde_runtime.job_repository import JobRepository

from tests.fixtures.analysis_checks import assert_valid_png
from tests.fixtures.streams import FakeStream
from tests.fixtures.sweeps import child_summary

NOISE = "dataset.label_noise"
LEVELS = (0.0, 0.3, 0.6, 0.8)
TRIALS, ITERATIONS = 2, 20
BASE = {"training": {"iterations": ITERATIONS, "trials": TRIALS, "eval_every": 10, "probe_every": 10, "probe_per_class": 2}}
GRID = {"name": "noise", "base": BASE, "axes": {NOISE: list(LEVELS)}}
UNKNOWN = "0123456789abcdef"


class _KeepOpen(LesdeClient):
    """Each CLI command closes its client; the in-process TestClient must outlive them."""

    def close(self) -> None:
        pass


@pytest.fixture
def lesde_client(client):
    wrapped = _KeepOpen("http://testserver")
    wrapped.http = client
    return wrapped


@pytest.fixture
def run_cli(lesde_client, monkeypatch):
    """``lesde ...`` in-process, every command talking to the in-process app."""
    monkeypatch.setattr(cli_sweeps, "LesdeClient", lambda url: lesde_client)
    return cli.main


class Lab:
    """Moves a sweep's children as their trainer and analyzer would; ``r_slope of Gamma = 0.5 + p``
    puts the verdict's flip at p = 0.5 (linear between 0.3 -> 0.8 and 0.6 -> 1.1)."""

    def __init__(self, store, sweep: dict) -> None:
        self.store, self.sweep_id = store, sweep["id"]
        self.experiments = JobRepository(store, "experiment")
        self.children = [(child["experiment_id"], child["point"][NOISE]) for child in sweep["children"]]

    def run(self, index: int, done: int, rate: float) -> None:
        experiment_id, _ = self.children[index]
        self.experiments.mark_running(experiment_id)

        def advance(record) -> None:
            record.progress.done, record.progress.rate = done, rate

        self.experiments.update(experiment_id, advance)

    def succeed(self, index: int) -> None:
        """Trained and analysed: the child's default summary stored, its record saying so."""
        experiment_id, p = self.children[index]
        self.run(index, ITERATIONS, 100.0)
        summary = child_summary(r_gamma=0.5 + p, r_hat=0.4 + p, val_acc=(1 - p, 0.1), trials=TRIALS, iterations=ITERATIONS)
        self.store.put_json(run_summary_key(experiment_id, DEFAULT_KEY), summary)
        self.experiments.mark_finished(experiment_id, JobStatus.succeeded, analysis=AnalysisState.succeeded)

    def fail(self, index: int) -> None:
        self.experiments.mark_finished(self.children[index][0], JobStatus.failed, error="boom")

    def analyse(self) -> None:
        run_sweep_analysis(self.store, self.sweep_id)


def _script(monkeypatch, steps: list) -> list:
    """Make each poll's sleep run the next step instead of sleeping; returns what is left of ``steps``."""

    def next_step(_seconds: float) -> None:
        assert steps, "the wait polled again after the last step"
        steps.pop(0)()

    monkeypatch.setattr(client_module.time, "sleep", next_step)
    return steps


def _finished(lab: Lab) -> None:
    for index in range(len(LEVELS)):
        lab.succeed(index)
    lab.analyse()


# -- the client -------------------------------------------------------------------------------
def test_submit_takes_a_dict_a_spec_or_a_json_file(lesde_client, tmp_path, sent):
    from_dict = lesde_client.submit_sweep(GRID)
    path = tmp_path / "grid.json"
    path.write_text(json.dumps(GRID))
    from_path, from_text_path = lesde_client.submit_sweep(path), lesde_client.submit_sweep(str(path))
    from_spec = lesde_client.submit_sweep(SweepSpec.model_validate(GRID))
    for sweep in (from_dict, from_path, from_text_path, from_spec):
        assert sweep["status"] == "queued" and [child["point"][NOISE] for child in sweep["children"]] == list(LEVELS)
        assert sweep["progress"]["total"] == len(LEVELS) * TRIALS * ITERATIONS
    assert len(sent) == 4 * len(LEVELS)
    assert lesde_client.sweep(from_dict["id"])["counts"]["queued"] == len(LEVELS)


def test_list_cancel_retry_delete(lesde_client, store, sent):
    kept, cancelled = lesde_client.submit_sweep(GRID), lesde_client.submit_sweep({**GRID, "name": "to cancel"})
    assert lesde_client.sweeps()["count"] == 2
    assert lesde_client.cancel_sweep(cancelled["id"])["counts"]["cancelled"] == len(LEVELS)
    assert [sweep["id"] for sweep in lesde_client.sweeps(status="queued")["data"]] == [kept["id"]]
    assert lesde_client.sweeps(owner="nobody")["count"] == 0
    with pytest.raises(LesdeApiError) as finished:
        lesde_client.cancel_sweep(cancelled["id"])
    assert finished.value.status == 409
    with pytest.raises(LesdeApiError) as none_failed:
        lesde_client.retry_sweep(kept["id"])
    assert none_failed.value.status == 409
    Lab(store, kept).fail(2)
    retried = lesde_client.retry_sweep(kept["id"])
    assert retried["counts"]["queued"] == len(LEVELS) and retried["counts"]["failed"] == 0
    lesde_client.delete_sweep(cancelled["id"])
    with pytest.raises(LesdeApiError) as gone:
        lesde_client.sweep(cancelled["id"])
    assert gone.value.status == 404 and lesde_client.sweeps()["count"] == 1


def test_wait_reports_changes_only_and_returns_once_the_analysis_has_caught_up(lesde_client, store, monkeypatch, sent):
    sweep = lesde_client.submit_sweep(GRID)
    lab = Lab(store, sweep)
    steps = _script(
        monkeypatch,
        [
            lambda: None,  # nothing moved: no call
            lambda: lab.run(0, 10, 100.0),
            lambda: [lab.succeed(index) for index in (0, 1, 2)] and lab.run(3, 5, 50.0),
            lab.analyse,  # partial: child 3 still trains
            lambda: lab.succeed(3),  # every child done; the stored analysis has not seen child 3 finish
            lambda: None,  # still stale: the wait goes on, and nothing moved: no call
            lab.analyse,  # caught up: the wait returns, with no call (the answer is as before)
        ],
    )
    seen: list[dict] = []
    final = lesde_client.wait_sweep(sweep["id"], on_progress=seen.append, poll_seconds=0)
    assert steps == []
    assert [view["progress"]["done"] for view in seen] == [0, 10 * TRIALS, 3 * ITERATIONS * TRIALS + 5 * TRIALS, 130, 160]
    assert [view["analysis"] for view in seen] == ["none", "none", "none", "succeeded", "succeeded"]
    assert all(before != after for before, after in zip(seen, seen[1:]))
    assert final["status"] == "succeeded" and final == seen[-1]
    assert lesde_client.sweep_analysis(sweep["id"])["partial"] is False


def test_wait_can_skip_the_analysis_and_can_time_out(lesde_client, store, monkeypatch, sent):
    sweep = lesde_client.submit_sweep(GRID)
    _script(monkeypatch, [])
    with pytest.raises(TimeoutError, match=f"sweep {sweep['id']} still queued"):
        lesde_client.wait_sweep(sweep["id"], timeout=0)
    lab = Lab(store, sweep)
    for index in range(len(LEVELS)):
        lab.succeed(index)
    assert lesde_client.wait_sweep(sweep["id"], for_analysis=False)["analysis"] == "none"


def test_table_and_download_hold_every_child_and_figure(lesde_client, store, tmp_path, sent):
    sweep = lesde_client.submit_sweep(GRID)
    _finished(Lab(store, sweep))
    rows = list(csv.DictReader(io.StringIO(lesde_client.sweep_table(sweep["id"]))))
    assert [float(row[NOISE]) for row in rows] == list(LEVELS)
    assert [float(row["r_gamma"]) for row in rows] == [0.5 + p for p in LEVELS]
    assert [float(row["validation_accuracy_mean"]) for row in rows] == [1 - p for p in LEVELS]
    paths = lesde_client.download_sweep(sweep["id"], tmp_path / "out")
    figures = sorted(lesde_client.sweep_analysis(sweep["id"])["figures"])
    assert figures, "the analysis names its figures"
    assert sorted(path.relative_to(tmp_path / "out").as_posix() for path in paths) == sorted(
        ["summary.json", "table.csv", *(f"figures/{name}.png" for name in figures)]
    )
    assert (tmp_path / "out" / "table.csv").read_text() == lesde_client.sweep_table(sweep["id"])
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["sweep_id"] == sweep["id"]
    for name in figures:
        assert_valid_png((tmp_path / "out" / "figures" / f"{name}.png").read_bytes())
        assert lesde_client.sweep_figure(sweep["id"], name) == (tmp_path / "out" / "figures" / f"{name}.png").read_bytes()


# -- the command ------------------------------------------------------------------------------
def test_submit_wait_draws_one_bar_then_prints_the_table_and_the_flip(run_cli, lesde_client, store, monkeypatch, tmp_path, capsys, sent):
    spec = tmp_path / "grid.json"
    spec.write_text(json.dumps(GRID))
    labs: list[Lab] = []

    def first_step() -> None:  # the sweep exists once the command polls
        labs.append(Lab(store, lesde_client.sweep(lesde_client.sweeps()["data"][0]["id"])))
        labs[0].run(0, 10, 100.0)

    _script(monkeypatch, [first_step, lambda: labs[0].succeed(0), lambda: _finished(labs[0])])
    assert run_cli(["sweep", "submit", str(spec), "--wait", "--poll", "0", "--dest", str(tmp_path / "results")]) == 0
    out, err = capsys.readouterr()
    bars = err.splitlines()  # not a terminal: one line per change
    assert bars[0] == "[..............................]   0% 0/160 trial-iterations  4 queued"
    # 20 of 160 trial-iterations; ETA: (2 x 10 left of child 0 + 3 x 2 x 20 queued) / 100 per second = 1.4 s
    assert bars[1] == "[###...........................]  12% 20/160 trial-iterations  100 trial-it/s  ETA 1s  1 running, 3 queued"
    assert bars[2] == "[#######.......................]  25% 40/160 trial-iterations  1 succeeded, 3 queued"
    assert bars[3] == "[##############################] 100% 160/160 trial-iterations  4 succeeded  analysis succeeded"
    assert len(bars) == 4, err
    lines = out.splitlines()
    sweep_id = lesde_client.sweeps()["data"][0]["id"]
    assert lines[0].startswith(f"submitted sweep {sweep_id}: 4 experiments, 160 trial-iterations (")
    assert lines[1] == f"sweep {sweep_id} succeeded: 4 succeeded"
    assert lines[2].split() == ["index", NOISE, *cli_sweeps.RESULT_COLUMNS]
    # 1 - 0.8 is 0.19999999999999996 in the CSV; the text table rounds to 4 digits
    # verdict under true labels and the paper's Figure 4c number under both groupings (none corrupted: the same)
    assert lines[6].split() == [
        "3",
        "0.8",
        "succeeded",
        "not",
        "separable",
        "0.2",
        "0.01",
        "1.3",
        "0.05",
        "not",
        "separable",
        "1.2",
        "1.2",
        "0.5",
        "-",
        "-",
    ]
    # r = 0.5 + p with SE 0.05 everywhere: r = 1 at p = 0.5, and |r - 1| <= 2 SE for p in [0.4, 0.6]
    assert lines[7] == (
        "verdict flip along dataset.label_noise: r_slope of Gamma crosses 1 at 0.5 (separable -> not separable), "
        "between grid values 0.3 and 0.6; within 2 SE of 1 from 0.4 to 0.6"
    )
    saved = tmp_path / "results" / sweep_id
    assert (saved / "summary.json").exists() and (saved / "table.csv").exists() and list((saved / "figures").glob("*.png"))


def test_status_table_download_list_cancel_retry_delete(run_cli, lesde_client, store, tmp_path, capsys, sent):
    sweep = lesde_client.submit_sweep(GRID)
    lab = Lab(store, sweep)
    lab.run(1, 10, 80.0)
    assert run_cli(["sweep", "status", sweep["id"]]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"sweep {sweep['id']} running: noise"
    assert out[1].endswith("1 running, 3 queued")
    assert out[2].split() == ["index", "experiment", NOISE, "status", "done", "analysis", "error"]
    assert out[4].split() == ["1", sweep["children"][1]["experiment_id"], "0.3", "running", "50%", "none", "-"]

    assert run_cli(["sweep", "table", sweep["id"]]) == 2
    assert "no table for sweep" in capsys.readouterr().err
    for index in (0, 2, 3):
        lab.succeed(index)
    lab.fail(1)
    lab.analyse()
    assert run_cli(["sweep", "table", sweep["id"], "--csv"]) == 0
    raw = capsys.readouterr().out
    assert raw == lesde_client.sweep_table(sweep["id"]) and "0.19999999999999996" in raw
    assert run_cli(["sweep", "table", sweep["id"], "--columns", f"index,{NOISE},status,validation_accuracy_mean"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"index  {NOISE}  status     validation_accuracy_mean",
        "    0                    0  succeeded                         1",
        "    1                  0.3  failed                            -",
        "    2                  0.6  succeeded                       0.4",
        "    3                  0.8  succeeded                       0.2",
    ]
    assert run_cli(["sweep", "table", sweep["id"]]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[:3] == ["index", "experiment_id", NOISE]
    assert run_cli(["sweep", "table", sweep["id"], "--columns", "index,accuracy"]) == 2
    assert "no column accuracy in the table; its columns: index, experiment_id" in capsys.readouterr().err

    assert run_cli(["sweep", "download", sweep["id"], "--dest", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == [str(tmp_path / sweep["id"] / "summary.json"), str(tmp_path / sweep["id"] / "table.csv")]
    assert len(printed) > 2 and all(line.endswith(".png") for line in printed[2:])

    assert run_cli(["sweep", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith(f"{sweep['id']}  failed ") and "3 succeeded, 1 failed  noise" in listed[0]
    assert listed[-1] == "1 in all"
    assert run_cli(["sweep", "retry", sweep["id"]]) == 0
    assert capsys.readouterr().out.rstrip().endswith("3 succeeded, 1 queued  analysis succeeded")
    assert run_cli(["sweep", "cancel", sweep["id"]]) == 0
    assert "3 succeeded, 1 cancelled" in capsys.readouterr().out
    assert run_cli(["sweep", "delete", sweep["id"]]) == 0
    assert capsys.readouterr().out == f"deleted sweep {sweep['id']} and its experiments\n"
    assert lesde_client.sweeps()["count"] == 0 and lesde_client.list()["count"] == 0


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "status", UNKNOWN],
        ["sweep", "table", UNKNOWN],
        ["sweep", "download", UNKNOWN],
        ["sweep", "cancel", UNKNOWN],
        ["sweep", "delete", UNKNOWN],
    ],
)
def test_a_sweep_that_does_not_exist_is_one_line_and_exit_2(run_cli, argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_cli(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"error: HTTP 404: no sweep with id '{UNKNOWN}'\n"


def test_a_refused_grid_names_the_field_and_creates_nothing(run_cli, lesde_client, tmp_path, capsys, sent):
    spec = tmp_path / "grid.json"
    spec.write_text(json.dumps({**GRID, "axes": {"dataset.label_nois": [0.1]}}))
    assert run_cli(["sweep", "submit", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HTTP 422: axes.dataset.label_nois: " in err and "did you mean dataset.label_noise" in err
    assert lesde_client.sweeps()["count"] == 0 and sent == []
    assert run_cli(["sweep", "submit", str(tmp_path / "absent.json")]) == 2
    assert "absent.json" in capsys.readouterr().err


@pytest.mark.parametrize("poll", ["-1", "nan", "soon", "3601"])
def test_a_bad_poll_interval_is_a_usage_error_naming_the_range(poll, capsys):
    with pytest.raises(SystemExit) as usage:
        cli.main(["sweep", "wait", UNKNOWN, "--poll", poll])
    assert usage.value.code == 2
    assert f"--poll: {poll!r} is not a number of seconds from 0 to 3600" in capsys.readouterr().err


def _sweep_commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    top = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    sweep = top.choices["sweep"]
    return next(action for action in sweep._actions if isinstance(action, argparse._SubParsersAction)).choices


def test_every_sweep_argument_has_help_and_says_its_default():
    commands = _sweep_commands()
    assert set(commands) == {"submit", "wait", "status", "table", "download", "list", "cancel", "retry", "delete"}
    for name, command in commands.items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"lesde sweep {name} {action.dest}: no help"
            if action.option_strings:
                assert "default" in action.help, f"lesde sweep {name} {action.option_strings[0]}: its default is not said"


# -- what is drawn ------------------------------------------------------------------------------
def test_progress_line_counts_and_eta_formats():
    sweep = {
        "status": "running",
        "progress": {"done": 840_000, "total": 2_000_000, "unit": "trial-iterations", "rate": 1234.4, "eta_seconds": 3725},
        "counts": {"queued": 5, "running": 2, "succeeded": 3, "failed": 0, "cancelled": 0, "missing": 0},
        "analysis": "none",
    }
    assert cli_sweeps.sweep_progress_line(sweep, width=10) == (
        "[####......]  42% 840,000/2,000,000 trial-iterations  1,234 trial-it/s  ETA 1h02m  3 succeeded, 2 running, 5 queued"
    )
    assert cli_sweeps.counts_text({"missing": 1, "cancelled": 2}) == "2 cancelled, 1 missing"
    assert cli_sweeps.counts_text({}) == "no children"
    assert [duration(seconds) for seconds in (0, 59.4, 60, 185, 3599, 3600, 7620)] == [
        "0s",
        "59s",
        "1m00s",
        "3m05s",
        "59m59s",
        "1h00m",
        "2h07m",
    ]


def test_aligned_table_right_aligns_numeric_columns_and_marks_empty_cells():
    text = aligned_table(["name", "value", "done"], [["a", "1.5", "5%"], ["long name", "", "100%"], ["b", "-20", "0%"]])
    assert text.splitlines() == ["name       value  done", "a            1.5    5%", "long name      -  100%", "b            -20    0%"]


def test_live_line_redraws_on_a_terminal_and_prints_changes_elsewhere():
    log, terminal = FakeStream(tty=False), FakeStream(tty=True)
    for stream in (log, terminal):
        live = LiveLine(stream)
        for line in ("long line", "long line", "short"):
            live.show(line)
        live.end()
    assert log.getvalue() == "long line\nshort\n"
    assert terminal.getvalue() == "\rlong line\rlong line\rshort    \n"

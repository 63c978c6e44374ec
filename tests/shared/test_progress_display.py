"""The progress display: a tqdm bar with the server's numbers on a terminal (or in a notebook),
one plain line per change elsewhere, and the same words for jobs and sweeps."""

from __future__ import annotations

from lesde.progress import Progress, job_change, job_progress, sweep_change
from lesde.terminal import ProgressDisplay

from tests.fixtures.streams import FakeStream

RUNNING = {"status": "running", "progress": {"done": 840, "total": 2000, "unit": "iterations", "rate": 1234.4, "eta_seconds": 12}}


def test_a_job_reads_as_counts_rate_eta_and_state():
    progress = job_progress(RUNNING)
    assert progress == Progress(840, 2000, "iterations", "1,234 trial-it/s  ETA 12s  running")
    assert progress.line(width=10) == "[####......]  42% 840/2,000 iterations  1,234 trial-it/s  ETA 12s  running"
    trained = {"status": "succeeded", "analysis": "running", "progress": {"done": 2000, "total": 2000, "unit": "iterations"}}
    assert job_progress(trained).details == "trained; analysis running"


def test_a_running_experiment_says_what_each_evaluation_costs():
    spec = {
        "dataset": {"classes": ["a", "b", "c"], "train_per_class": 500, "val_per_class": 500},
        "training": {"eval_every": 1000, "train_eval_samples": 300},
    }
    assert job_progress({**RUNNING, "spec": spec}).details == "1,234 trial-it/s  ETA 12s  eval 1,800 images / 1,000 it  running"
    assert "eval" not in job_progress({**RUNNING, "spec": {"kind": "import"}}).details


def test_on_a_terminal_a_tqdm_bar_shows_the_servers_numbers():
    terminal = FakeStream(tty=True)
    display = ProgressDisplay(terminal)
    assert display.interactive
    display.show(job_progress(RUNNING))
    display.show(job_progress({**RUNNING, "progress": {**RUNNING["progress"], "done": 2000}, "status": "succeeded"}))
    display.end()
    drawn = terminal.getvalue()
    assert "\r" in drawn and drawn.endswith("\n")
    assert " 42%|" in drawn and "| 840/2000 iterations, 1,234 trial-it/s  ETA 12s  running" in drawn
    assert "100%|" in drawn and "| 2000/2000 iterations, 1,234 trial-it/s  succeeded" in drawn


def test_a_new_total_restarts_the_bar_at_its_count():
    display = ProgressDisplay(FakeStream(tty=True))
    display.show(Progress(10, 100, "trial-iterations", "1 running"))
    display.show(Progress(10, 160, "trial-iterations", "1 running, 1 queued"))  # a retried child adds its work
    assert (display._bar.n, display._bar.total) == (10, 160)
    display.end()
    assert display._bar is None


def test_elsewhere_one_plain_line_per_change():
    log = FakeStream(tty=False)
    display = ProgressDisplay(log)
    assert not display.interactive
    for done in (0, 0, 5):
        display.show(Progress(done, 10, "steps", "running"))
    display.end()
    assert log.getvalue().splitlines() == [
        "[..............................]   0% 0/10 steps  running",
        "[###############...............]  50% 5/10 steps  running",
    ]


def test_what_counts_as_a_change():
    moved_rate = {**RUNNING, "progress": {**RUNNING["progress"], "rate": 1.0, "eta_seconds": 99}}
    assert job_change(moved_rate) == job_change(RUNNING)
    assert job_change({**RUNNING, "analysis": "queued"}) != job_change(RUNNING)
    sweep = {**RUNNING, "analysis": "none", "counts": {"running": 1, "queued": 1}}
    assert sweep_change({**sweep, "counts": {"failed": 1, "queued": 1}}) != sweep_change(sweep)

"""The sweep analysis job end to end on a local store, and its trigger from a child's analysis."""

from __future__ import annotations

import pytest
from lesde_analyzer.experiments import analysis_job as experiment_job
from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
from lesde_analyzer.figures.sweeps import FIGURES
from lesde_analyzer.sweeps import sweep_analysis_job as sweep_job
from lesde_analyzer.sweeps.rows import NUMBER_COLUMNS
from lesde_analyzer.sweeps.sweep_analysis_job import run_sweep_analysis
from lesde_contract import object_keys
from lesde_contract.records import AnalysisState, JobStatus
from lesde_contract.specs.analysis import DEFAULT_KEY, run_summary_key
from lesde_runtime import celery_app
from lesde_runtime.job_repository import JobRepository

from tests.fixtures.analysis_checks import assert_valid_png
from tests.fixtures.sweeps import FixtureChild, adopt_children, child_summary, write_sweep
from tests.fixtures.synthetic import write_synthetic_experiment

NOISE = "dataset.label_noise"


def grid(store, *, running: int | None = None):
    children = [
        FixtureChild(
            {NOISE: p},
            None if i == running else child_summary(r_gamma=0.5 + p, r_hat=0.4 + p, val_acc=(1 - p, 0.1)),
            status="running" if i == running else "succeeded",
        )
        for i, p in enumerate((0.0, 0.2, 0.4, 0.6, 0.8))
    ]
    return write_sweep(store, children, axes=[NOISE])


@pytest.fixture()
def sent(monkeypatch):
    """The messages sent to the broker (there is no broker in unit tests: record them instead)."""
    messages: list[tuple] = []
    monkeypatch.setattr(celery_app, "send", lambda *args: messages.append(args))
    return messages


def test_the_job_stores_figures_table_and_summary_and_marks_the_record(local_store):
    sweep_id, ids = grid(local_store)
    run_sweep_analysis(local_store, sweep_id)
    record = JobRepository(local_store, "sweep").get(sweep_id)
    assert record.analysis == AnalysisState.succeeded and record.analysis_error is None
    assert record.status == JobStatus.queued  # the gateway computes the status; the analyzer leaves it
    summary = local_store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary"))
    assert summary["figures"] == list(FIGURES) == ["sweep-accuracy", "sweep-loss", "sweep-tail-index"]
    for name in summary["figures"]:
        assert_valid_png(local_store.get_bytes(object_keys.figure_key("sweep", sweep_id, name)))
    table = local_store.get_bytes(object_keys.sweep_table_key(sweep_id)).decode().splitlines()
    assert len(table) == 1 + len(ids)
    assert summary["flip"]["lines"][0]["value"] == pytest.approx(0.5) and summary["partial"] is False


def test_the_run_holds_a_sweep_lease_and_drops_it_after(local_store, monkeypatch):
    from lesde_runtime.analysis_leases import SWEEP_KEY, read_analysis_lease

    sweep_id, _ = grid(local_store)
    seen = []
    analyse = sweep_job._analyse_once
    monkeypatch.setattr(
        sweep_job, "_analyse_once", lambda store, sid: (seen.append(read_analysis_lease(store, sid, SWEEP_KEY)), analyse(store, sid))
    )
    run_sweep_analysis(local_store, sweep_id)
    assert seen and seen[0]["kind"] == "sweep" and seen[0]["job_id"] == sweep_id  # held while it ran
    assert read_analysis_lease(local_store, sweep_id, SWEEP_KEY) is None  # dropped with the outcome


def test_a_partial_sweep_is_analysed_and_marked_partial(local_store):
    sweep_id, _ = grid(local_store, running=2)
    run_sweep_analysis(local_store, sweep_id)
    summary = local_store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary"))
    assert summary["partial"] is True and summary["counts"]["in_curves"] == 4
    assert [c["missing"] for c in summary["children"]][2] == "still training (running)"


def test_a_sweep_with_nothing_to_plot_stores_no_figures(local_store):
    sweep_id, _ = write_sweep(local_store, [FixtureChild({NOISE: 0.1}, status="queued")], axes=[NOISE])
    run_sweep_analysis(local_store, sweep_id)
    summary = local_store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary"))
    assert summary["figures"] == [] and summary["curves"] == {} and summary["partial"] is True
    assert not local_store.exists(object_keys.figure_key("sweep", sweep_id, "sweep-accuracy"))


def test_a_deleted_or_half_created_sweep_is_left_alone(local_store):
    run_sweep_analysis(local_store, "0123456789abcdef")  # no record: nothing happens
    assert list(local_store.list("sweeps/")) == []
    sweep_id, _ = grid(local_store)
    local_store.delete(object_keys.sweep_children_key(sweep_id))
    run_sweep_analysis(local_store, sweep_id)
    assert JobRepository(local_store, "sweep").get(sweep_id).analysis == AnalysisState.none
    assert not local_store.exists(object_keys.analysis_key("sweep", sweep_id, "summary"))


def test_a_sweep_deleted_during_its_analysis_leaves_nothing_behind(local_store, monkeypatch):
    sweep_id, _ = grid(local_store)
    store_once = sweep_job._analyse_once

    def delete_then_store(store, sid):
        JobRepository(store, "sweep").delete(sid)  # the gateway deletes it while the analyzer computes
        store_once(store, sid)

    monkeypatch.setattr(sweep_job, "_analyse_once", delete_then_store)
    run_sweep_analysis(local_store, sweep_id)
    assert list(local_store.list(object_keys.job_prefix("sweep", sweep_id))) == []


def test_a_failure_is_recorded_and_the_previous_result_kept(local_store, monkeypatch):
    sweep_id, _ = grid(local_store)
    run_sweep_analysis(local_store, sweep_id)
    good = local_store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary"))

    def broken(name, summary):
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(sweep_job, "draw", broken)
    run_sweep_analysis(local_store, sweep_id)
    record = JobRepository(local_store, "sweep").get(sweep_id)
    assert record.analysis == AnalysisState.failed and record.analysis_error == "RuntimeError: renderer exploded"
    assert local_store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary")) == good


def test_a_child_finishing_during_the_run_is_picked_up_by_a_second_pass(local_store, monkeypatch):
    sweep_id, ids = grid(local_store, running=2)
    summarise = sweep_job.sweep_summary
    calls = []

    def child_finishes_meanwhile(data):
        calls.append(data)
        if len(calls) == 1:  # a slow run: the child finishes after it read, before it stored
            local_store.put_json(run_summary_key(ids[2], DEFAULT_KEY), child_summary(r_gamma=0.9))
            JobRepository(local_store, "experiment").update(
                ids[2], lambda r: (setattr(r, "status", JobStatus.succeeded), setattr(r, "analysis", AnalysisState.succeeded))
            )
        return summarise(data)

    monkeypatch.setattr(sweep_job, "sweep_summary", child_finishes_meanwhile)
    run_sweep_analysis(local_store, sweep_id)
    assert len(calls) == 2
    summary = local_store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary"))
    assert summary["partial"] is False and summary["counts"]["in_curves"] == 5


@pytest.fixture()
def no_child_figures(monkeypatch):
    """A child's figures play no part in the sweep's numbers: skip rendering them (most of an analysis's time)."""
    monkeypatch.setattr(experiment_job, "render_formats", lambda *args, **kwargs: {"png": b""})


@pytest.fixture()
def quick_child_analysis(monkeypatch, no_child_figures):
    """A child's analysis that returns a fixed summary at once, or fails for a job named in ``failing``."""
    failing: set[str] = set()

    def analyse(store, job_id, **kwargs):
        if job_id in failing:
            raise ValueError("chunk checksum mismatch")
        return child_summary(r_gamma=0.5), {}

    monkeypatch.setattr(experiment_job, "analyse_experiment", analyse)
    return failing


def test_a_childs_automatic_analysis_asks_for_the_sweeps(local_store, sent, quick_child_analysis):
    sweep_id, (child,) = write_sweep(local_store, [FixtureChild({NOISE: 0.0})], axes=[NOISE])
    alone = JobRepository(local_store, "experiment").create(spec={}, owner="test", name=None, total=1, unit="iterations")
    JobRepository(local_store, "experiment").mark_finished(alone.id, JobStatus.succeeded)
    run_experiment_analysis(local_store, child)
    assert sent == [(celery_app.ANALYZE_SWEEP, sweep_id)]
    run_experiment_analysis(local_store, child, {"estimator": "I"})  # another option set: not the automatic run
    run_experiment_analysis(local_store, alone.id)  # not a sweep's child
    assert sent == [(celery_app.ANALYZE_SWEEP, sweep_id)]
    quick_child_analysis.add(child)
    run_experiment_analysis(local_store, child)  # a failed analysis also asks: the sweep lists the failure
    assert JobRepository(local_store, "experiment").get(child).analysis == AnalysisState.failed
    assert sent == [(celery_app.ANALYZE_SWEEP, sweep_id)] * 2


def test_a_broker_failure_does_not_fail_the_childs_analysis(local_store, monkeypatch, quick_child_analysis):
    _, (child,) = write_sweep(local_store, [FixtureChild({NOISE: 0.0})], axes=[NOISE])

    def down(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(celery_app, "send", down)
    run_experiment_analysis(local_store, child)
    assert JobRepository(local_store, "experiment").get(child).analysis == AnalysisState.succeeded


def test_real_child_summaries_fill_every_column(local_store, sent, no_child_figures):
    """The fixture's summaries are a subset of the real format: check the reader against a real one."""
    child = write_synthetic_experiment(local_store, trials=4, iterations=300, chunk=300, probe_every=100, eval_every=100)
    sweep_id = adopt_children(local_store, [child], [{NOISE: 0.0}], axes=[NOISE])
    run_experiment_analysis(local_store, child)
    assert sent == [(celery_app.ANALYZE_SWEEP, sweep_id)]
    run_sweep_analysis(local_store, sweep_id)
    summary = local_store.get_json(object_keys.analysis_key("sweep", sweep_id, "summary"))
    (row,) = summary["rows"]
    assert {name: row[name] for name in NUMBER_COLUMNS if row[name] is None} == {}
    assert row["verdict"] in ("separable", "inconclusive", "not separable") and row["nc1_stream"] == "probe"
    real = local_store.get_json(run_summary_key(child, DEFAULT_KEY))
    assert real["curves"]["initial"]["iteration"] == 0
    assert row["validation_loss_initial"] == real["curves"]["initial"]["validation_loss"]["mean"]
    assert row["r_gamma"] == real["tail_indices"]["Gamma"]["r_slope"] and row["nrmse_I"] == real["imitation"]["I"]["nrmse"]
    assert JobRepository(local_store, "sweep").get(sweep_id).analysis == AnalysisState.succeeded

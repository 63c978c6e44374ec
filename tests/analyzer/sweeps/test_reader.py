"""Reading a sweep's children: records, specs, points and summaries, whatever state each is in."""

from __future__ import annotations

import pytest
from lesde_analyzer.sweeps.reader import DELETED, fingerprint, read_sweep
from lesde_analyzer.sweeps.summary import missing_reason
from lesde_contract.records import JobStatus
from lesde_contract.sweep_children import SweepNotFound
from lesde_runtime.job_repository import JobRepository

from tests.fixtures.sweeps import FixtureChild, child_summary, write_sweep

AXES = ["dataset.label_noise"]


def test_every_child_is_read_with_its_state(local_store):
    children = [
        FixtureChild({"dataset.label_noise": 0.0}, child_summary(r_gamma=0.5)),
        FixtureChild({"dataset.label_noise": 0.3}, status="running"),
        FixtureChild({"dataset.label_noise": 0.5}, child_summary(r_gamma=0.9, partial=True), analysis="succeeded"),
        FixtureChild({"dataset.label_noise": 0.7}, child_summary(r_gamma=1.4)),
        FixtureChild({"dataset.label_noise": 0.8}, status="failed"),
    ]
    sweep_id, ids = write_sweep(local_store, children, axes=AXES)
    JobRepository(local_store, "experiment").delete(ids[3])  # deleted meanwhile
    data = read_sweep(local_store, sweep_id)
    assert data.axes == AXES and data.name == "fixture sweep"
    assert [c.experiment_id for c in data.children] == ids
    assert [c.point["dataset.label_noise"] for c in data.children] == [0.0, 0.3, 0.5, 0.7, 0.8]
    assert [c.status for c in data.children] == ["succeeded", "running", "succeeded", DELETED, "failed"]
    assert data.children[0].summary["tail_indices"]["Gamma"]["r_slope"] == 0.5
    assert data.children[0].spec["dataset"]["label_noise"] == 0.0  # the child's own spec, point applied
    # no summary, a summary of an unfinished run, a deleted child: none in the curves
    assert [c.summary is not None for c in data.children] == [True, False, False, False, False]
    assert [c.unfinished for c in data.children] == [False, True, False, False, False]
    assert [missing_reason(c) for c in data.children] == [
        None, "still training (running)", "its summary is of an unfinished run (partial)", "deleted", "training failed",
    ]  # fmt: skip


def test_a_child_waiting_for_its_analysis_is_unfinished(local_store):
    sweep_id, _ = write_sweep(local_store, [FixtureChild({"dataset.label_noise": 0.1}, analysis="queued")], axes=AXES)
    child = read_sweep(local_store, sweep_id).children[0]
    assert child.unfinished and missing_reason(child) == "analysis not finished (queued)"


def test_a_sweep_without_children_file_is_not_found(local_store):
    with pytest.raises(SweepNotFound):
        read_sweep(local_store, "0123456789abcdef")


def test_the_fingerprint_changes_when_a_child_finishes(local_store):
    sweep_id, ids = write_sweep(local_store, [FixtureChild({"dataset.label_noise": 0.1}, status="running")], axes=AXES)
    before = fingerprint(local_store, sweep_id)
    assert fingerprint(local_store, sweep_id) == before
    JobRepository(local_store, "experiment").update(ids[0], lambda record: setattr(record, "status", JobStatus.succeeded))
    assert fingerprint(local_store, sweep_id) != before

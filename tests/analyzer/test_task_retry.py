"""Every analyzer task is re-sent by Celery when a store outage outlasts the store's retries
(run eagerly: the re-sends happen at once, no broker needed)."""

from __future__ import annotations

import lesde_analyzer.tasks as tasks
from lesde_contract.object_store import StoreUnavailable

TASKS = (
    tasks.analyze_experiment_task,
    tasks.import_experiment_task,
    tasks.render_figure_task,
    tasks.run_simulation_task,
    tasks.analyze_sweep_task,
)


def test_every_analyzer_task_retries_store_outages():
    assert all(task.autoretry_for == (StoreUnavailable,) and task.max_retries == 10 for task in TASKS)


def test_an_analysis_that_meets_an_outage_runs_again(monkeypatch):
    calls: list[str] = []

    def run(_store, job_id: str, _options) -> None:
        calls.append(job_id)
        if len(calls) == 1:
            raise StoreUnavailable("the object store could not get 'k' (timed out)", retryable=True)

    monkeypatch.setattr(tasks, "run_experiment_analysis", run)
    monkeypatch.setattr(tasks, "make_store", lambda: None)
    assert tasks.analyze_experiment_task.apply(args=["abc"]).state == "SUCCESS" and calls == ["abc", "abc"]

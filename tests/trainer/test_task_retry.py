"""A training task that meets a store outage (after the store's own retries) is re-sent by
Celery instead of being acknowledged as done; other errors are not retried.

Run eagerly (``task.apply``): Celery then performs the re-sends at once instead of after
their countdown, so no broker is needed to see how often the task runs."""

from __future__ import annotations

import lesde_trainer.tasks as tasks
from lesde_contract.object_store import StoreUnavailable


def _flaky(monkeypatch, failures: int, error: Exception) -> list[str]:
    calls: list[str] = []

    def run(_store, job_id: str) -> None:
        calls.append(job_id)
        if len(calls) <= failures:
            raise error

    monkeypatch.setattr(tasks, "run_training_job", run)
    monkeypatch.setattr(tasks, "make_store", lambda: None)
    return calls


def test_a_store_outage_re_sends_the_task(monkeypatch):
    calls = _flaky(monkeypatch, 2, StoreUnavailable("the object store could not put 'k' (connection refused)", retryable=True))
    assert tasks.train_experiment_task.apply(args=["abc"]).state == "SUCCESS" and calls == ["abc"] * 3
    assert tasks.train_experiment_task.max_retries == 10 and tasks.train_experiment_task.retry_backoff


def test_other_errors_are_not_retried(monkeypatch):
    calls = _flaky(monkeypatch, 1, ValueError("a bug"))
    assert tasks.train_experiment_task.apply(args=["abc"]).state == "FAILURE" and calls == ["abc"]

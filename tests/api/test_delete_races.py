"""DELETE of an experiment whose analysis is pending or running: the analysis stops at its
next write, and what a racing writer leaves is removed by the delayed purge."""

from __future__ import annotations

from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
from lesde_api.operations.job_views import delete_job
from lesde_contract import object_keys
from lesde_contract.records import AnalysisState
from lesde_contract.specs.analysis import DEFAULT_KEY, run_state_key
from lesde_runtime import tombstones

from tests.fixtures.synthetic import write_synthetic_experiment


def _left(store, job_id):
    return [info.key for info in store.list(object_keys.job_prefix("experiment", job_id))]


def test_an_analysis_running_when_its_experiment_is_deleted_writes_nothing_more(client, store, experiments, monkeypatch):
    job_id = write_synthetic_experiment(store, trials=2, iterations=40, chunk=20, probe_every=20, eval_every=20)
    experiments.update(job_id, lambda record: setattr(record, "analysis", AnalysisState.queued))
    import lesde_analyzer.experiments.analysis_job as analysis_job

    real = analysis_job.analyse_experiment

    def analyse_while_deleted(*args, **kwargs):
        result = real(*args, **kwargs)
        assert client.delete(f"/v1/experiments/{job_id}").status_code == 204  # the user deletes meanwhile
        return result

    monkeypatch.setattr(analysis_job, "analyse_experiment", analyse_while_deleted)
    monkeypatch.setattr(analysis_job, "render_formats", lambda *_args, **_kwargs: {"png": b"png"})
    run_experiment_analysis(store, job_id)
    assert _left(store, job_id) == []  # no figure, series, summary or state written after the delete
    assert not store.exists(run_state_key(job_id, DEFAULT_KEY))
    assert client.get(f"/v1/experiments/{job_id}").status_code == 404


def test_the_delayed_purge_removes_what_a_racing_writer_left(store, experiments):
    job_id = write_synthetic_experiment(store, trials=2, iterations=20, chunk=10, probe_every=10, eval_every=10)
    scheduled = []
    delete_job(experiments, job_id, schedule_purge=lambda delay, purge: scheduled.append((delay, purge)))
    store.put_bytes(object_keys.chunk_key(job_id, "sampled", 10, 19), b"a PUT the server completed after the delete")
    [(delay, purge)] = scheduled
    assert delay == tombstones.purge_delay_s()
    purge()
    assert _left(store, job_id) == [] and tombstones.is_buried(store, "experiment", job_id)
    assert tombstones.purge_buried(store, now=1e12) == []  # the gateway's purge cleared the reaper's note


def test_a_running_job_whose_worker_is_gone_can_be_deleted_but_not_one_whose_worker_lives(client, store, experiments):
    from datetime import timedelta

    from lesde_contract.records import JobStatus, Lease, utcnow

    job_id = write_synthetic_experiment(store, trials=2, iterations=20, chunk=10, probe_every=10, eval_every=10)
    now = utcnow()

    def running_under(expires_at):
        def change(record):
            record.status = JobStatus.running
            record.lease = Lease(holder="elsewhere:1:ab", host="elsewhere", pid=1, heartbeat_at=now, expires_at=expires_at)

        return change

    experiments.update(job_id, running_under(now + timedelta(minutes=5)))
    # its owner sees that a worker holds it and until when, never the worker's host or pid
    for text in (client.get(f"/v1/experiments/{job_id}").text, client.get(f"/v1/experiments/{job_id}/artifacts/status.json").text):
        assert "expires_at" in text and "elsewhere" not in text and '"pid"' not in text
    assert client.delete(f"/v1/experiments/{job_id}").status_code == 409  # its worker may still write
    experiments.update(job_id, running_under(now - timedelta(seconds=1)))
    assert client.delete(f"/v1/experiments/{job_id}").status_code == 204  # its worker is gone
    assert _left(store, job_id) == []
    assert client.get(f"/v1/experiments/{job_id}").status_code == 404

"""The import job on a local store: chunks, manifest, spec and status, or a failed job."""

from __future__ import annotations

from lesde_analyzer.imports import run_import_job
from lesde_contract import object_keys
from lesde_contract.chunks import load_manifest
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.storage.local import LocalStore

from tests.fixtures.authors_csv import authors_csv


def _queued(store: LocalStore, text: str) -> str:
    repo = JobRepository(store, "experiment")
    spec = {
        "kind": "import",
        "name": None,
        "source": {"format": "authors-csv", "filename": "x.csv", "bytes": len(text)},
        "dataset": {"name": "imported", "classes": ["0", "1", "2"]},
    }
    record = repo.create(spec=spec, owner="test", name=None, total=len(text), unit="bytes")
    store.put_bytes(object_keys.upload_key(record.id), text.encode())
    return record.id


def test_import_writes_chunks_and_queues_its_analysis(tmp_path, monkeypatch):
    sent = []
    monkeypatch.setattr("lesde_runtime.celery_app.send", lambda *args: sent.append(args))
    store = LocalStore(tmp_path)
    job_id = _queued(store, authors_csv(trials=2, iterations=1500, val_every=500))
    run_import_job(store, job_id)
    repo = JobRepository(store, "experiment")
    record = repo.get(job_id)
    assert record.status == "succeeded" and record.analysis == "queued" and record.progress.done == 1500
    assert sent == [("lesde.analyze_experiment", job_id)]
    manifest = load_manifest(store, job_id)
    assert manifest.complete and manifest.iterations_done == 1500
    assert [chunk["key"] for chunk in manifest.chunks["sampled"]] == [
        object_keys.chunk_key(job_id, "sampled", 0, 999),
        object_keys.chunk_key(job_id, "sampled", 1000, 1499),
    ]
    assert [chunk["records"] for chunk in manifest.chunks["eval"]] == [2, 1]  # itr 0, 500 | 1000
    assert repo.get_spec(job_id)["training"] == {"iterations": 1500, "trials": 2}
    assert not store.exists(object_keys.upload_key(job_id))
    run_import_job(store, job_id)  # a redelivered task finds the job finished
    assert len(sent) == 1


def test_a_bad_cell_fails_the_job_with_row_and_column(tmp_path, monkeypatch):
    monkeypatch.setattr("lesde_runtime.celery_app.send", lambda *args: None)
    store = LocalStore(tmp_path)
    lines = authors_csv(trials=2, iterations=10).strip().split("\n")
    job_id = _queued(store, "\n".join(lines[:3] + [lines[3].replace(",0.5,", ",abc,")] + lines[4:]))
    run_import_job(store, job_id)
    record = JobRepository(store, "experiment").get(job_id)
    assert record.status == "failed" and record.error == "row 4, column 'tr_loss': 'abc' is not a number"
    assert not store.exists(object_keys.upload_key(job_id)) and not store.exists(object_keys.manifest_key(job_id))

"""The Python client and the ``lesde`` command against the in-process API (real store,
real filesystem broker). Tasks are recorded instead of run: no worker here."""

from __future__ import annotations

import json

import pytest

from lesde import cli
from lesde.client import LesdeApiError, LesdeClient
from lesde_analyzer.imports import run_import_job
from tests.fixtures.authors_csv import authors_csv



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
    assert "25%" in line and "500/2000" in line and "12,346 trial-it/s" in line and "ETA 12s" in line


def test_summary_lines_tolerate_missing_numbers():
    text = cli.format_summary({"verdict": {"label": "inconclusive", "r_gamma": None}, "classes": ["a", "b"]})
    assert "inconclusive (r_Gamma = n/a)" in text


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
    text = cli.format_summary(summary)
    assert "validation accuracy  0.5000 +- 0.1000" in text and "train accuracy" not in text

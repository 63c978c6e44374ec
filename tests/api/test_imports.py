"""``POST /v1/imports`` of the authors' CSV layout (202, then the analyzer's import task),
and exports in that layout (round trip)."""

from __future__ import annotations

import io

import numpy as np
import pyarrow.parquet as pq
import pytest
from lesde_analyzer.experiments.analysis_job import run_experiment_analysis
from lesde_analyzer.imports import run_import_job
from lesde_api.deps import get_limits
from lesde_contract import object_keys
from lesde_contract.specs.analysis import FIGURE_NAMES
from lesde_runtime.settings import LimitSettings

from tests.fixtures.analysis_checks import assert_every_number, assert_valid_png
from tests.fixtures.authors_csv import HEADER, authors_csv
from tests.fixtures.synthetic import write_synthetic_experiment

__all__ = ["authors_csv"]  # other tests import it from here


def _upload(client, text: str, **form):
    return client.post("/v1/imports", files={"file": ("run.csv", text.encode(), "text/csv")}, data=form)


def _imported(client, store, sent, text: str, **form) -> dict:
    """Upload, run the queued import task in-process, return the finished record."""
    answer = _upload(client, text, **form)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    assert sent[-1] == ("lesde.import_experiment", job_id)
    run_import_job(store, job_id)
    return client.get(f"/v1/experiments/{job_id}").json()


def test_import_makes_an_analysable_experiment_with_every_figure(client, store, sent):
    answer = _upload(client, authors_csv(), name="authors", classes="triangle,rectangle,ellipse")
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    assert queued["kind"] == "experiment" and queued["status"] == "queued"
    assert answer.headers["location"] == f"/v1/experiments/{queued['id']}"
    assert sent == [("lesde.import_experiment", queued["id"])]
    assert store.exists(object_keys.upload_key(queued["id"]))
    run_import_job(store, queued["id"])
    record = client.get(answer.headers["location"]).json()
    assert record["status"] == "succeeded" and record["analysis"] == "queued"
    assert record["progress"]["done"] == record["progress"]["total"] == 400
    assert record["spec"]["kind"] == "import" and record["spec"]["training"] == {"iterations": 400, "trials": 4}
    assert sent[-1] == ("lesde.analyze_experiment", record["id"])
    assert not store.exists(object_keys.upload_key(record["id"]))  # the upload is gone once imported
    run_experiment_analysis(store, record["id"])
    summary = client.get(f"/v1/experiments/{record['id']}/analysis").json()
    assert_every_number(summary, probe=False)
    assert summary["classes"] == ["triangle", "rectangle", "ellipse"] and summary["streams"]["eval"]["records"] == 8
    for name in FIGURE_NAMES:
        assert_valid_png(client.get(f"/v1/experiments/{record['id']}/figures/{name}.png").content)


@pytest.mark.parametrize(
    ("mutate", "column"),
    [
        (
            lambda lines: (
                [lines[0].replace(",tr_loss", "")]
                + [line.rsplit(",", 3)[0] + "," + ",".join(line.rsplit(",", 3)[2:]) for line in lines[1:]]
            ),
            "tr_loss",
        ),
        (lambda lines: [lines[0].replace("y_logit1", "y_logitX")] + lines[1:], "y_logit1"),
    ],
    ids=["missing-column", "bad-logit-name"],
)
def test_a_header_without_the_layout_is_422_at_once(client, sent, mutate, column):
    lines = authors_csv(trials=2, iterations=10).strip().split("\n")
    answer = _upload(client, "\n".join(mutate(lines)) + "\n")
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert problem["row"] == 1 and problem["column"] == column, problem
    assert "row 1" in answer.json()["message"]
    assert client.get("/v1/experiments").json()["count"] == 0 and not sent  # nothing half-created


@pytest.mark.parametrize(
    ("mutate", "row", "column"),
    [
        (lambda lines: lines[:3] + [lines[3].replace(",0.5,", ",abc,")] + lines[4:], 4, "tr_loss"),
        (lambda lines: lines[:5] + [lines[5] + ",7"] + lines[6:], 6, None),
        (lambda lines: lines[:2] + [lines[2].split(",", 1)[1]] + lines[3:], 3, None),
        (lambda lines: lines[:7] + [lines[7].replace(",", ",9", 3).replace(",9", ",", 2)] + lines[8:], 8, "y"),
    ],
    ids=["non-numeric", "ragged-long", "ragged-short", "label-out-of-range"],
)
def test_a_bad_row_fails_the_job_with_row_and_column(client, store, sent, mutate, row, column):
    lines = authors_csv(trials=2, iterations=10).strip().split("\n")
    record = _imported(client, store, sent, "\n".join(mutate(lines)) + "\n")
    assert record["status"] == "failed" and record["error"].startswith(f"row {row}"), record
    assert (f"column {column!r}" in record["error"]) == (column is not None)
    assert record["analysis"] == "none" and len(sent) == 1  # no analysis queued
    assert not store.exists(object_keys.upload_key(record["id"]))


def test_incomplete_grid_and_duplicates_fail_the_job(client, store, sent):
    lines = authors_csv(trials=2, iterations=10).strip().split("\n")
    missing = _imported(client, store, sent, "\n".join(lines[:-1]) + "\n")
    assert missing["status"] == "failed" and "trial 1 has no row for itr 9" in missing["error"]
    duplicate = _imported(client, store, sent, "\n".join(lines[:-1] + [lines[2]]) + "\n")
    assert duplicate["status"] == "failed" and "duplicate row" in duplicate["error"]


def test_empty_file_and_wrong_class_count_are_422_at_once(client, sent):
    assert _upload(client, "").status_code == 422
    assert _upload(client, authors_csv(trials=1, iterations=5), classes="a,b").json()["detail"][0]["field"] == "classes"
    assert not sent


def test_import_is_size_capped(client, sent):
    client.app.dependency_overrides[get_limits] = lambda: LimitSettings(max_import_bytes=1000)
    answer = _upload(client, authors_csv(trials=2, iterations=40))
    assert answer.status_code == 413 and "1,000 bytes" in answer.json()["detail"]


def test_export_csv_npz_parquet_and_reimport_round_trip(client, store, sent):
    job_id = write_synthetic_experiment(store, trials=3, iterations=250, chunk=100, probe_every=50, eval_every=50, dtype="float64")
    csv_text = client.get(f"/v1/experiments/{job_id}/export.csv").text
    lines = csv_text.strip().split("\n")
    assert lines[0].split(",") == HEADER and len(lines) == 1 + 3 * 250
    first = lines[1].split(",")
    assert first[-2] != "" and lines[2 + 3 * 1].split(",")[-1] == ""  # evaluated at itr 0, not at itr 1
    table = np.load(io.BytesIO(client.get(f"/v1/experiments/{job_id}/export.npz").content))
    assert table["logits"].shape == (750, 3) and table["trial"].shape == (750,)
    parquet = pq.read_table(io.BytesIO(client.get(f"/v1/experiments/{job_id}/export.parquet").content))
    assert parquet.column_names == HEADER and parquet.num_rows == 750
    assert np.allclose(parquet.column("y_logit2").to_numpy(), table["logits"][:, 2])
    # the exported CSV imports back to the same class means
    imported = _imported(client, store, sent, csv_text)["id"]
    run_experiment_analysis(store, job_id)
    run_experiment_analysis(store, imported)
    original = np.load(io.BytesIO(client.get(f"/v1/experiments/{job_id}/analysis/series.npz").content))
    again = np.load(io.BytesIO(client.get(f"/v1/experiments/{imported}/analysis/series.npz").content))
    assert np.allclose(original["sampled/xbar"], again["sampled/xbar"], equal_nan=True, atol=1e-7)
    # the final eval record (t = 250, after the last update) has no CSV row to ride on
    assert np.allclose(original["eval/val_acc_mean"][:-1], again["eval/val_acc_mean"])
    assert client.get("/v1/experiments/0123456789abcdef/export.csv").status_code == 404

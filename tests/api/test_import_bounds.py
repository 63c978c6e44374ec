"""Imports never answer 500: an over-long or malformed header is 422 naming the limit; a
cell the analysis cannot use, or a grid beyond the trainer's caps, fails the job with its
row and column."""

from __future__ import annotations

from lesde_analyzer.imports import run_import_job

from tests.fixtures.authors_csv import authors_csv


def _upload(client, data: bytes):
    return client.post("/v1/imports", files={"file": ("run.csv", data, "text/csv")})


def test_a_header_over_128_kib_is_422_naming_the_limit(client, sent):
    lines = authors_csv(trials=1, iterations=5).strip().split("\n")
    header = lines[0] + ",note_" + "x" * (200 * 1024)  # one 200 KiB column name: over csv's field limit too
    answer = _upload(client, ("\n".join([header, *lines[1:]]) + "\n").encode())
    assert answer.status_code == 422, answer.text
    assert "131,072 bytes (128 KiB)" in answer.json()["message"] and answer.json()["detail"][0]["row"] == 1
    assert not sent


def test_a_header_csv_cannot_read_is_422(client, sent):
    answer = _upload(client, b"trial,i\rtr,smp,y\n")  # a lone carriage return: _csv.Error
    assert answer.status_code == 422 and "malformed CSV header" in answer.json()["message"] and not sent


def test_non_finite_logits_and_a_huge_itr_fail_the_job_with_row_and_column(client, store, sent):
    lines = authors_csv(trials=1, iterations=5).strip().split("\n")
    for row, cells, column in ((3, "1,1,0,0,nan,0.1,0.2,0.5,,", "y_logit0"), (2, "0,300000000,0,0,0.1,0.1,0.2,0.5,,", "itr")):
        answer = _upload(client, ("\n".join([*lines[: row - 1], cells, *lines[row:]]) + "\n").encode())
        assert answer.status_code == 202, answer.text
        run_import_job(store, answer.json()["id"])
        record = client.get(f"/v1/experiments/{answer.json()['id']}").json()
        assert record["status"] == "failed" and record["error"].startswith(f"row {row}, column {column!r}"), record

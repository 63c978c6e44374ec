"""``POST /v1/imports`` of the authors' CSV layout, and exports in that layout (round trip)."""

from __future__ import annotations

import io

import numpy as np
import pyarrow.parquet as pq
import pytest

from lesde.specs.analysis import FIGURE_NAMES
from lesde_analyzer.experiments.job import run_experiment_analysis
from tests.fixtures.synthetic import l_model_means, write_synthetic_experiment
from lesde_api.deps import get_limits
from lesde.settings import LimitSettings
from tests.fixtures.analysis_checks import assert_every_number, assert_valid_png

K = 3
HEADER = ["trial", "itr", "smp", "y"] + [f"y_logit{k}" for k in range(K)] + ["tr_loss", "val_loss", "val_acc"]


def authors_csv(*, trials: int = 4, iterations: int = 400, val_every: int = 50, seed: int = 0) -> str:
    """A CSV in exactly the authors' layout: trial-major rows, val_* empty where not evaluated."""
    rng = np.random.default_rng(seed)
    means = l_model_means(iterations, K, seed=seed)
    lines = [",".join(HEADER)]
    for trial in range(trials):
        for itr in range(iterations):
            smp = int(rng.integers(0, 60))
            y = smp // 20
            logits = means[itr, y] + 0.05 * rng.standard_normal(K)
            val = (f"{1.0 - itr / iterations:.6f}", f"{itr / iterations:.6f}") if itr % val_every == 0 else ("", "")
            lines.append(",".join([str(trial), str(itr), str(smp), str(y), *(f"{v:.8f}" for v in logits), "0.5", *val]))
    return "\n".join(lines) + "\n"



def _upload(client, text: str, **form):  # noqa: ANN001, ANN003, ANN202
    return client.post("/v1/imports", files={"file": ("run.csv", text.encode(), "text/csv")}, data=form)


def test_import_makes_an_analysable_experiment_with_every_figure(client, store, sent):
    answer = _upload(client, authors_csv(), name="authors", classes="triangle,rectangle,ellipse")
    assert answer.status_code == 201, answer.text
    record = answer.json()
    assert record["kind"] == "experiment" and record["status"] == "succeeded" and record["analysis"] == "queued"
    assert record["spec"]["kind"] == "import" and record["spec"]["training"] == {"iterations": 400, "trials": 4}
    assert answer.headers["location"] == f"/v1/experiments/{record['id']}"
    assert sent == [("lesde.analyze_experiment", record["id"])]
    run_experiment_analysis(store, record["id"])
    summary = client.get(f"/v1/experiments/{record['id']}/analysis").json()
    assert_every_number(summary, probe=False)
    assert summary["classes"] == ["triangle", "rectangle", "ellipse"] and summary["streams"]["eval"]["records"] == 8
    for name in FIGURE_NAMES:
        assert_valid_png(client.get(f"/v1/experiments/{record['id']}/figures/{name}.png").content)


@pytest.mark.parametrize(
    ("mutate", "row", "column"),
    [
        (lambda lines: [lines[0].replace(",tr_loss", "")] + [l.rsplit(",", 3)[0] + "," + ",".join(l.rsplit(",", 3)[2:]) for l in lines[1:]], 1, "tr_loss"),
        (lambda lines: [lines[0].replace("y_logit1", "y_logitX")] + lines[1:], 1, "y_logit1"),
        (lambda lines: lines[:3] + [lines[3].replace(",0.5,", ",abc,")] + lines[4:], 4, "tr_loss"),
        (lambda lines: lines[:5] + [lines[5] + ",7"] + lines[6:], 6, None),
        (lambda lines: lines[:2] + [lines[2].split(",", 1)[1]] + lines[3:], 3, None),
        (lambda lines: lines[:7] + [lines[7].replace(",", ",9", 3).replace(",9", ",", 2)] + lines[8:], 8, "y"),
    ],
    ids=["missing-column", "bad-logit-name", "non-numeric", "ragged-long", "ragged-short", "label-out-of-range"],
)
def test_malformed_csv_is_422_with_row_and_column(client, sent, mutate, row, column):
    lines = authors_csv(trials=2, iterations=10).strip().split("\n")
    answer = _upload(client, "\n".join(mutate(lines)) + "\n")
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert problem["row"] == row and problem["column"] == column, problem
    assert f"row {row}" in answer.json()["message"]
    assert client.get("/v1/experiments").json()["count"] == 0 and not sent  # nothing half-created


def test_incomplete_grid_and_duplicates_are_422(client, sent):
    lines = authors_csv(trials=2, iterations=10).strip().split("\n")
    missing = _upload(client, "\n".join(lines[:-1]) + "\n")
    assert missing.status_code == 422 and "trial 1 has no row for itr 9" in missing.json()["message"]
    duplicate = _upload(client, "\n".join(lines[:-1] + [lines[2]]) + "\n")
    assert duplicate.status_code == 422 and "duplicate row" in duplicate.json()["message"]
    assert _upload(client, "").status_code == 422
    assert _upload(client, authors_csv(trials=1, iterations=5), classes="a,b").json()["detail"][0]["field"] == "classes"


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
    imported = _upload(client, csv_text).json()["id"]
    run_experiment_analysis(store, job_id)
    run_experiment_analysis(store, imported)
    original = np.load(io.BytesIO(client.get(f"/v1/experiments/{job_id}/analysis/series.npz").content))
    again = np.load(io.BytesIO(client.get(f"/v1/experiments/{imported}/analysis/series.npz").content))
    assert np.allclose(original["sampled/xbar"], again["sampled/xbar"], equal_nan=True, atol=1e-7)
    # the final eval record (t = 250, after the last update) has no CSV row to ride on
    assert np.allclose(original["eval/val_acc_mean"][:-1], again["eval/val_acc_mean"])
    assert client.get("/v1/experiments/0123456789abcdef/export.csv").status_code == 404

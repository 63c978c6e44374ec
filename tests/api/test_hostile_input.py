"""Input an attacker or a broken client sends, by hand (the fuzz test covers the schema's space):
path traversal in artifact names, deeply nested and non-UTF-8 bodies, CSV cells with
infinities and 1e308. Each is a 4xx in the one error shape, or a job failed naming its row
and column; never a 500, never a byte outside the job. (413 for huge bodies and NaN in
CSVs and JSON are in test_limits.py and test_import_bounds.py.)"""

from __future__ import annotations

import pytest
from lesde_analyzer.imports import run_import_job

from tests.fixtures.authors_csv import authors_csv
from tests.fixtures.synthetic import write_synthetic_experiment


def assert_error_shape(answer, status: int) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"message", "field", "detail"} and body["message"], body


@pytest.fixture
def two_experiments(store):
    return [
        write_synthetic_experiment(store, trials=2, iterations=20, chunk=10, probe_every=10, eval_every=10, seed=seed) for seed in (0, 1)
    ]


TRAVERSALS = [
    "../{other}/status.json",
    "..%2F{other}%2Fstatus.json",
    "%2e%2e/{other}/status.json",
    "%2E%2E%2F{other}%2Fstatus.json",
    "%252e%252e%252f{other}%252fstatus.json",  # double-encoded: decoded once, it is a literal name
    "chunks/../../{other}/status.json",
    "..\\{other}\\status.json",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "status.json%00.png",
    "cancel",  # the cancel flag is not an artifact
    # odd names once answered 500 (".") or 503 blaming the store (NUL, backslash): each is a plain 404 before the store is asked
    "chunks/./status.json",
    "x/.",
    "%2e",
    "spec.json%00",
    "chunks%5Cstatus.json",
    "chunks//status.json",
    # (a bare ".." is not sent: the HTTP client itself resolves /artifacts/.. to the job's own URL)
]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_artifact_names_never_leave_the_job(client, two_experiments, name):
    job, other = two_experiments
    answer = client.get(f"/v1/experiments/{job}/artifacts/{name.format(other=other)}")
    assert_error_shape(answer, 404)


def test_an_artifact_of_the_job_itself_is_served(client, two_experiments):
    job, _ = two_experiments
    names = [item["name"] for item in client.get(f"/v1/experiments/{job}/artifacts").json()["data"]]
    assert "status.json" in names
    assert client.get(f"/v1/experiments/{job}/artifacts/status.json").json()["id"] == job


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_refused_4xx(client, sent, depth):
    body = "[" * depth + "]" * depth
    answer = client.post("/v1/experiments", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert set(answer.json()) == {"message", "field", "detail"} and not sent


@pytest.mark.parametrize("depth", [50, 5_000])
def test_a_deeply_nested_object_inside_a_spec_is_refused_4xx(client, sent, depth):
    nested = '{"a":' * depth + "1" + "}" * depth
    answer = client.post("/v1/experiments", content=f'{{"name": {nested}}}', headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text  # 422 naming "name"; 400 past the parser's depth
    assert set(answer.json()) == {"message", "field", "detail"} and not sent


# (b"\xff\xfe{\x00}\x00" is not among them: it is "{}" in UTF-16, which JSON decoders accept.)
@pytest.mark.parametrize("raw", [b"\xff\xfe\xfd", b'{"name": "\xe9t\xe9"}', b"\xc0\xaf", b"\x80"])
def test_a_body_that_is_not_utf8_is_4xx_in_the_error_shape(client, sent, raw):
    answer = client.post("/v1/experiments", content=raw, headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert set(answer.json()) == {"message", "field", "detail"} and not sent


def test_a_csv_upload_that_is_not_utf8_is_422(client, sent):
    answer = client.post("/v1/imports", files={"file": ("run.csv", b"\xff\xfetrial,itr\n\x80\x81\n", "text/csv")})
    assert_error_shape(answer, 422)
    assert answer.json()["field"] == "file" and not sent


@pytest.mark.parametrize("cell", ["inf", "-inf", "Infinity", "1e308", "-1e308", "1e309"])
def test_csv_logits_with_infinities_or_1e308_fail_the_job_naming_row_and_column(client, store, sent, cell):
    lines = authors_csv(trials=1, iterations=5).strip().split("\n")
    row = 3
    lines[row - 1] = f"1,1,0,0,{cell},0.1,0.2,0.5,,"
    answer = client.post("/v1/imports", files={"file": ("run.csv", ("\n".join(lines) + "\n").encode(), "text/csv")})
    assert answer.status_code == 202, answer.text
    run_import_job(store, answer.json()["id"])
    record = client.get(f"/v1/experiments/{answer.json()['id']}").json()
    assert record["status"] == "failed" and record["error"].startswith(f"row {row}, column 'y_logit0'"), record


@pytest.mark.parametrize("name", [".", "./spec.json", "x/.", "chunks/./status.json", "spec.json\x00", "a\\b", "chunks//0-9.npz", ""])
def test_odd_names_are_refused_before_the_store_is_asked(name):
    """The rule itself (an HTTP client resolves dot segments before sending, so these are checked directly)."""
    from lesde_api.operations.job_views import plain_artifact_name

    assert not plain_artifact_name(name)
    for good in ("spec.json", "chunks/sampled/0-499.npz", "figures/runs/0123abcd/leode@w8-h5-d200.png"):
        assert plain_artifact_name(good)

"""``export.{csv,npz,parquet}?stream=probe|features`` and ``LesdeClient.dataframe(id, stream=...)``:
the probe set's logits and penultimate features as long tables, checked value by value
against a naive loop over the stored chunks. The sampled export (the default) is pinned to
what it answered before the parameter existed.

Real parts: the app in-process, a LocalStore, chunks in the stored format (the synthetic
experiment, plus a features stream written with the trainer's ChunkWriter), the analyzer's
import task. Mocked: only Celery's ``send`` (the ``sent`` fixture), as everywhere in tests/api.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pyarrow.parquet as pq
import pytest
from lesde_analyzer.imports import run_import_job
from lesde_api.operations.exports import _probe_block
from lesde_contract import object_keys
from lesde_contract.chunks import iter_chunks, load_manifest
from lesde_contract.csv_layout import header as authors_header
from lesde_contract.object_store import ObjectStore
from lesde_runtime.chunk_writer import ChunkWriter
from lesde_runtime.job_repository import JobRepository

from tests.api.test_client_and_cli import lesde_client  # noqa: F401 - fixture: a LesdeClient on the in-process app
from tests.fixtures.authors_csv import authors_csv
from tests.fixtures.synthetic import write_synthetic_experiment

TRIALS, ITERATIONS, CHUNK, CLASSES, PER_CLASS = 3, 250, 100, 3, 2
FEATURES, FEATURES_EVERY = 5, 100
FORMATS = ("csv", "npz", "parquet")
MATRIX = {"probe": ("logits", "logit"), "features": ("features", "feature")}  # stream -> (NPZ name, column prefix)


# -- the experiments --------------------------------------------------------------------------------
def _add_features(store: ObjectStore, job_id: str) -> None:
    """Give a finished synthetic experiment a features stream as the trainer writes one.

    Records at the trainer's points (t = 0, every FEATURES_EVERY, the last state), one chunk
    per sampled chunk, ``features`` (S, R, P, F) float32; the probe set class by class with
    training-set indices that are not sorted (as the trainer's are), so the export's order by
    ``probe_sample`` is tested too. The spec says ``features_every`` accordingly.
    """
    repo = JobRepository(store, "experiment")
    spec = repo.get_spec(job_id)
    spec["training"]["features_every"] = FEATURES_EVERY
    store.put_json(object_keys.spec_key("experiment", job_id), spec)
    probe_label = np.repeat(np.arange(CLASSES), PER_CLASS)
    probe_index = np.array([40, 7, 113, 102, 260, 201])  # class 0 holds 7 and 40: stored unsorted
    writer = ChunkWriter(store, job_id)
    writer.resume(ITERATIONS)  # the stored manifest, whole: every chunk ends before ITERATIONS
    rng = np.random.default_rng(7)
    for first in range(0, ITERATIONS, CHUNK):
        last = min(first + CHUNK, ITERATIONS) - 1
        points = ([0] if first == 0 else []) + [t for t in range(first + 1, last + 2) if t % FEATURES_EVERY == 0 or t == ITERATIONS]
        values = rng.standard_normal((len(points), TRIALS, probe_label.size, FEATURES)).astype(np.float32)
        writer.put(
            "features",
            first,
            last,
            {"iteration": np.array(points), "features": values, "probe_index": probe_index, "probe_label": probe_label},
        )
    writer.commit(ITERATIONS, complete=True)


@pytest.fixture
def recorded(store) -> str:
    """A finished experiment with sampled, probe (every 50), eval and features (every 100) streams."""
    job_id = write_synthetic_experiment(
        store, trials=TRIALS, iterations=ITERATIONS, chunk=CHUNK, classes=CLASSES, probe_every=50, probe_per_class=PER_CLASS, eval_every=50
    )
    _add_features(store, job_id)
    return job_id


@pytest.fixture
def without_features(store) -> str:
    """A finished experiment whose spec says ``features_every = 0`` (no features stream)."""
    return write_synthetic_experiment(store, trials=2, iterations=100, chunk=50, probe_every=50, eval_every=50)


# -- reading the tables -------------------------------------------------------------------------------
def _reference(store: ObjectStore, job_id: str, stream: str) -> dict[str, np.ndarray]:
    """The table by a naive loop over the stored chunks: row by row, (itr, trial, probe_sample)."""
    name, prefix = MATRIX[stream]
    rows = []
    for chunk in iter_chunks(store, load_manifest(store, job_id), stream):
        index, label, values = chunk["probe_index"], chunk["probe_label"], chunk[name]
        for s, t in enumerate(chunk["iteration"]):
            for r in range(values.shape[1]):
                for p in sorted(range(len(index)), key=lambda p: index[p]):
                    rows.append([r, t, index[p], label[p], *values[s, r, p]])
    table = np.array(rows, dtype=np.float64)
    width = table.shape[1] - 4
    return dict(zip(["trial", "itr", "probe_sample", "y", *(f"{prefix}{k}" for k in range(width))], table.T, strict=True))


def _from_csv(body: bytes) -> dict[str, np.ndarray]:
    head, _, rest = body.decode().partition("\n")
    values = np.loadtxt(io.StringIO(rest), delimiter=",", ndmin=2)
    return dict(zip(head.split(","), values.T, strict=True))


def _from_npz(body: bytes, stream: str) -> dict[str, np.ndarray]:
    name, prefix = MATRIX[stream]
    arrays = dict(np.load(io.BytesIO(body)))
    matrix = arrays.pop(name)
    assert matrix.ndim == 2 and all(value.shape == (len(matrix),) for value in arrays.values())
    return arrays | {f"{prefix}{k}": matrix[:, k] for k in range(matrix.shape[1])}


def _from_parquet(body: bytes) -> dict[str, np.ndarray]:
    table = pq.read_table(io.BytesIO(body))
    return {name: table.column(name).to_numpy() for name in table.column_names}


def _export(client, job_id: str, fmt: str, stream: str) -> dict[str, np.ndarray]:
    answer = client.get(f"/v1/experiments/{job_id}/export.{fmt}", params={"stream": stream})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == f'attachment; filename="{job_id}-{stream}.{fmt}"'
    if fmt == "csv":
        return _from_csv(answer.content)
    return _from_npz(answer.content, stream) if fmt == "npz" else _from_parquet(answer.content)


def _assert_same_table(got: dict[str, np.ndarray], expected: dict[str, np.ndarray], *, as_float32: bool) -> None:
    """Same columns in the same order, same values; ``as_float32``: compare values at the stored
    precision (the CSV writes float32 to 9 significant digits, which round-trips it exactly)."""
    assert list(got) == list(expected)
    for name, value in expected.items():
        exact = name in ("trial", "itr", "probe_sample", "y") or not as_float32
        left = got[name].astype(np.float64) if exact else got[name].astype(np.float32)
        right = value if exact else value.astype(np.float32)
        np.testing.assert_array_equal(left, right, err_msg=name)


# -- the tables ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stream", ["probe", "features"])
def test_every_format_holds_the_chunk_arrays_row_by_row(client, store, recorded, stream):
    expected = _reference(store, recorded, stream)
    width = CLASSES if stream == "probe" else FEATURES
    prefix = MATRIX[stream][1]
    assert list(expected)[4:] == [f"{prefix}{k}" for k in range(width)]
    for fmt in FORMATS:
        _assert_same_table(_export(client, recorded, fmt, stream), expected, as_float32=fmt == "csv")
    # rows by (itr, trial, probe_sample): the keys in lexicographic order, each row once
    keys_ = np.stack([expected["itr"], expected["trial"], expected["probe_sample"]])
    assert (np.diff(np.lexsort(keys_[::-1])) == 1).all()
    assert len({tuple(row) for row in keys_.T}) == keys_.shape[1]


def test_features_rows_follow_the_features_schedule(client, recorded):
    table = _export(client, recorded, "parquet", "features")
    assert sorted(set(table["itr"].tolist())) == [0, 100, 200, 250]  # t = 0, every 100, the last state
    assert len(table["itr"]) == 4 * TRIALS * CLASSES * PER_CLASS
    # y is the probe sample's true class, whatever the row order
    assert dict(zip(table["probe_sample"].tolist(), table["y"].tolist(), strict=True)) == {40: 0, 7: 0, 113: 1, 102: 1, 260: 2, 201: 2}


def test_parquet_has_one_row_group_per_stored_chunk(client, store, recorded):
    """Written chunk by chunk (memory bounded by one), as the sampled export is."""
    chunks = len(load_manifest(store, recorded).chunks["features"])
    body = client.get(f"/v1/experiments/{recorded}/export.parquet", params={"stream": "features"}).content
    assert pq.ParquetFile(io.BytesIO(body)).num_row_groups == chunks == 3


def test_without_probe_index_the_position_stands_in():
    """An older features chunk without ``probe_index``: the sample's position in the probe set."""
    values = np.arange(2 * 1 * 3 * 2, dtype=np.float32).reshape(2, 1, 3, 2)
    block = _probe_block({"iteration": np.array([0, 10]), "features": values, "probe_label": np.array([0, 1, 1])}, "features")
    assert block["probe_sample"].tolist() == [0, 1, 2, 0, 1, 2]
    assert block["itr"].tolist() == [0, 0, 0, 10, 10, 10] and block["y"].tolist() == [0, 1, 1, 0, 1, 1]
    np.testing.assert_array_equal(block["features"], values.reshape(6, 2))


# -- refusals ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_stream_not_recorded_is_404_naming_it_and_why(client, without_features, fmt):
    answer = client.get(f"/v1/experiments/{without_features}/export.{fmt}", params={"stream": "features"})
    assert answer.status_code == 404
    assert answer.json()["message"] == f"experiment {without_features} recorded no features stream (training.features_every = 0)"
    assert client.get(f"/v1/experiments/{without_features}/export.{fmt}", params={"stream": "probe"}).status_code == 200


def test_an_import_has_no_probe_stream(client, store, tmp_path, sent):
    csv_path = tmp_path / "run.csv"
    csv_path.write_text(authors_csv(trials=2, iterations=60, val_every=20))
    job_id = client.post("/v1/imports", files={"file": ("run.csv", csv_path.read_bytes(), "text/csv")}).json()["id"]
    run_import_job(store, job_id)
    answer = client.get(f"/v1/experiments/{job_id}/export.csv", params={"stream": "probe"})
    assert answer.status_code == 404
    message = answer.json()["message"]
    assert "no probe stream" in message and "imported from the authors' CSV" in message
    assert client.get(f"/v1/experiments/{job_id}/export.csv").status_code == 200


def test_an_import_of_a_recorded_run_keeps_its_probe_stream(client, store, recorded):
    """Only the authors' CSV rules the stream out: an import of chunks (another source format) may carry it."""
    spec = JobRepository(store, "experiment").get_spec(recorded)
    spec |= {"kind": "import", "source": {"format": "lesde-run"}, "training": {"iterations": ITERATIONS, "trials": TRIALS}}
    store.put_json(object_keys.spec_key("experiment", recorded), spec)
    for stream in ("probe", "features"):
        assert client.get(f"/v1/experiments/{recorded}/export.csv", params={"stream": stream}).status_code == 200


def test_before_any_data_409_unless_the_spec_rules_the_stream_out(client, sent):
    """A queued experiment: its features will come (409, as the sampled export answers), unless
    ``features_every = 0`` (404 at once: they never will)."""
    tiny = {"iterations": 10, "trials": 1, "probe_per_class": 1}
    queued = client.post("/v1/experiments", json={"training": tiny}).json()["id"]
    answer = client.get(f"/v1/experiments/{queued}/export.csv", params={"stream": "features"})
    assert answer.status_code == 409 and "no data yet" in answer.json()["message"]
    never = client.post("/v1/experiments", json={"training": tiny | {"features_every": 0}}).json()["id"]
    assert client.get(f"/v1/experiments/{never}/export.npz", params={"stream": "features"}).status_code == 404
    assert client.get("/v1/experiments/0123456789abcdef/export.csv", params={"stream": "probe"}).status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_stream_is_422_naming_the_field_and_the_choices(client, recorded, fmt):
    answer = client.get(f"/v1/experiments/{recorded}/export.{fmt}", params={"stream": "logits"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["field"] == "stream"
    assert all(f"'{name}'" in body["message"] for name in ("sampled", "probe", "features")), body["message"]


# -- the sampled export, unchanged -----------------------------------------------------------------------------
def _npz_members(body: bytes) -> list[tuple[str, bytes]]:
    """The members of an NPZ (zip timestamps differ between two answers; the arrays must not)."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


@pytest.mark.parametrize("fmt", FORMATS)
def test_without_stream_the_sampled_export_is_as_before(client, recorded, fmt):
    default = client.get(f"/v1/experiments/{recorded}/export.{fmt}")
    explicit = client.get(f"/v1/experiments/{recorded}/export.{fmt}", params={"stream": "sampled"})
    assert default.status_code == explicit.status_code == 200
    assert default.headers["content-disposition"] == f'attachment; filename="{recorded}.{fmt}"'
    if fmt == "npz":
        assert _npz_members(default.content) == _npz_members(explicit.content)
        assert [name for name, _ in _npz_members(default.content)] == [
            f"{name}.npy" for name in ("trial", "itr", "smp", "y", "logits", "tr_loss", "val_loss", "val_acc")
        ]
    else:
        assert default.content == explicit.content
    if fmt == "csv":
        lines = default.text.strip().split("\n")
        assert lines[0].split(",") == authors_header(CLASSES) and len(lines) == 1 + TRIALS * ITERATIONS


# -- the client ---------------------------------------------------------------------------------------------------------
def test_client_dataframe_of_the_probe_stream(lesde_client, store, recorded, monkeypatch):  # noqa: F811 - the fixture
    pandas = pytest.importorskip("pandas")
    from lesde import client as client_module

    frame = lesde_client.dataframe(recorded, stream="probe")  # through the Parquet export
    expected = _reference(store, recorded, "probe")
    assert list(frame.columns) == ["trial", "itr", "probe_sample", "y", *(f"logit{k}" for k in range(CLASSES))]
    _assert_same_table({name: frame[name].to_numpy() for name in frame.columns}, expected, as_float32=False)
    monkeypatch.setattr(client_module.importlib.util, "find_spec", lambda name: None)  # no pyarrow here: the CSV
    from_csv = lesde_client.dataframe(recorded, stream="probe")
    pandas.testing.assert_frame_equal(from_csv, frame, check_dtype=False, rtol=1e-7)
    features = lesde_client.dataframe(recorded, stream="features")
    assert list(features.columns)[4:] == [f"feature{k}" for k in range(FEATURES)]


def test_client_dataframe_of_a_missing_stream_raises_the_404(lesde_client, without_features):  # noqa: F811 - the fixture
    pytest.importorskip("pandas")
    from lesde.client import LesdeApiError

    with pytest.raises(LesdeApiError) as missing:
        lesde_client.dataframe(without_features, stream="features")
    assert missing.value.status == 404 and "features_every = 0" in str(missing.value.detail)


# -- the schema ---------------------------------------------------------------------------------------------------------
def test_the_stream_parameter_is_documented(client):
    paths = client.get("/openapi.json").json()["paths"]
    for fmt in FORMATS:
        operation = paths[f"/v1/experiments/{{job_id}}/export.{fmt}"]["get"]
        (stream,) = [parameter for parameter in operation["parameters"] if parameter["name"] == "stream"]
        assert stream["in"] == "query" and not stream.get("required", False)
        assert stream["schema"]["enum"] == ["sampled", "probe", "features"] and stream["schema"]["default"] == "sampled"
        assert "features_every" in stream["description"]
        assert "no such stream" in operation["responses"]["404"]["description"]

"""The chunk reader: manifest order, the cut at ``iterations_done``, and checksums."""

import numpy as np
import pytest
from lesde_contract import object_keys
from lesde_contract.chunks import ChunkCorrupt, Manifest, iter_chunks, load_manifest
from lesde_runtime.chunk_writer import ChunkWriter

JOB = "abcdef0123456789"


@pytest.fixture
def written(local_store):
    """Sampled 0..29 in three chunks, eval records at 0, 10, 20, 30; committed up to 20."""
    writer = ChunkWriter(local_store, JOB)
    for first in range(0, 30, 10):
        it = np.arange(first, first + 10)
        writer.put(
            "sampled", first, first + 9, {"iteration": it, "loss": it[:, None] * np.ones((1, 2)), "label": np.zeros((10, 2), np.int64)}
        )
        points = np.array([first, first + 10] if first == 20 else [first])
        writer.put(
            "eval", first, first + 9, {"iteration": points, "val_acc": points[:, None] * np.ones((1, 2)), "probe_label": np.arange(4)}
        )
    writer.commit(20)
    return local_store, load_manifest(local_store, JOB)


def test_chunks_come_in_order_cut_at_iterations_done(written):
    store, manifest = written
    sampled = list(iter_chunks(store, manifest, "sampled"))
    # update t logs the forward pass before it: records t < 20
    assert np.concatenate([c["iteration"] for c in sampled]).tolist() == list(range(20))
    assert all(c["loss"].shape == (len(c["iteration"]), 2) for c in sampled)
    # state records describe the model after t updates: t <= 20; arrays without the record axis pass whole
    evals = list(iter_chunks(store, manifest, "eval", fields=("iteration", "probe_label")))
    assert np.concatenate([c["iteration"] for c in evals]).tolist() == [0, 10, 20]
    assert sorted(evals[0]) == ["iteration", "probe_label"] and evals[-1]["probe_label"].tolist() == [0, 1, 2, 3]


def test_a_stream_without_chunks_yields_nothing(written):
    store, manifest = written
    assert list(iter_chunks(store, manifest, "features")) == []


def test_a_chunk_that_does_not_match_its_checksum_is_refused_by_key(written):
    store, manifest = written
    damaged = manifest.chunks["sampled"][1]["key"]
    store.put_bytes(damaged, store.get_bytes(manifest.chunks["sampled"][0]["key"]))  # a valid npz, the wrong one
    chunks = iter_chunks(store, manifest, "sampled")
    next(chunks)
    with pytest.raises(ChunkCorrupt, match=f"chunk {damaged} does not match its manifest checksum"):
        next(chunks)


def test_a_manifest_written_before_the_dataset_field_still_loads(local_store):
    local_store.put_json(
        object_keys.manifest_key(JOB), {"version": 1, "job_id": JOB, "iterations_done": 3, "complete": True, "chunks": {"sampled": []}}
    )
    manifest = load_manifest(local_store, JOB)
    assert manifest == Manifest(job_id=JOB, iterations_done=3, complete=True)

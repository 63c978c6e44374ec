"""The chunk writer: chunks, then the manifest, then the checkpoint; a resume forgets what
the checkpoint does not cover, and rewriting it gives the same manifest."""

import numpy as np
from lesde_contract import object_keys
from lesde_contract.chunks import Manifest, checksum, load_manifest
from lesde_runtime.chunk_writer import ChunkWriter

JOB = "abcdef0123456789"


def _arrays(first: int, last: int) -> dict[str, np.ndarray]:
    iteration = np.arange(first, last + 1)
    return {"iteration": iteration, "loss": np.sin(iteration)[:, None].repeat(2, axis=1)}


def _step(writer: ChunkWriter, first: int, last: int, *, total: int) -> None:
    writer.put("sampled", first, last, _arrays(first, last))
    writer.commit(last + 1, complete=last + 1 == total, checkpoint={"iteration": last + 1, "weights": np.full(3, float(last))})


def test_put_and_commit_list_every_chunk_with_its_checksum(local_store):
    writer = ChunkWriter(local_store, JOB)
    for first in range(0, 30, 10):
        _step(writer, first, first + 9, total=30)
    manifest = load_manifest(local_store, JOB)
    assert manifest.iterations_done == 30 and manifest.complete
    entries = manifest.chunks["sampled"]
    assert [(e["first"], e["last"], e["records"]) for e in entries] == [(0, 9, 10), (10, 19, 10), (20, 29, 10)]
    for entry in entries:
        data = local_store.get_bytes(entry["key"])
        assert entry["checksum"] == checksum(data) and entry["size"] == len(data)
    assert manifest.chunks["eval"] == []


def test_commit_writes_the_manifest_before_the_checkpoint(local_store, monkeypatch):
    order: list[str] = []
    put_bytes = local_store.put_bytes  # put_json writes through it too

    def recording(key, *args, **kwargs):
        order.append(key)
        return put_bytes(key, *args, **kwargs)

    monkeypatch.setattr(local_store, "put_bytes", recording)
    _step(ChunkWriter(local_store, JOB), 0, 9, total=20)
    assert order == [object_keys.chunk_key(JOB, "sampled", 0, 9), object_keys.manifest_key(JOB), object_keys.checkpoint_key(JOB)]


def test_a_worker_killed_between_manifest_and_checkpoint_loses_no_chunk(local_store, monkeypatch):
    """Killed mid-commit, the next worker resumes from the older checkpoint, cuts the manifest
    back and rewrites the step: every chunk is listed once, as in an undisturbed run. (With the
    checkpoint written first, a kill between the two left the checkpoint ahead of the manifest,
    and the chunk of that step was never listed: seen in the five-kill fault test.)"""
    reference = ChunkWriter(local_store, "0123456789abcdef")
    for first in range(0, 30, 10):
        _step(reference, first, first + 9, total=30)
    first_worker = ChunkWriter(local_store, JOB)
    _step(first_worker, 0, 9, total=30)
    put_bytes = local_store.put_bytes

    def killed_at_the_checkpoint(key, *args, **kwargs):
        if key == object_keys.checkpoint_key(JOB):
            raise SystemExit("killed")
        return put_bytes(key, *args, **kwargs)

    monkeypatch.setattr(local_store, "put_bytes", killed_at_the_checkpoint)
    try:
        _step(first_worker, 10, 19, total=30)
    except SystemExit:
        pass
    monkeypatch.setattr(local_store, "put_bytes", put_bytes)
    second_worker = ChunkWriter(local_store, JOB)
    start = second_worker.load_checkpoint()["iteration"]
    assert start == 10 and load_manifest(local_store, JOB).iterations_done == 20  # the manifest is ahead
    second_worker.resume(start)
    for first in range(start, 30, 10):
        _step(second_worker, first, first + 9, total=30)
    mine, theirs = load_manifest(local_store, JOB), load_manifest(local_store, "0123456789abcdef")
    assert [(e["first"], e["checksum"]) for e in mine.chunks["sampled"]] == [(e["first"], e["checksum"]) for e in theirs.chunks["sampled"]]


def test_checkpoint_round_trips_scalars_and_arrays(local_store):
    writer = ChunkWriter(local_store, JOB)
    assert writer.load_checkpoint() is None
    writer.commit(5, checkpoint={"iteration": 5, "model": "lenet", "param/w": np.arange(6.0).reshape(2, 3)})
    state = ChunkWriter(local_store, JOB).load_checkpoint()
    assert state["iteration"] == 5 and isinstance(state["iteration"], int)
    assert state["model"] == "lenet"
    np.testing.assert_array_equal(state["param/w"], np.arange(6.0).reshape(2, 3))


def test_resume_drops_chunks_past_the_checkpoint_and_rewrites_them_identically(local_store):
    reference = ChunkWriter(local_store, "0123456789abcdef")
    for first in range(0, 30, 10):
        _step(reference, first, first + 9, total=30)

    writer = ChunkWriter(local_store, JOB)
    _step(writer, 0, 9, total=30)
    _step(writer, 10, 19, total=30)
    writer.put("sampled", 20, 29, _arrays(20, 29))  # a crash after this chunk, before its commit

    resumed = ChunkWriter(local_store, JOB)
    start = resumed.load_checkpoint()["iteration"]
    resumed.resume(start)
    assert start == 20 and [e["last"] for e in resumed.manifest.chunks["sampled"]] == [9, 19]
    _step(resumed, 20, 29, total=30)

    ours, theirs = load_manifest(local_store, JOB), load_manifest(local_store, "0123456789abcdef")
    assert ours.iterations_done == 30 and ours.complete
    strip = lambda m: [(e["key"].rsplit("/", 1)[-1], e["checksum"]) for e in m.chunks["sampled"]]  # noqa: E731
    assert strip(ours) == strip(theirs)


def test_resume_cuts_back_a_manifest_committed_past_the_checkpoint(local_store):
    writer = ChunkWriter(local_store, JOB)
    for first in range(0, 30, 10):
        _step(writer, first, first + 9, total=30)
    resumed = ChunkWriter(local_store, JOB)
    resumed.resume(10)
    assert resumed.manifest.iterations_done == 10 and [e["first"] for e in resumed.manifest.chunks["sampled"]] == [0]


def test_resume_without_a_manifest_starts_empty(local_store):
    writer = ChunkWriter(local_store, JOB)
    writer.resume(0)
    assert writer.manifest == Manifest(job_id=JOB)


def test_a_rewritten_chunk_replaces_its_entry(local_store):
    writer = ChunkWriter(local_store, JOB)
    writer.put("eval", 0, 9, {"iteration": np.array([0, 5])})
    writer.put("eval", 0, 9, {"iteration": np.array([0, 5, 9])})
    assert [e["records"] for e in writer.manifest.chunks["eval"]] == [3]

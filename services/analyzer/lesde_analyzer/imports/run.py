"""Import a recorded run: its staged chunks become the experiment's chunks.

The gateway stored the run's manifest (``object_keys.run_upload_key``) after checking that every
chunk it lists is staged. Here each chunk is read, checked against the manifest (its
checksum) and against the contract (:func:`lesde_contract.chunks.validation.check_chunk`: shapes,
labels, finite logits, the same K and R in every chunk), and written under the
experiment's own keys through :class:`~lesde_contract.chunks.ChunkWriter` (the bytes of a chunk
the Recorder wrote are rewritten identically: the encoding is deterministic). One manifest
is written last, so a failed import names no chunk. The staged chunks are removed once
the job is finished either way.
"""

from __future__ import annotations

from collections.abc import Callable

from lesde_contract import object_keys
from lesde_contract.chunks import checksum, decode_chunk
from lesde_contract.chunks.validation import ChunkInvalid, check_chunk
from lesde_contract.csv_layout import ImportRejected
from lesde_contract.object_store import ObjectNotFound, ObjectStore
from lesde_runtime.chunk_writer import ChunkWriter
from lesde_runtime.job_repository import JobRepository
from lesde_runtime.settings import LimitSettings


def import_recorded_run(store: ObjectStore, repo: JobRepository, job_id: str, *, on_chunk: Callable[[int], None]) -> None:
    """Copy and check the staged chunks of ``job_id``'s run; raise :class:`ImportRejected` naming a bad chunk."""
    upload = store.get_json(object_keys.run_upload_key(job_id))
    spec = repo.get_spec(job_id)
    classes = len(spec["dataset"]["classes"])
    trials = int(spec["training"]["trials"])
    done = int(upload["iterations_done"])
    if trials * done > LimitSettings().max_trial_iterations:
        raise ImportRejected(
            f"{trials} trials x {done} iterations is over LESDE_MAX_TRIAL_ITERATIONS ({LimitSettings().max_trial_iterations:,})"
        )
    writer = ChunkWriter(store, job_id)
    copied = 0
    for stream in object_keys.STREAMS:
        for entry in upload["chunks"].get(stream, []):
            name = f"{stream} chunk {entry['first']}-{entry['last']}"
            staged = object_keys.staged_chunk_key(upload["owner"], entry["checksum"].removeprefix("sha256:"))
            try:
                data = store.get_bytes(staged)
            except ObjectNotFound:
                raise ImportRejected(
                    f"{name}: its staged bytes are gone (staged chunks are removed after an import); upload the run again"
                ) from None
            if checksum(data) != entry["checksum"]:
                raise ImportRejected(f"{name}: the staged bytes do not match the manifest's checksum")
            arrays = decode_chunk(data)
            try:
                found = check_chunk(stream, arrays, first=entry["first"], last=entry["last"], classes=classes)
            except ChunkInvalid as error:
                raise ImportRejected(f"{name}: {error}") from None
            if found != trials:
                raise ImportRejected(f"{name}: {found} trials, but the run declares {trials}")
            writer.put(stream, entry["first"], entry["last"], arrays)
            copied += 1
            on_chunk(copied)
    writer.commit(done, complete=True)


def remove_staged(store: ObjectStore, job_id: str) -> None:
    """Delete the chunks the run staged and its uploaded manifest (best after the job finished)."""
    try:
        upload = store.get_json(object_keys.run_upload_key(job_id))
    except ObjectNotFound:
        return
    for entries in upload["chunks"].values():
        for entry in entries:
            store.delete(object_keys.staged_chunk_key(upload["owner"], entry["checksum"].removeprefix("sha256:")))
    store.delete(object_keys.run_upload_key(job_id))

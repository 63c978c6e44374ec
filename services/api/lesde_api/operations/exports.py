"""Export an experiment's recorded streams as long tables: CSV, NPZ, Parquet.

Three streams can be exported, each in its own long layout (:data:`LAYOUTS`):

* ``sampled`` (the default): the sampled logits in the authors' layout, one row per
  sampled example of each trial at each iteration, columns ``trial, itr, smp, y,
  y_logit0..y_logit{K-1}, tr_loss, val_loss, val_acc``;
* ``probe``: the logits of the fixed probe set, every ``training.probe_every``
  iterations, columns ``trial, itr, probe_sample, y, logit0..logit{K-1}``;
* ``features``: the penultimate features of the probe set, every
  ``training.features_every`` iterations, columns ``trial, itr, probe_sample, y,
  feature0..feature{F-1}``.

Every export is produced chunk by chunk from the stored chunks (memory bounded by one
chunk): CSV is streamed row block by row block; NPZ and Parquet are written to a
spooled temporary file (on disk past 64 MiB) and streamed from there. ``sampled`` rows are
in stored order, (itr, trial), not trial-major as in the authors' files (the columns and
their meaning are the same); ``probe``/``features`` rows by (itr, trial, probe_sample)
(the trainer stores the probe set class by class: each chunk's rows are reordered by
sample index). ``val_loss``/``val_acc`` of sampled row (trial, itr) come from the eval
record at ``itr`` (the model after ``itr`` updates, i.e. the one whose forward pass
produced the row's logits) and are empty (CSV) / NaN where ``itr`` was not evaluated.
For probe and features rows, ``itr`` is the state recorded: the model after ``itr``
updates; ``y`` is the probe sample's true class and ``probe_sample`` its index in the
training set.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Literal

import numpy as np
from lesde_contract.chunks import Manifest, iter_chunks, load_manifest
from lesde_contract.csv_layout import FIXED_HEAD, FIXED_TAIL
from lesde_contract.object_store import ObjectNotFound
from lesde_runtime.job_repository import JobConflict, JobRepository

from lesde_api.operations.job_views import ResourceMissing

FORMATS = ("csv", "npz", "parquet")
Stream = Literal["sampled", "probe", "features"]  # the routes' ``stream`` query parameter
SPOOL_BYTES = 64 << 20

Block = dict[str, np.ndarray]  # one chunk's rows: the layout's columns, (N,) each, and its matrix (N, W)


class FormatUnavailable(RuntimeError):
    """This deployment lacks the library an export format needs."""


class StreamMissing(ResourceMissing):
    """The experiment has no records of the stream asked for, and will not get any (404)."""


@dataclass(frozen=True)
class Layout:
    """How one stream's records become a long table.

    Attributes
    ----------
    keys : tuple of str
        The integer columns first, each (N,).
    matrix : str
        The (N, W) array of values: its name in the block and in the NPZ.
    prefix : str
        Its CSV/Parquet columns: ``prefix0 .. prefix{W-1}``.
    floats : tuple of str
        Float columns after it, (N,) each, as float64 (NaN: an empty CSV cell).
    """

    keys: tuple[str, ...]
    matrix: str
    prefix: str
    floats: tuple[str, ...] = ()

    def header(self, width: int) -> list[str]:
        """The table's column names for a matrix of ``width`` columns."""
        return [*self.keys, *(f"{self.prefix}{k}" for k in range(width)), *self.floats]


# The sampled layout is the authors' (lesde_contract.csv_layout, shared with the import); the probe streams share one shape.
LAYOUTS: dict[str, Layout] = {
    "sampled": Layout(FIXED_HEAD, "logits", "y_logit", FIXED_TAIL),
    "probe": Layout(("trial", "itr", "probe_sample", "y"), "logits", "logit"),
    "features": Layout(("trial", "itr", "probe_sample", "y"), "features", "feature"),
}


# -- which data: checks, then the blocks of rows ------------------------------------------------------
def _load(repo: JobRepository, job_id: str) -> Manifest:
    """The manifest; 409 before the first commit."""
    try:
        return load_manifest(repo.store, job_id)
    except ObjectNotFound:
        raise JobConflict(f"experiment {job_id} has no data yet: nothing to export") from None


def _never_recorded(spec: dict, job_id: str, stream: str) -> str | None:
    """Why the spec rules out any ``stream`` record (probe or features); None where it does not."""
    # only the authors' layout lacks the stream by construction; a recorded run's import may carry it
    if (spec.get("source") or {}).get("format") == "authors-csv":
        return f"experiment {job_id} was imported from the authors' CSV, which holds only sampled logits and evaluations: it has no {stream} stream"
    every = (spec.get("training") or {}).get(f"{stream}_every")
    if every == 0:
        return f"experiment {job_id} recorded no {stream} stream (training.{stream}_every = 0)"
    return None


def _manifest(repo: JobRepository, job_id: str, stream: str) -> Manifest:
    """The manifest of an experiment with ``stream`` records to export.

    404 (:class:`StreamMissing`) where the experiment will never have them, 409 where it has
    no data yet. Checked before any byte is sent, so the answer is a status, not a cut stream.
    """
    repo.get(job_id)
    if stream != "sampled" and (reason := _never_recorded(repo.get_spec(job_id), job_id, stream)):
        raise StreamMissing(reason)  # before the manifest: true of a queued job too
    manifest = _load(repo, job_id)
    if not manifest.chunks["sampled"]:
        raise JobConflict(f"experiment {job_id} has no sampled chunks yet: nothing to export")
    if not manifest.chunks[stream]:
        # the trainer records probe and features at t = 0, in its first chunk: with sampled chunks
        # stored and none of these, none will come (say, an imported run that did not record it)
        raise StreamMissing(f"experiment {job_id} stored no {stream} records")
    return manifest


def _evals(repo: JobRepository, manifest: Manifest) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """iteration -> (val_loss (R,), val_acc (R,))."""
    out = {}
    for chunk in iter_chunks(repo.store, manifest, "eval", fields=("iteration", "val_loss", "val_acc")):
        for i, t in enumerate(chunk["iteration"]):
            out[int(t)] = (chunk["val_loss"][i], chunk["val_acc"][i])
    return out


def _sampled_blocks(repo: JobRepository, manifest: Manifest) -> Iterator[Block]:
    """Per sampled chunk (up to ``iterations_done``): the long-table columns, rows ordered by (itr, trial)."""
    evals = _evals(repo, manifest)
    for chunk in iter_chunks(repo.store, manifest, "sampled", fields=("iteration", "index", "label", "logits", "loss")):
        it = chunk["iteration"]
        n, R = chunk["label"].shape
        val_loss = np.full((n, R), np.nan)
        val_acc = np.full((n, R), np.nan)
        for i, t in enumerate(it):
            if int(t) in evals:
                val_loss[i], val_acc[i] = evals[int(t)]
        K = chunk["logits"].shape[2]
        yield {
            "trial": np.tile(np.arange(R), n),
            "itr": np.repeat(it, R),
            "smp": chunk["index"].reshape(-1),
            "y": chunk["label"].reshape(-1),
            "logits": chunk["logits"].reshape(n * R, K),
            "tr_loss": chunk["loss"].reshape(-1),
            "val_loss": val_loss.reshape(-1),
            "val_acc": val_acc.reshape(-1),
        }


def _probe_block(chunk: dict[str, np.ndarray], matrix: str) -> Block:
    """One probe or features chunk as rows ordered by (itr, trial, probe_sample).

    ``chunk``: ``iteration`` (S,), ``matrix`` (S, R, P, W), ``probe_label`` (P,) and, where
    stored, ``probe_index`` (P,) (else a sample's position in the probe set stands in).
    Returns ``trial, itr, probe_sample, y`` (N,) and ``matrix`` (N, W), N = S R P.
    """
    values = chunk[matrix]
    S, R, P, W = values.shape
    index = chunk["probe_index"] if "probe_index" in chunk else np.arange(P)
    # the trainer stores the probe set class by class; the table promises it by sample index
    order = np.argsort(index, kind="stable")
    return {
        "trial": np.tile(np.repeat(np.arange(R), P), S),
        "itr": np.repeat(chunk["iteration"], R * P),
        "probe_sample": np.tile(index[order], S * R),
        "y": np.tile(chunk["probe_label"][order], S * R),
        matrix: values[:, :, order].reshape(S * R * P, W),
    }


def _probe_blocks(repo: JobRepository, manifest: Manifest, stream: str) -> Iterator[Block]:
    """Per ``probe``/``features`` chunk (up to ``iterations_done``): its rows (:func:`_probe_block`)."""
    matrix = LAYOUTS[stream].matrix
    for chunk in iter_chunks(repo.store, manifest, stream, fields=("iteration", matrix, "probe_label", "probe_index")):
        yield _probe_block(chunk, matrix)


def _blocks(repo: JobRepository, manifest: Manifest, stream: str) -> Iterator[Block]:
    """The stream's rows, chunk by chunk, as :data:`LAYOUTS` ``[stream]`` lays them out."""
    return _sampled_blocks(repo, manifest) if stream == "sampled" else _probe_blocks(repo, manifest, stream)


def _width(repo: JobRepository, manifest: Manifest, stream: str) -> int:
    """W, the number of matrix columns (K logits or F features), from the first chunk."""
    matrix = LAYOUTS[stream].matrix
    first = next(iter_chunks(repo.store, manifest, stream, fields=(matrix,)))
    return int(first[matrix].shape[-1])


# -- the formats ----------------------------------------------------------------------------------------
def _csv_rows(block: Block, layout: Layout) -> bytes:
    """One block as CSV lines: integers as such, floats to 9 significant digits, NaN as an empty cell."""
    width = block[layout.matrix].shape[1]
    table = np.column_stack(
        [*(block[name] for name in layout.keys), block[layout.matrix].astype(np.float64), *(block[name] for name in layout.floats)]
    )
    fmt = ",".join(["%d"] * len(layout.keys) + ["%.9g"] * (width + len(layout.floats)))
    buffer = io.StringIO()
    np.savetxt(buffer, table, fmt=fmt, delimiter=",")
    # NaN marks "not evaluated": the authors' layout leaves the cell empty
    return buffer.getvalue().replace("nan", "").encode()


def export_csv(repo: JobRepository, job_id: str, stream: Stream = "sampled") -> Iterator[bytes]:
    """The header line, then one piece of rows per stored chunk of ``stream``."""
    manifest = _manifest(repo, job_id, stream)
    layout = LAYOUTS[stream]
    width = _width(repo, manifest, stream)

    def rows() -> Iterator[bytes]:
        yield (",".join(layout.header(width)) + "\n").encode()
        for block in _blocks(repo, manifest, stream):
            yield _csv_rows(block, layout)

    return rows()


def _stream_file(handle: IO[bytes]) -> Iterator[bytes]:
    """The bytes of ``handle`` from its start, a MiB at a time; it is closed at the end."""
    handle.seek(0)
    try:
        while piece := handle.read(1 << 20):
            yield piece
    finally:
        handle.close()


def export_npz(repo: JobRepository, job_id: str, stream: Stream = "sampled") -> tuple[Iterator[bytes], int]:
    """NPZ of the long table: each key and float column (N,), the matrix (N, W) (``logits`` or ``features``).

    Each column is spooled chunk by chunk, then copied into its ``.npy`` member behind a
    header that states the total row count (known only at the end).
    """
    manifest = _manifest(repo, job_id, stream)
    layout = LAYOUTS[stream]
    columns: dict[str, tempfile.SpooledTemporaryFile[bytes]] = {}
    meta: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
    rows = 0
    for block in _blocks(repo, manifest, stream):
        rows += len(block["trial"])
        for name, value in block.items():
            value = np.ascontiguousarray(value.astype(np.float64) if name in layout.floats else value)
            if name not in columns:  # closed once copied into the archive
                columns[name] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - one per column, open across blocks
            columns[name].write(value.tobytes())
            meta[name] = (value.dtype, value.shape[1:])
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - handed to the response: _stream_file closes it
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, handle in columns.items():
            dtype, tail = meta[name]
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(
                    member, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (rows, *tail)}
                )
                handle.seek(0)
                while piece := handle.read(1 << 20):
                    member.write(piece)
            handle.close()
    size = out.tell()
    return _stream_file(out), size


def _parquet_columns(block: Block, layout: Layout) -> dict[str, np.ndarray]:
    """One block as the CSV's named columns (the matrix split into ``prefix{k}``; floats as float64)."""
    matrix = block[layout.matrix]
    columns = {name: block[name] for name in layout.keys}
    columns |= {f"{layout.prefix}{k}": matrix[:, k] for k in range(matrix.shape[1])}
    columns |= {name: block[name].astype(np.float64) for name in layout.floats}
    return columns


def export_parquet(repo: JobRepository, job_id: str, stream: Stream = "sampled") -> tuple[Iterator[bytes], int]:
    """Parquet with the CSV's columns, one row group per stored chunk (needs pyarrow)."""
    try:  # only this export needs it; imported lazily to keep the API light
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise FormatUnavailable("Parquet export needs pyarrow in the API image") from None

    manifest = _manifest(repo, job_id, stream)
    layout = LAYOUTS[stream]
    fd, path = tempfile.mkstemp(suffix=".parquet")
    os.close(fd)
    writer = None
    for block in _blocks(repo, manifest, stream):
        table = pa.table(_parquet_columns(block, layout))
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    if writer is None:  # _manifest found chunks, but none held a row (all cut at iterations_done)
        os.unlink(path)
        raise JobConflict(f"experiment {job_id} has no {stream} rows to export yet")
    writer.close()
    out = open(path, "rb")  # noqa: SIM115 - handed to the response: _stream_file closes it
    os.unlink(path)  # the open handle keeps the data until the stream ends
    size = os.fstat(out.fileno()).st_size
    return _stream_file(out), size

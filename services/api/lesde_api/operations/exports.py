"""Export an experiment's sampled logits in the authors' long layout: CSV, NPZ, Parquet.

Every export is produced chunk by chunk from the stored sampled chunks (memory bounded by
one chunk): CSV is streamed row block by row block; NPZ and Parquet are written to a
spooled temporary file (on disk past 64 MiB) and streamed from there. Rows are ordered by
(itr, trial) (the stored order), not trial-major as in the authors' files; the columns
and their meaning are the same. ``val_loss``/``val_acc`` of row (trial, itr) come from
the eval record at ``itr`` (the model after ``itr`` updates, i.e. the one whose forward
pass produced the row's logits) and are empty (CSV) / NaN where ``itr`` was not evaluated.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Iterator

import numpy as np

from lesde.chunks import Manifest, iter_chunks, load_manifest
from lesde.csv_layout import header
from lesde.jobs import JobConflict, JobRepository
from lesde.storage import ObjectNotFound

FORMATS = ("csv", "npz", "parquet")
SPOOL_BYTES = 64 << 20


class FormatUnavailable(RuntimeError):
    """This deployment lacks the library an export format needs."""


def _manifest(repo: JobRepository, job_id: str) -> Manifest:
    repo.get(job_id)
    try:
        manifest = load_manifest(repo.store, job_id)
    except ObjectNotFound:
        raise JobConflict(f"experiment {job_id} has no data yet: nothing to export") from None
    if not manifest.chunks["sampled"]:
        raise JobConflict(f"experiment {job_id} has no sampled chunks yet: nothing to export")
    return manifest


def _evals(repo: JobRepository, manifest: Manifest) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """iteration -> (val_loss (R,), val_acc (R,))."""
    out = {}
    for chunk in iter_chunks(repo.store, manifest, "eval", fields=("iteration", "val_loss", "val_acc")):
        for i, t in enumerate(chunk["iteration"]):
            out[int(t)] = (chunk["val_loss"][i], chunk["val_acc"][i])
    return out


def _blocks(repo: JobRepository, manifest: Manifest) -> Iterator[dict[str, np.ndarray]]:
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


def _classes(repo: JobRepository, manifest: Manifest) -> int:
    first = next(iter_chunks(repo.store, manifest, "sampled", fields=("logits",)))
    return int(first["logits"].shape[2])


def export_csv(repo: JobRepository, job_id: str) -> Iterator[bytes]:
    manifest = _manifest(repo, job_id)
    K = _classes(repo, manifest)

    def rows() -> Iterator[bytes]:
        yield (",".join(header(K)) + "\n").encode()
        fmt = ",".join(["%d"] * 4 + ["%.9g"] * K + ["%.9g"] * 3)
        for block in _blocks(repo, manifest):
            table = np.column_stack(
                [block["trial"], block["itr"], block["smp"], block["y"], block["logits"].astype(np.float64), block["tr_loss"], block["val_loss"], block["val_acc"]]
            )
            buffer = io.StringIO()
            np.savetxt(buffer, table, fmt=fmt, delimiter=",")
            # NaN marks "not evaluated": the authors' layout leaves the cell empty
            yield buffer.getvalue().replace("nan", "").encode()

    return rows()


def _stream_file(handle) -> Iterator[bytes]:  # noqa: ANN001
    handle.seek(0)
    try:
        while piece := handle.read(1 << 20):
            yield piece
    finally:
        handle.close()


def export_npz(repo: JobRepository, job_id: str) -> tuple[Iterator[bytes], int]:
    """NPZ of the long table: ``trial, itr, smp, y`` (N,), ``logits`` (N, K), ``tr_loss, val_loss, val_acc`` (N,)."""
    manifest = _manifest(repo, job_id)
    columns: dict[str, tempfile.SpooledTemporaryFile] = {}
    meta: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
    rows = 0
    for block in _blocks(repo, manifest):
        rows += len(block["trial"])
        for name, value in block.items():
            value = np.ascontiguousarray(value.astype(np.float64) if name in ("tr_loss", "val_loss", "val_acc") else value)
            columns.setdefault(name, tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)).write(value.tobytes())
            meta[name] = (value.dtype, value.shape[1:])
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, handle in columns.items():
            dtype, tail = meta[name]
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (rows, *tail)})
                handle.seek(0)
                while piece := handle.read(1 << 20):
                    member.write(piece)
            handle.close()
    size = out.tell()
    return _stream_file(out), size


def export_parquet(repo: JobRepository, job_id: str) -> tuple[Iterator[bytes], int]:
    """Parquet with the CSV's columns, one row group per stored chunk (needs pyarrow)."""
    try:  # only this export needs it; imported lazily to keep the API light
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise FormatUnavailable("Parquet export needs pyarrow in the API image") from None

    manifest = _manifest(repo, job_id)
    K = _classes(repo, manifest)
    fd, path = tempfile.mkstemp(suffix=".parquet")
    os.close(fd)
    writer = None
    for block in _blocks(repo, manifest):
        columns = {"trial": block["trial"], "itr": block["itr"], "smp": block["smp"], "y": block["y"]}
        columns |= {f"y_logit{k}": block["logits"][:, k] for k in range(K)}
        columns |= {name: block[name].astype(np.float64) for name in ("tr_loss", "val_loss", "val_acc")}
        table = pa.table(columns)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()
    out = open(path, "rb")  # noqa: SIM115 - closed by _stream_file
    os.unlink(path)  # the open handle keeps the data until the stream ends
    size = os.fstat(out.fileno()).st_size
    return _stream_file(out), size

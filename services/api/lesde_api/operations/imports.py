"""Import logits in the authors' CSV layout as an analysable experiment.

The upload is parsed row by row (pure Python ``csv``; every problem is reported with its
row and column), staged as float64 records in a temporary file, checked for a complete
(trial x itr) grid, reordered iteration-major through a memory-mapped temporary file and
written as ``sampled`` (and, where validation values exist, ``eval``) chunks in the
trainer's format, with a manifest. Memory stays bounded by one chunk; disk use is about
twice the number of cells x 8 bytes.

Mapping: ``smp`` -> ``index``, ``y`` -> ``label`` and ``true_label`` (the CSV has no
separate true label), ``y_logit*`` -> ``logits`` (float64), ``tr_loss`` -> ``loss``;
``val_loss``/``val_acc`` of row (trial, itr) -> the eval record at ``itr`` (training
loss/accuracy there are NaN: the CSV does not have them). ``itr`` values are renumbered
from 0 if the file starts later.
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
from typing import BinaryIO

import numpy as np

from lesde import celery_app
from lesde.analysis_state import set_record_analysis
from lesde.chunks import ChunkWriter, class_sums
from lesde.jobs import JobRepository
from lesde.records import AnalysisState, JobRecord, JobStatus
from lesde_api.operations.interop import FIXED_HEAD, FIXED_TAIL, LOGIT
from lesde_api.operations.queueing import enqueue

CHUNK_ITERATIONS = 1000
OPTIONAL = ("val_loss", "val_acc")  # may be empty: not evaluated at that iteration
BLOCK_ROWS = 20_000


class ImportRejected(ValueError):
    """The CSV does not have the authors' layout; ``row`` (1 = header) and ``column`` locate it."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self.row = row
        self.column = column
        where = ", ".join(part for part in (f"row {row}" if row else "", f"column {column!r}" if column else "") if part)
        super().__init__(f"{where}: {message}" if where else message)


class ImportTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the upload exceeds this deployment's limit of {limit:,} bytes (LESDE_MAX_IMPORT_BYTES)")


class _Counting(io.RawIOBase):
    """Counts bytes read and stops past ``limit``."""

    def __init__(self, raw: BinaryIO, limit: int) -> None:
        self.raw, self.limit, self.count = raw, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        data = self.raw.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise ImportTooLarge(self.limit)
        buffer[: len(data)] = data
        return len(data)


def _columns(head: list[str]) -> tuple[dict[str, int], int]:
    names = [name.strip() for name in head]
    if len(set(names)) != len(names):
        raise ImportRejected("duplicate column names in the header", row=1)
    index = {name: i for i, name in enumerate(names)}
    for name in (*FIXED_HEAD, *FIXED_TAIL):
        if name not in index:
            raise ImportRejected(f"missing column; the header needs {', '.join(FIXED_HEAD)}, y_logit0..y_logit{{K-1}}, {', '.join(FIXED_TAIL)}", row=1, column=name)
    logits = sorted(int(m.group(1)) for name in names if (m := LOGIT.match(name)))
    K = len(logits)
    if K < 2 or logits != list(range(K)):
        missing = next((f"y_logit{k}" for k in range(max(K, 2)) if k not in logits), "y_logit0")
        raise ImportRejected("logit columns must be y_logit0..y_logit{K-1} with K >= 2", row=1, column=missing)
    return index, K


def _parse(reader, index: dict[str, int], K: int, width: int, staging) -> tuple[int, set, int, int]:  # noqa: ANN001
    """Stage rows as float64 records (trial, itr, smp, y, logits, tr_loss, val_loss, val_acc)."""
    order = [*FIXED_HEAD, *(f"y_logit{k}" for k in range(K)), *FIXED_TAIL]
    positions = [index[name] for name in order]
    integer = set(FIXED_HEAD)
    trials: set[int] = set()
    lo, hi, rows = math.inf, -math.inf, 0
    block: list[list[float]] = []
    for row_number, cells in enumerate(reader, start=2):
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank line
        if len(cells) != width:
            raise ImportRejected(f"has {len(cells)} cells, the header has {width} (ragged row)", row=row_number)
        values = []
        for name, position in zip(order, positions):
            cell = cells[position].strip()
            if not cell and name in OPTIONAL:
                values.append(math.nan)
                continue
            try:
                value = float(cell)
            except ValueError:
                raise ImportRejected(f"{cell!r} is not a number", row=row_number, column=name) from None
            if name in integer and (not math.isfinite(value) or value != int(value) or value < 0):
                raise ImportRejected(f"{cell!r} must be a non-negative integer", row=row_number, column=name)
            if name == "y" and value >= K:
                raise ImportRejected(f"label {int(value)} is not a class: K = {K} logit columns", row=row_number, column=name)
            values.append(value)
        trials.add(int(values[0]))
        lo, hi = min(lo, values[1]), max(hi, values[1])
        block.append(values)
        rows += 1
        if len(block) >= BLOCK_ROWS:
            staging.write(np.asarray(block, dtype=np.float64).tobytes())
            block = []
    if block:
        staging.write(np.asarray(block, dtype=np.float64).tobytes())
    if rows == 0:
        raise ImportRejected("the file has a header but no rows", row=2)
    return rows, trials, int(lo), int(hi)


def import_csv(
    repo: JobRepository, upload: BinaryIO, *, filename: str, owner: str, name: str | None, classes: list[str] | None, max_bytes: int
) -> JobRecord:
    """Validate and convert one CSV upload; return the new experiment's record (succeeded, analysis queued)."""
    counted = _Counting(upload, max_bytes)
    text = io.TextIOWrapper(io.BufferedReader(counted, 1 << 20), encoding="utf-8", newline="")
    reader = csv.reader(text)
    try:
        head = next(reader)
    except StopIteration:
        raise ImportRejected("the file is empty; expected a header row", row=1) from None
    except UnicodeDecodeError as error:
        raise ImportRejected(f"not UTF-8 text ({error})", row=1) from None
    index, K = _columns(head)
    if classes is not None and len(classes) != K:
        raise ImportRejected(f"{len(classes)} class names given for K = {K} logit columns", column="classes")
    width = len(head)
    C = 4 + K + 3
    with tempfile.TemporaryDirectory(prefix="lesde-import-") as folder:
        staging_path = os.path.join(folder, "rows.f8")
        with open(staging_path, "wb") as staging:
            try:
                rows, trial_ids, lo, hi = _parse(reader, index, K, width, staging)
            except UnicodeDecodeError as error:
                raise ImportRejected(f"not UTF-8 text ({error})") from None
            except csv.Error as error:
                raise ImportRejected(f"malformed CSV ({error})", row=reader.line_num) from None
        trial_list = sorted(trial_ids)
        R, T = len(trial_list), hi - lo + 1
        if rows != R * T:
            _find_gap(staging_path, C, trial_list, lo, T, rows)
        grid_path = os.path.join(folder, "grid.f8")
        _reorder(staging_path, grid_path, C, trial_list, lo, T, rows)
        grid = np.memmap(grid_path, dtype=np.float64, mode="r", shape=(T, R, C))
        spec = {
            "kind": "import",
            "name": name,
            "source": {"format": "authors-csv", "filename": filename, "bytes": counted.count, "rows": rows, "trial_ids": trial_list[:1000], "first_itr": lo},
            "dataset": {"name": "imported", "classes": classes or [str(k) for k in range(K)]},
            "training": {"iterations": T, "trials": R},
        }
        record = repo.create(spec=spec, owner=owner, name=name, total=T, unit="iterations")
        repo.mark_running(record.id)
        try:
            _write_chunks(repo, record.id, grid, K)
        except Exception as error:
            repo.mark_finished(record.id, JobStatus.failed, error=f"import failed while writing chunks: {error}")
            raise
        del grid

    def done(rec: JobRecord) -> None:
        rec.progress.done = T
        rec.analysis = AnalysisState.queued

    repo.mark_finished(record.id, JobStatus.succeeded)
    record = repo.update(record.id, done)
    enqueue(celery_app.ANALYZE_EXPERIMENT, record.id, on_failure=lambda error: set_record_analysis(repo, record.id, AnalysisState.failed, error=error))
    return record


def _records(path: str, C: int, rows: int):  # noqa: ANN202
    data = np.memmap(path, dtype=np.float64, mode="r", shape=(rows, C))
    for start in range(0, rows, 1 << 18):
        yield start, np.asarray(data[start : start + (1 << 18)])


def _find_gap(path: str, C: int, trials: list[int], lo: int, T: int, rows: int) -> None:
    """Raise the first duplicate row or missing (trial, itr) pair."""
    seen = np.zeros((T, len(trials)), dtype=bool)
    lookup = {trial: i for i, trial in enumerate(trials)}
    for start, block in _records(path, C, rows):
        for offset, (trial, itr) in enumerate(block[:, :2].astype(np.int64)):
            cell = (itr - lo, lookup[int(trial)])
            if seen[cell]:
                raise ImportRejected(f"duplicate row for trial {trial}, itr {itr} (data row {start + offset + 1})", row=start + offset + 2, column="itr")
            seen[cell] = True
    t, r = np.argwhere(~seen)[0]
    raise ImportRejected(f"trial {trials[r]} has no row for itr {lo + t}: every trial needs every itr from {lo} to {lo + T - 1}", column="itr")


def _reorder(src: str, dst: str, C: int, trials: list[int], lo: int, T: int, rows: int) -> None:
    """Scatter the staged rows into an iteration-major (T, R, C) memory map."""
    R = len(trials)
    grid = np.memmap(dst, dtype=np.float64, mode="w+", shape=(T * R, C))
    ids = np.asarray(trials)
    seen = np.zeros(T * R, dtype=bool)
    for _start, block in _records(src, C, rows):
        trial_index = np.searchsorted(ids, block[:, 0].astype(np.int64))
        position = (block[:, 1].astype(np.int64) - lo) * R + trial_index
        if seen[position].any() or np.unique(position).size != position.size:
            _find_gap(src, C, trials, lo, T, rows)  # a duplicate (with a row missing elsewhere): name it
        seen[position] = True
        grid[position] = block
    grid.flush()
    del grid


def _write_chunks(repo: JobRepository, job_id: str, grid: np.ndarray, K: int) -> None:
    T, R, _ = grid.shape
    writer = ChunkWriter(repo.store, job_id)
    for first in range(0, T, CHUNK_ITERATIONS):
        last = min(first + CHUNK_ITERATIONS, T) - 1
        block = np.asarray(grid[first : last + 1])  # (n, R, C)
        label = block[:, :, 3].astype(np.int64)
        logits = block[:, :, 4 : 4 + K]
        writer.put("sampled", first, last, {
            "iteration": np.arange(first, last + 1, dtype=np.int64),
            "index": block[:, :, 2].astype(np.int64),
            "label": label,
            "true_label": label,
            "logits": logits,
            "loss": block[:, :, 4 + K],
        } | class_sums(label, logits, num_classes=K))
        val_loss, val_acc = block[:, :, 5 + K], block[:, :, 6 + K]
        evaluated = np.flatnonzero(np.isfinite(val_loss).any(axis=1) | np.isfinite(val_acc).any(axis=1))
        if evaluated.size:
            nan = np.full((evaluated.size, R), np.nan)
            writer.put("eval", first, last, {
                "iteration": (first + evaluated).astype(np.int64),
                "val_loss": val_loss[evaluated],
                "val_acc": val_acc[evaluated],
                "train_loss": nan,
                "train_acc": nan,
            })
    # one manifest, written last: a failed import names no chunk
    writer.commit(T, complete=True)

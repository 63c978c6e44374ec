"""Parse the authors' CSV into an iteration-major (trial x itr) grid on disk.

Rows are parsed one by one (pure Python ``csv``; every problem is reported with its row
and column), staged as float64 records in a temporary file, checked for a complete
(trial x itr) grid and reordered iteration-major through a memory-mapped temporary file.
Memory stays bounded by one block of rows; disk use is about twice the number of cells x
8 bytes. ``itr`` values are renumbered from 0 if the file starts later.

Bounds (:class:`ImportBounds`), checked row by row so that a file that would need a huge
grid is refused before any of it is allocated: ``itr`` below the trainer's iteration cap,
at most the spec's trial cap of distinct trials, and trials x iterations within
``LESDE_MAX_TRIAL_ITERATIONS``; every number finite and at most 1e30 in magnitude.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from lesde_contract.csv_layout import FIXED_HEAD, FIXED_TAIL, ImportRejected, check_header
from lesde_contract.specs.experiment import MAX_ITERATIONS, MAX_TRIALS
from lesde_runtime.settings import LimitSettings

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

OPTIONAL = ("val_loss", "val_acc")  # may be empty: not evaluated at that iteration
BLOCK_ROWS = 20_000
# The analysis squares logits and sums them over trials and iterations: beyond this a
# sum of squares overflows float64 (1e308) and every estimate becomes inf or NaN.
MAX_MAGNITUDE = 1e30


@dataclass(frozen=True)
class ImportBounds:
    """How large an imported grid may be: what a training run could have produced."""

    max_iterations: int = MAX_ITERATIONS  # itr < this (the trainer's iteration cap)
    max_trials: int = MAX_TRIALS  # distinct trial ids (the spec's trial cap)
    max_trial_iterations: int = LimitSettings.model_fields["max_trial_iterations"].default  # trials x iterations


@dataclass(frozen=True)
class Grid:
    """``values`` : memory map of shape (T, R, C), C = 4 + K + 3 columns in the layout's order
    (trial, itr, smp, y, logits, tr_loss, val_loss, val_acc); ``trials`` the R trial ids."""

    values: np.ndarray
    K: int
    rows: int
    trials: list[int]
    first_itr: int


class _Pieces(io.RawIOBase):
    """A readable stream over an iterator of byte pieces, counting what was read."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces, self.pending, self.count = pieces, b"", 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self.pending:
            self.pending = next(self.pieces, b"")
            if not self.pending:
                return 0
        view = memoryview(buffer).cast("B")
        size = min(len(view), len(self.pending))
        view[:size], self.pending = self.pending[:size], self.pending[size:]
        self.count += size
        return size


def parse_grid(
    pieces: Iterator[bytes], folder: str, *, bounds: ImportBounds = ImportBounds(), on_bytes: Callable[[int], None] = lambda _done: None
) -> Grid:
    """Parse the CSV arriving as ``pieces`` into a grid stored under ``folder``; raise
    :class:`ImportRejected` naming the row and column of the first problem."""
    raw = _Pieces(pieces)
    reader = csv.reader(io.TextIOWrapper(io.BufferedReader(raw, 1 << 20), encoding="utf-8", newline=""))
    try:
        head = next(reader)
    except StopIteration:
        raise ImportRejected("the file is empty; expected a header row", row=1) from None
    except UnicodeDecodeError as error:
        raise ImportRejected(f"not UTF-8 text ({error})", row=1) from None
    except csv.Error as error:  # a header field over csv's field size limit (128 KiB)
        raise ImportRejected(f"malformed CSV header ({error})", row=1) from None
    index, K = check_header(head)
    C = 4 + K + 3
    staging_path = os.path.join(folder, "rows.f8")
    with open(staging_path, "wb") as staging:
        try:
            rows, trial_ids, lo, hi = _parse(reader, index, K, len(head), staging, bounds, lambda: on_bytes(raw.count))
        except UnicodeDecodeError as error:
            raise ImportRejected(f"not UTF-8 text ({error})") from None
        except csv.Error as error:
            raise ImportRejected(f"malformed CSV ({error})", row=reader.line_num) from None
    trials = sorted(trial_ids)
    R, T = len(trials), hi - lo + 1
    if rows != R * T:
        _find_gap(staging_path, C, trials, lo, T, rows)
    grid_path = os.path.join(folder, "grid.f8")
    _reorder(staging_path, grid_path, C, trials, lo, T, rows)
    values = np.memmap(grid_path, dtype=np.float64, mode="r", shape=(T, R, C))
    return Grid(values=values, K=K, rows=rows, trials=trials, first_itr=lo)


def _parse(
    reader: Iterable[list[str]], index: dict[str, int], K: int, width: int, staging: BinaryIO, bounds: ImportBounds,
    on_block: Callable[[], None],
) -> tuple[int, set[int], int, int]:  # fmt: skip
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
            _check_magnitude(value, cell, row_number, name)
            if name in integer and (value != int(value) or value < 0):
                raise ImportRejected(f"{cell!r} must be a non-negative integer", row=row_number, column=name)
            if name == "y" and value >= K:
                raise ImportRejected(f"label {int(value)} is not a class: K = {K} logit columns", row=row_number, column=name)
            values.append(value)
        known = len(trials)
        trials.add(int(values[0]))
        lo, hi = min(lo, values[1]), max(hi, values[1])
        _check_bounds(bounds, row_number, itr=int(values[1]), trials=len(trials), span=int(hi - lo) + 1, new_trial=len(trials) > known)
        block.append(values)
        rows += 1
        if len(block) >= BLOCK_ROWS:
            staging.write(np.asarray(block, dtype=np.float64).tobytes())
            block = []
            on_block()
    if block:
        staging.write(np.asarray(block, dtype=np.float64).tobytes())
    if rows == 0:
        raise ImportRejected("the file has a header but no rows", row=2)
    return rows, trials, int(lo), int(hi)


def _check_magnitude(value: float, cell: str, row: int, column: str) -> None:
    if not math.isfinite(value):
        raise ImportRejected(f"{cell!r} is not finite: NaN and infinity cannot be analysed", row=row, column=column)
    if abs(value) > MAX_MAGNITUDE:
        raise ImportRejected(
            f"{cell!r} exceeds {MAX_MAGNITUDE:g} in magnitude: the analysis squares and sums logits, which would overflow",
            row=row,
            column=column,
        )


def _check_bounds(bounds: ImportBounds, row: int, *, itr: int, trials: int, span: int, new_trial: bool) -> None:
    """Refuse the row that makes the grid larger than a training run could be."""
    if itr >= bounds.max_iterations:
        raise ImportRejected(
            f"itr {itr:,} is beyond the trainer's iteration cap; allowed range: 0 to {bounds.max_iterations - 1:,}",
            row=row,
            column="itr",
        )
    if trials > bounds.max_trials:
        raise ImportRejected(f"more than {bounds.max_trials:,} distinct trials, the spec's trial cap", row=row, column="trial")
    if trials * span > bounds.max_trial_iterations:
        raise ImportRejected(
            f"{trials:,} trials x {span:,} iterations exceed this deployment's cap of {bounds.max_trial_iterations:,} "
            "trial-iterations (LESDE_MAX_TRIAL_ITERATIONS)",
            row=row,
            column="trial" if new_trial else "itr",
        )


def _records(path: str, C: int, rows: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(first row, block)`` over the staged records, a memory-mapped block of rows at a time."""
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
                raise ImportRejected(
                    f"duplicate row for trial {trial}, itr {itr} (data row {start + offset + 1})", row=start + offset + 2, column="itr"
                )
            seen[cell] = True
    t, r = np.argwhere(~seen)[0]
    raise ImportRejected(
        f"trial {trials[r]} has no row for itr {lo + t}: every trial needs every itr from {lo} to {lo + T - 1}", column="itr"
    )


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

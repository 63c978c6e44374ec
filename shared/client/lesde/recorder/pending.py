"""Records that wait for every trial: in memory up to a byte budget, spilled to disk beyond it.

A stream's chunk holds all trials side by side (``(records, R, ...)``), but a training
script may run its trials one after the other (a loop over models around the loop over
steps), so trial 0's block of a chunk is done long before trial R-1's. Each finished
piece (one trial's block of a chunk, or one trial's probe record) waits here, keyed by
``(stream, first iteration)``, until every trial has delivered its piece; then the pieces
are taken out together and stacked into the chunk. Memory stays under ``budget_bytes``:
past it, the oldest pieces are written to ``spool`` (one ``.npz`` each) and read back when
their chunk is assembled.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from pathlib import Path

import numpy as np

Piece = dict[str, np.ndarray]


class PendingPieces:
    """Pieces of chunks not yet complete: ``put(key, trial, arrays)``, ``take(key)`` once all ``trials`` are in."""

    def __init__(self, trials: int, *, budget_bytes: int, spool: Path) -> None:
        self.trials = trials
        self.budget_bytes = budget_bytes
        self.spool = spool
        self._in_memory: OrderedDict[tuple[tuple[str, int], int], Piece] = OrderedDict()
        self._on_disk: dict[tuple[tuple[str, int], int], Path] = {}
        self._count: dict[tuple[str, int], int] = {}
        self.memory_bytes = 0

    def put(self, key: tuple[str, int], trial: int, arrays: Piece) -> bool:
        """Keep trial ``trial``'s piece of chunk ``key``; True when every trial's piece is in."""
        if (key, trial) in self._in_memory or (key, trial) in self._on_disk:
            raise ValueError(f"trial {trial} recorded {key[0]} iteration {key[1]} twice")
        self._in_memory[(key, trial)] = arrays
        self.memory_bytes += _size(arrays)
        self._count[key] = self._count.get(key, 0) + 1
        while self.memory_bytes > self.budget_bytes and len(self._in_memory) > 1:
            self._spill_oldest()
        return self._count[key] == self.trials

    def take(self, key: tuple[str, int]) -> list[Piece]:
        """The pieces of chunk ``key`` in trial order, removed from memory and disk."""
        pieces = []
        for trial in range(self.trials):
            arrays = self._in_memory.pop((key, trial), None)
            if arrays is not None:
                self.memory_bytes -= _size(arrays)
            else:
                path = self._on_disk.pop((key, trial))
                with np.load(path, allow_pickle=False) as archive:
                    arrays = {name: archive[name] for name in archive.files}
                path.unlink()
            pieces.append(arrays)
        del self._count[key]
        return pieces

    def incomplete(self) -> dict[tuple[str, int], list[int]]:
        """Chunks still missing trials: ``key`` -> the trials that delivered theirs."""
        have: dict[tuple[str, int], list[int]] = {}
        for key, trial in [*self._in_memory, *self._on_disk]:
            have.setdefault(key, []).append(trial)
        return {key: sorted(trials) for key, trials in have.items()}

    def drop(self, key: tuple[str, int]) -> None:
        """Forget chunk ``key``'s pieces (a block some trial never finished)."""
        for trial in range(self.trials):
            arrays = self._in_memory.pop((key, trial), None)
            if arrays is not None:
                self.memory_bytes -= _size(arrays)
            path = self._on_disk.pop((key, trial), None)
            if path is not None:
                path.unlink()
        self._count.pop(key, None)

    def _spill_oldest(self) -> None:
        (key, trial), arrays = self._in_memory.popitem(last=False)
        self.memory_bytes -= _size(arrays)
        self.spool.mkdir(parents=True, exist_ok=True)
        path = self.spool / f"{key[0]}-{key[1]:09d}-trial{trial}.npz"
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=True, **arrays)  # numpy's default, named: no array can take the flag's place
        path.write_bytes(buffer.getvalue())
        self._on_disk[(key, trial)] = path


def _size(arrays: Piece) -> int:
    return sum(value.nbytes for value in arrays.values())

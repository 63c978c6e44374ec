"""Write an imported grid as ``sampled`` and ``eval`` chunks in the trainer's format.

Mapping: ``smp`` -> ``index``, ``y`` -> ``label`` and ``true_label`` (the CSV has no
separate true label), ``y_logit*`` -> ``logits`` (float64), ``tr_loss`` -> ``loss``;
``val_loss``/``val_acc`` of row (trial, itr) -> the eval record at ``itr`` (training
loss/accuracy there are NaN: the CSV does not have them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
from lesde_contract.chunks import class_sums

CHUNK_ITERATIONS = 1000


class ChunkSink(Protocol):
    """Where chunks go: the runtime's :class:`~lesde_runtime.chunk_writer.ChunkWriter` (a stored
    experiment) or a run folder (:func:`lesde.analyze` on a table, with no runtime installed)."""

    def put(self, stream: str, first: int, last: int, arrays: dict[str, np.ndarray]) -> None: ...

    def commit(self, iterations_done: int, *, complete: bool = False) -> None: ...


def write_import_chunks(writer: ChunkSink, grid: np.ndarray, K: int, *, on_chunk: Callable[[int], None] = lambda _done: None) -> None:
    """Write ``grid`` (shape (T, R, 4 + K + 3), see :class:`~lesde_analyzer.imports.grid.Grid`)
    chunk by chunk through ``writer``, then the manifest; ``on_chunk(iterations written)`` after each chunk."""
    T, R, _ = grid.shape
    for first in range(0, T, CHUNK_ITERATIONS):
        last = min(first + CHUNK_ITERATIONS, T) - 1
        block = np.asarray(grid[first : last + 1])  # (n, R, C)
        label = block[:, :, 3].astype(np.int64)
        logits = block[:, :, 4 : 4 + K]
        writer.put(
            "sampled",
            first,
            last,
            {
                "iteration": np.arange(first, last + 1, dtype=np.int64),
                "index": block[:, :, 2].astype(np.int64),
                "label": label,
                "true_label": label,
                "logits": logits,
                "loss": block[:, :, 4 + K],
            }
            | class_sums(label, logits, num_classes=K),
        )
        val_loss, val_acc = block[:, :, 5 + K], block[:, :, 6 + K]
        evaluated = np.flatnonzero(np.isfinite(val_loss).any(axis=1) | np.isfinite(val_acc).any(axis=1))
        if evaluated.size:
            nan = np.full((evaluated.size, R), np.nan)
            writer.put(
                "eval",
                first,
                last,
                {
                    "iteration": (first + evaluated).astype(np.int64),
                    "val_loss": val_loss[evaluated],
                    "val_acc": val_acc[evaluated],
                    "train_loss": nan,
                    "train_acc": nan,
                },
            )
        on_chunk(last + 1)
    # one manifest, written last: a failed import names no chunk
    writer.commit(T, complete=True)

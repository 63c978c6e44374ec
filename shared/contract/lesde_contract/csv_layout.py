"""The authors' long CSV layout, shared by import (gateway and analyzer) and export.

Columns: ``trial, itr, smp, y, y_logit0..y_logit{K-1}, tr_loss, val_loss, val_acc``; one
row per (trial, iteration): the sampled training point's index ``smp`` and label ``y``,
its logits from the forward pass before the update, its training loss, and the mean
validation loss and accuracy of that trial's model at ``itr`` (empty where not evaluated).
"""

from __future__ import annotations

import re

FIXED_HEAD = ("trial", "itr", "smp", "y")
FIXED_TAIL = ("tr_loss", "val_loss", "val_acc")
LOGIT = re.compile(r"^y_logit(\d+)$")
# Bytes of the header line: Python's csv refuses a longer field (its field size limit is
# 128 Ki characters), and a longer header is not this layout (it has K + 7 short names).
MAX_HEADER_BYTES = 128 * 1024


class ImportRejected(ValueError):
    """The CSV does not have the authors' layout; ``row`` (1 = header) and ``column`` locate it."""

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self.row = row
        self.column = column
        where = ", ".join(part for part in (f"row {row}" if row else "", f"column {column!r}" if column else "") if part)
        super().__init__(f"{where}: {message}" if where else message)


def header(classes: int) -> list[str]:
    return [*FIXED_HEAD, *(f"y_logit{k}" for k in range(classes)), *FIXED_TAIL]


def check_header(head: list[str]) -> tuple[dict[str, int], int]:
    """``({column name: position}, K)`` of a header row; raise :class:`ImportRejected` naming the column."""
    names = [name.strip() for name in head]
    if len(set(names)) != len(names):
        raise ImportRejected("duplicate column names in the header", row=1)
    index = {name: i for i, name in enumerate(names)}
    for name in (*FIXED_HEAD, *FIXED_TAIL):
        if name not in index:
            raise ImportRejected(
                f"missing column; the header needs {', '.join(FIXED_HEAD)}, y_logit0..y_logit{{K-1}}, {', '.join(FIXED_TAIL)}",
                row=1,
                column=name,
            )
    logits = sorted(int(m.group(1)) for name in names if (m := LOGIT.match(name)))
    K = len(logits)
    if K < 2 or logits != list(range(K)):
        missing = next((f"y_logit{k}" for k in range(max(K, 2)) if k not in logits), "y_logit0")
        raise ImportRejected("logit columns must be y_logit0..y_logit{K-1} with K >= 2", row=1, column=missing)
    return index, K

"""What the ``lesde`` command draws on a terminal: a progress bar, durations, a line
redrawn in place, and aligned text tables. Plain text only, no dependencies, so the
client installs with httpx alone."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO


def bar(done: float, total: float, *, width: int = 30) -> str:
    """``[#########.....................]  30%``; a ``total`` of 0 counts as 1 (nothing to do yet)."""
    total = total or 1
    share = min(max(done / total, 0.0), 1.0)
    filled = int(width * share)
    return f"[{'#' * filled}{'.' * (width - filled)}] {100 * share:3.0f}%"


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h07m``: an ETA to the second below an hour, to the minute above."""
    seconds = max(round(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class LiveLine:
    """One status line: redrawn in place on a terminal; elsewhere (logs, CI) printed again
    only when its text changes, so a log holds one line per change and no carriage returns."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.last = ""
        self.drawn = False

    def show(self, line: str) -> None:
        if self.stream.isatty():
            # Padding to the previous line's length wipes what a shorter line leaves behind.
            self.stream.write("\r" + line.ljust(len(self.last)))
        elif line != self.last:
            self.stream.write(line + "\n")
        self.last, self.drawn = line, True
        self.stream.flush()

    def end(self) -> None:
        """Leave the line as it stands and move below it (on a terminal)."""
        if self.drawn and self.stream.isatty():
            self.stream.write("\n")
            self.stream.flush()
        self.drawn = False


def _is_number(text: str) -> bool:
    try:
        float(text.removesuffix("%"))
    except ValueError:
        return False
    return True


def aligned_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, gap: int = 2) -> str:
    """``header`` and ``rows`` (cells as text) in columns: numbers right-aligned, the rest left-aligned.

    A column is numeric when every non-empty cell in it parses as a number (``42%`` too); an empty cell is
    drawn as ``-`` so that a missing value reads apart from an alignment gap.
    """
    cells = [["-" if cell == "" else cell for cell in row] for row in rows]
    widths = [len(name) for name in header]
    for row in cells:
        for column, cell in enumerate(row):
            widths[column] = max(widths[column], len(cell))
    numeric = [all(_is_number(row[column]) for row in cells if row[column] != "-") for column in range(len(header))]

    def line(row: Sequence[str]) -> str:
        parts = [cell.rjust(width) if right else cell.ljust(width) for cell, width, right in zip(row, widths, numeric, strict=True)]
        return (" " * gap).join(parts).rstrip()

    return "\n".join([line(header), *(line(row) for row in cells)])

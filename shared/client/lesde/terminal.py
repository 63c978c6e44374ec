"""What the ``lesde`` command and the client draw: a progress bar (tqdm's on a terminal or in a
notebook, plain lines in logs), durations, a line redrawn in place, and aligned text tables.
tqdm is the one dependency beside httpx, so the client still installs light."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

import tqdm.autonotebook
import tqdm.std
from tqdm.auto import tqdm as auto_tqdm

if TYPE_CHECKING:
    from lesde.progress import Progress

# tqdm.autonotebook picks the widget bar inside a Jupyter kernel (with ipywidgets), else the text one.
IN_NOTEBOOK = tqdm.autonotebook.tqdm is not tqdm.std.tqdm
# The server's numbers, not tqdm's: its rate is trial-iterations per second over every trial, and
# its ETA knows what is queued; ``postfix`` holds them (tqdm puts ", " before it).
BAR_FORMAT = "{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit}{postfix}"


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


class ProgressDisplay:
    """A job's or a sweep's :class:`~lesde.progress.Progress` as it changes.

    On a terminal or in a notebook (``interactive``, by default detected) a tqdm bar
    (``tqdm.auto``: a widget in Jupyter) with the server's counts, rate, ETA and state; elsewhere
    (logs, CI, pipes) a :class:`LiveLine`, one plain line per change and no carriage returns.
    """

    def __init__(self, stream: TextIO | None = None, *, interactive: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = (self.stream.isatty() or IN_NOTEBOOK) if interactive is None else interactive
        self._plain = LiveLine(self.stream)
        self._bar: auto_tqdm | None = None

    def show(self, progress: Progress) -> None:
        if not self.interactive:
            self._plain.show(progress.line())
            return
        total = progress.total or 1  # 0 means "not known yet"; tqdm would drop the bar for it
        if self._bar is None:  # drawn at once with the first numbers, not from 0
            self._bar = auto_tqdm(
                total=total, initial=progress.done, unit=progress.unit, postfix=progress.details,
                file=self.stream, bar_format=BAR_FORMAT, dynamic_ncols=True,
            )  # fmt: skip
            return
        if self._bar.total != total:
            self._bar.reset(total=total)  # a retried sweep child adds its iterations again
        self._bar.unit = progress.unit
        self._bar.n = progress.done
        self._bar.set_postfix_str(progress.details, refresh=False)
        self._bar.refresh()

    def end(self) -> None:
        """Leave the bar as it stands and move below it; a later :meth:`show` starts a new one."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self._plain.end()


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

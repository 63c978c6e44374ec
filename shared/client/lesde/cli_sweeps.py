"""``lesde sweep ...``: submit a grid of experiments, follow it with one progress bar, and
read its cross-child results (the table, the verdict's flip, the figures)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lesde.cli_url import add_url_option
from lesde.client import LesdeApiError, LesdeClient
from lesde.progress import counts_text, sweep_progress
from lesde.terminal import aligned_table

# What ``submit --wait`` shows of the table after the grid values: the accuracy, the loss,
# the verdict's tail index and the imitation errors; ``lesde sweep table`` shows every column.
RESULT_COLUMNS = (
    "status", "verdict", "validation_accuracy_mean", "validation_loss_mean",
    "r_gamma", "r_gamma_se", "verdict_true", "figure_4c", "figure_4c_true", "nrmse_L", "skill_L", "onset_L",
)  # fmt: skip
DEFAULT_DEST = "lesde-results"
DEFAULT_POLL_SECONDS = 2.0
EXIT_EPILOG = (
    "exit status: 0 succeeded (status: not failed, so queued and running too); 1 failed or cancelled (a child did), "
    "or the cross-child analysis failed; 2 bad input (an id of another kind: the message names the command for it); "
    "3 no answer from the server"
)
MAX_POLL_SECONDS = 3600.0


# -- what is printed ----------------------------------------------------------------------
def sweep_progress_line(sweep: dict, *, width: int = 30) -> str:
    """``[#####.....]  42% 840/2,000 trial-iterations  1,234 trial-it/s  ETA 3m12s  3 succeeded, 2 running, 5 queued``

    Progress is in trial-iterations over all children; the rate sums the running children's.
    Once a child has finished, the state of the cross-child analysis follows.
    """
    return sweep_progress(sweep).line(width=width)


def _value_text(value: Any) -> str:
    """A grid value as typed in a spec: numbers as numbers, anything else as JSON."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return json.dumps(value)


def children_table(sweep: dict) -> str:
    """One line per child: grid values, status, share of its iterations done, analysis state, error."""
    axes = sweep.get("axes") or []
    header = ["index", "experiment", *axes, "status", "done", "analysis", "error"]
    rows = [
        [str(child["index"]), child["experiment_id"], *(_value_text(child["point"].get(axis)) for axis in axes),
         child["status"] or "missing", f"{100 * child['progress']:.0f}%", child["analysis"] or "", child.get("error") or ""]
        for child in sweep.get("children") or []
    ]  # fmt: skip
    return aligned_table(header, rows)


def _cell_text(cell: str) -> str:
    """A CSV cell for reading: a fraction to 4 significant digits (the CSV keeps every digit), the rest as it is."""
    if any(mark in cell for mark in ".eE") or cell.lower() in ("nan", "inf", "-inf"):
        try:
            return f"{float(cell):.4g}"
        except ValueError:
            return cell
    return cell


class UnknownColumns(ValueError):
    """Columns asked for that the table does not have."""


def table_text(csv_text: str, columns: list[str] | None = None) -> str:
    """The sweep's CSV as an aligned text table, with only ``columns`` (in their order) when given.

    Raises :class:`UnknownColumns` naming the columns asked for that the table lacks, and the ones it has.
    """
    header, *rows = list(csv.reader(io.StringIO(csv_text)))
    wanted = header if columns is None else columns
    unknown = [name for name in wanted if name not in header]
    if unknown:
        raise UnknownColumns(f"no column {', '.join(unknown)} in the table; its columns: {', '.join(header)}")
    picks = [header.index(name) for name in wanted]
    bound = header.index("r_gamma_at_bound") if "r_gamma_at_bound" in header else None

    def cell(row: list[str], pick: int) -> str:
        # a fit stopped at its search bound is no estimate: the same words as the JSON and the CLI summary
        if bound is not None and header[pick] in ("r_gamma", "r_gamma_se") and row[bound] == "True":
            return "bound: no estimate" if header[pick] == "r_gamma" else ""
        return _cell_text(row[pick])

    return aligned_table(wanted, [[cell(row, pick) for pick in picks] for row in rows])


def flip_lines(summary: dict) -> list[str]:
    """Where the verdict flips along the primary axis (one line per group of the other axes), or why it does not."""
    flip = summary.get("flip")
    if not flip:
        return []
    lines = []
    for line in flip["lines"]:
        where = "" if line.get("label") in (None, "all children") else f" ({line['label']})"
        if line.get("value") is None:
            lines.append(f"verdict flip along {flip['axis']}{where}: none found: {line.get('reason')}")
            continue
        low, high = line["between"]
        text = f"verdict flip along {flip['axis']}{where}: r_slope of Gamma crosses 1 at {line['value']:.4g} ({line['direction']}), between grid values {low:g} and {high:g}"
        band = line.get("uncertainty")
        if band:
            text += f"; within 2 SE of 1 from {band['interval'][0]:.4g} to {band['interval'][1]:.4g}"
        lines.append(text)
    return lines


# -- the subcommands ----------------------------------------------------------------------
def wait_for_sweep(client: LesdeClient, sweep_id: str, poll_seconds: float) -> dict | None:
    """One progress bar until the sweep and its analysis are done; None when interrupted (Ctrl-C)."""
    try:
        return client.wait_sweep(sweep_id, progress=True, poll_seconds=poll_seconds)
    except KeyboardInterrupt:  # the bar has ended below its last state
        print(f"stopped waiting; sweep {sweep_id} goes on: `lesde sweep wait {sweep_id}` follows it again", file=sys.stderr)
        return None


def report(client: LesdeClient, sweep: dict, dest: Path) -> int:
    """The finished sweep's table (result columns), the verdict's flip and the saved files; 0 when all succeeded."""
    sweep_id = sweep["id"]
    print(f"sweep {sweep_id} {sweep['status']}: {counts_text(sweep['counts'])}")
    if sweep["analysis"] != "succeeded":
        print(f"its cross-child analysis {sweep['analysis']}: {sweep.get('analysis_error') or 'no result'}")
        return 1
    summary, table = client.sweep_analysis(sweep_id), client.sweep_table(sweep_id)
    header = next(csv.reader(io.StringIO(table)))
    print(table_text(table, [name for name in ("index", *sweep["axes"], *RESULT_COLUMNS) if name in header]))
    for line in flip_lines(summary):
        print(line)
    paths = client.download_sweep(sweep_id, dest / sweep_id)
    print(f"\nEvery column: `lesde sweep table {sweep_id}`. Saved:")
    for path in paths:
        print(f"  {path}")
    return 0 if sweep["status"] == "succeeded" else 1


def cmd_submit(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        sweep = client.submit_sweep(Path(args.file))
        total = sweep["progress"]["total"]
        print(
            f"submitted sweep {sweep['id']}: {len(sweep['children'])} experiments, {total:,} trial-iterations ({args.url}/v1/sweeps/{sweep['id']})"
        )
        if not args.wait:
            return 0
        finished = wait_for_sweep(client, sweep["id"], args.poll)
        return 130 if finished is None else report(client, finished, Path(args.dest))


def cmd_wait(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        finished = wait_for_sweep(client, args.id, args.poll)
        return 130 if finished is None else report(client, finished, Path(args.dest))


def cmd_status(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        sweep = client.sweep(args.id)
    print(f"sweep {sweep['id']} {sweep['status']}{': ' + sweep['name'] if sweep.get('name') else ''}")
    print(sweep_progress_line(sweep))
    if sweep.get("analysis_error"):
        print(f"analysis error: {sweep['analysis_error']}")
    print(children_table(sweep))
    return sweep_exit(sweep)


def sweep_exit(sweep: dict) -> int:
    """1 for a sweep that failed or was cancelled (a child did), or whose cross-child analysis failed; else 0."""
    return 1 if sweep["status"] in ("failed", "cancelled") or sweep.get("analysis") == "failed" else 0


def cmd_table(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        text = client.sweep_table(args.id)
    if args.csv:
        sys.stdout.write(text)
        return 0
    try:
        print(table_text(text, [name.strip() for name in args.columns.split(",")] if args.columns else None))
    except UnknownColumns as error:
        print(f"error: --columns: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        for path in client.download_sweep(args.id, Path(args.dest) / args.id):
            print(path)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        page = client.sweeps(status=args.status, owner=args.owner, limit=args.limit)
    for sweep in page["data"]:
        print(
            f"{sweep['id']}  {sweep['status']:<9}  {sweep['created_at'][:19]}  {counts_text(sweep['counts'])}  {sweep.get('name') or ''}".rstrip()
        )
    print(f"{page['count']} in all")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        print(sweep_progress_line(client.cancel_sweep(args.id)))
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        print(sweep_progress_line(client.retry_sweep(args.id)))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        client.delete_sweep(args.id)
    print(f"deleted sweep {args.id} and its experiments")
    return 0


def _poll_seconds(text: str) -> float:
    """``--poll``'s value: seconds from 0 to :data:`MAX_POLL_SECONDS`."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_POLL_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to {MAX_POLL_SECONDS:g}")
    return seconds


def with_kind_hint(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``func`` of a command on one sweep id; a 404 for an id of another kind is a usage error (2)
    naming the command for it (``lesde status <id>``); any other 404 stays the API's error."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except LesdeApiError as error:
            if error.status != 404:
                raise
            from lesde.cli import kind_hint, kind_of  # lazy: lesde.cli imports this module

            with LesdeClient(args.url) as client:
                found = kind_of(client, args.id, first="sweep")
            if found in (None, "sweep"):
                raise
            print(f"error: {kind_hint(args.id, found, 'sweep', args.sweep_command)}", file=sys.stderr)
            return 2

    return run


def _command(
    commands: argparse._SubParsersAction,
    name: str,
    func: Callable[[argparse.Namespace], int],
    help_text: str,
    *,
    with_id: bool = True,
    with_dest: bool = False,
    with_poll: bool = False,
) -> argparse.ArgumentParser:
    """Subcommand ``lesde sweep <name>`` running ``func``, with the arguments several of them share."""
    command = commands.add_parser(name, help=help_text, description=help_text[:1].upper() + help_text[1:] + ".")
    add_url_option(command)
    if with_id:
        func = with_kind_hint(func)
        command.add_argument("id", help="the sweep's id (as `lesde sweep submit` or `lesde sweep list` print it)")
    if with_dest:
        command.add_argument("--dest", default=DEFAULT_DEST, metavar="DIR", help="results go to DIR/<sweep id>/ (default: %(default)s)")
    if with_poll:
        command.add_argument(
            "--poll",
            type=_poll_seconds,
            default=DEFAULT_POLL_SECONDS,
            metavar="SECONDS",
            help=f"seconds between two looks at the sweep, 0 to {MAX_POLL_SECONDS:g}; each look reads every child (default: %(default)s)",
        )
    command.set_defaults(func=func)
    return command  # fmt: skip


def add_sweep_command(sub: argparse._SubParsersAction) -> None:
    """``lesde sweep {submit,wait,status,table,download,list,cancel,retry,delete}``."""
    sweep = sub.add_parser(
        "sweep",
        help="grids of experiments: submit, follow, tabulate, download",
        description="Submit a grid of experiments, follow it with one progress bar, read its cross-child results.",
    )
    commands = sweep.add_subparsers(dest="sweep_command", required=True)

    submit = _command(
        commands,
        "submit",
        cmd_submit,
        "submit a sweep spec (JSON file: base, and axes or points)",
        with_id=False,
        with_dest=True,
        with_poll=True,
    )
    submit.add_argument("file", help="JSON file of the sweep spec, e.g. examples/sweeps/label-noise.json")
    submit.add_argument(
        "--wait", action="store_true",
        help="draw one progress bar for the whole sweep, then print its table and download its results (default: off)",
    )  # fmt: skip
    _command(
        commands, "wait", cmd_wait, "follow a submitted sweep with one progress bar, then print its table", with_dest=True, with_poll=True
    ).epilog = EXIT_EPILOG
    _command(commands, "status", cmd_status, "the sweep's progress, counts per state, and each child").epilog = EXIT_EPILOG
    table = _command(commands, "table", cmd_table, "the cross-child table, one row per child, aligned (--csv: raw CSV)")
    table.add_argument("--csv", action="store_true", help="print the raw CSV, every digit (default: off, an aligned table)")
    table.add_argument("--columns", metavar="A,B,...", help="comma-separated columns to show, in that order (default: all)")
    _command(commands, "download", cmd_download, "save summary.json, table.csv and every figure PNG", with_dest=True)
    listing = _command(commands, "list", cmd_list, "list sweeps, newest first", with_id=False)
    listing.add_argument(
        "--status", choices=["queued", "running", "succeeded", "failed", "cancelled"], help="only sweeps in this state (default: any)"
    )
    listing.add_argument(
        "--owner", help="only this owner's sweeps (default: every owner's on an open server; with API keys, only your own are ever listed)"
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many, 1 to 500 (default: %(default)s)")
    _command(commands, "cancel", cmd_cancel, "cancel every unfinished child (a finished sweep: error 409)")
    _command(commands, "retry", cmd_retry, "re-queue the failed children only, each from its last checkpoint")
    _command(commands, "delete", cmd_delete, "delete the sweep and its experiments (while a child runs: error 409)")

"""Reproduce the paper's label-noise experiment (Figure 4) and write ``docs/reproduction.md``.

One command (``make reproduce``): start the embedded stack (or use ``--url`` of a running
one, e.g. on Redis + S3), submit the reduced label-noise sweep, wait for every child and
the cross-child analysis, download the sweep's figures and table and a few of the
children's own figures, and write the report. Every number in the report is read from
what this run computed; the claims are checked by :mod:`reproduction_report`, which says
"holds", "does not hold" or "not decided" for each and why.

    .venv/bin/python scripts/reproduce.py                      # the reduced grid, embedded stack
    .venv/bin/python scripts/reproduce.py --url http://host:8000 --sweep examples/sweeps/label-noise.json
    .venv/bin/python scripts/reproduce.py --sweep-id <id>      # rewrite the report from a finished run (its state kept)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lesde.client import LesdeClient  # noqa: E402
from lesde.cli_sweeps import sweep_progress_line  # noqa: E402
from lesde.terminal import LiveLine  # noqa: E402
from reproduction_report import ChildFigures, write_report  # noqa: E402

DEFAULT_SWEEP = ROOT / "examples" / "sweeps" / "label-noise-reduced.json"
#: the children's own figures shown in the report (one separable and one not, when both exist)
CHILD_FIGURES = ("curves", "alpha-beta", "leode")


def run_sweep(client: LesdeClient, spec: dict, *, timeout: float) -> tuple[dict, float]:
    """Submit ``spec``, wait for it and its analysis; return the final view and the seconds it took."""
    began = time.monotonic()
    sweep = client.submit_sweep(spec)
    print(f"submitted sweep {sweep['id']} ({len(sweep.get('children') or [])} children)", flush=True)
    line = LiveLine(sys.stdout)

    view = client.wait_sweep(sweep["id"], on_progress=lambda view: line.show(sweep_progress_line(view)), timeout=timeout, poll_seconds=5.0)
    line.end()
    return view, time.monotonic() - began


def finished_sweep(client: LesdeClient, sweep_id: str) -> tuple[dict, float]:
    """The view of a sweep that already ran, and the seconds from its creation to its last child's end."""
    view = client.sweep(sweep_id)
    if view["status"] not in ("succeeded", "failed", "cancelled"):
        raise SystemExit(f"sweep {sweep_id} is {view['status']}; wait for it to finish, or run without --sweep-id")
    ends = [client.get(child["experiment_id"])["finished_at"] for child in view["children"]]
    last = max(datetime.fromisoformat(end) for end in ends if end)
    return view, (last - datetime.fromisoformat(view["created_at"])).total_seconds()


def pick_children(summary: dict) -> dict[str, dict]:
    """One child labelled separable and one labelled not separable (the lowest and highest
    grid value with that label), to show their own figures."""
    rows = [row for row in summary["rows"] if row.get("verdict")]
    picked = {}
    for label, pick in (("separable", min), ("not separable", max)):
        labelled = [row for row in rows if row["verdict"] == label]
        if labelled:
            picked[label] = pick(labelled, key=lambda row: row["index"])
    if not picked and rows:  # no decided verdict: show the two ends of the grid
        picked = {"first point": rows[0], "last point": rows[-1]}
    return picked


def download(client: LesdeClient, view: dict, out: Path) -> tuple[dict, dict, list[ChildFigures], dict[str, dict]]:
    """The sweep's summary, table and figures into ``out``; the picked children's figures and
    every child's own analysis summary (the report reads separability of features from them)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    client.download_sweep(view["id"], out)
    summary = json.loads((out / "summary.json").read_text())
    child_spec = client.get(view["children"][0]["experiment_id"])["spec"]
    (out / "spec.json").write_text(json.dumps(child_spec, indent=2) + "\n")
    child_summaries = {}
    for child in view["children"]:
        if child["status"] == "succeeded":
            child_summaries[child["experiment_id"]] = client.analysis(child["experiment_id"])
    shown = []
    for label, row in pick_children(summary).items():
        names = []
        for name in CHILD_FIGURES:
            path = out / f"child-{row['index']}-{name}.png"
            path.write_bytes(client.figure(row["experiment_id"], name))
            names.append(path.name)
        shown.append(ChildFigures(label=label, row=row, files=names))
    return summary, child_spec, shown, child_summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", type=Path, default=DEFAULT_SWEEP, help="sweep spec JSON (default: %(default)s)")
    parser.add_argument("--url", help="a running server; default: start the embedded stack")
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".lesde" / "reproduce", help="embedded stack's state (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8765, help="embedded stack's port (default: %(default)s)")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "reproduction.md", help="report to write (default: %(default)s)")
    parser.add_argument("--figures", type=Path, default=None, help="where figures go (default: <report dir>/reproduction)")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="give up after this many seconds (default: %(default)s)")
    parser.add_argument(
        "--sweep-id", help="rewrite the report from this finished sweep instead of running one (the embedded stack's state is kept)"
    )
    args = parser.parse_args(argv)
    spec = json.loads(args.sweep.read_text())
    figures = args.figures or args.report.parent / "reproduction"
    stack = None
    if args.url is None:
        from lesde_launcher.stack import EmbeddedStack

        if args.state_dir.exists() and args.sweep_id is None:
            shutil.rmtree(args.state_dir)
        # One torch thread for the trainer: the analyzer runs beside it, analysing each child as
        # the next one trains, and torch's OpenMP threads spin when they share cores with other
        # busy processes (on 2 cores under load the trainer fell from ~3,400 to ~200 trial-it/s).
        threads = {"LESDE_CPU_THREADS": os.environ.get("LESDE_CPU_THREADS", "1")}
        stack = EmbeddedStack(state_dir=args.state_dir, port=args.port, overrides=threads)
        stack.start()
        print(f"embedded stack on {stack.url} (state in {args.state_dir})", flush=True)
    url = args.url or stack.url
    try:
        with LesdeClient(url) as client:
            if args.sweep_id is None:
                view, seconds = run_sweep(client, spec, timeout=args.timeout)
            else:
                view, seconds = finished_sweep(client, args.sweep_id)
            summary, child_spec, shown, child_summaries = download(client, view, figures)
    finally:
        if stack is not None:
            stack.stop()
    where = "the embedded stack" if args.url is None else url
    write_report(
        args.report,
        sweep_file=args.sweep.relative_to(ROOT) if args.sweep.is_relative_to(ROOT) else args.sweep,
        child_spec=child_spec,
        view=view,
        summary=summary,
        child_summaries=child_summaries,
        shown=shown,
        figures_dir=figures,
        seconds=seconds,
        where=where,
    )
    print(f"wrote {args.report} with figures in {figures} ({seconds / 60:.1f} min)")
    return 0 if view["status"] == "succeeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())

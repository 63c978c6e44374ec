"""Reproduce the paper's GEOMNIST experiments and write ``docs/reproduction.md``.

One command per sweep: start the embedded stack (or use ``--url`` of a running one, e.g. on
Redis + S3), submit the sweep, wait for every child and the cross-child analysis, download
the sweep's figures, table and summary, every child's spec and a few children's own
figures into ``docs/reproduction/<section>/``, write that section, and assemble the page
from every section present (:mod:`reproduction_report`). Every number is read from what the
runs computed; the claims are judged by rules that can say "holds", "does not hold" or
"not decided".

    .venv/bin/python scripts/reproduce.py                                        # the quick reduced grid (make reproduce)
    .venv/bin/python scripts/reproduce.py --sweep examples/sweeps/label-noise.json  # the paper's scale (about 1.5 h on 2 cores)
    .venv/bin/python scripts/reproduce.py --url http://127.0.0.1:8799 --sweep examples/sweeps/sample-size.json \\
        --sweep-id <id> --reanalyse                                                 # a stored sweep, re-analysed, no retraining
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

from lesde.cli_sweeps import sweep_progress_line
from lesde.client import LesdeClient
from lesde.terminal import LiveLine
from reproduction_report import (
    SECTIONS,
    ChildFigures,
    SweepRun,
    assemble_page,
    label_noise_section,
    machine_text,
    sample_size_section,
)

DEFAULT_SWEEP = ROOT / "examples" / "sweeps" / "label-noise-reduced.json"
#: the section each sweep file writes, by file stem
SECTION_OF = {"label-noise-reduced": "reduced", "label-noise": "label-noise", "sample-size": "sample-size"}
#: the children's own figures shown: label-noise children (one separable and one not), the sample-size configuration
LABEL_NOISE_FIGURES = ("AB", "curves", "leode")
SAMPLE_SIZE_FIGURES = ("separation-1d", "AB", "alpha-beta", "leode")
#: the sample-size configuration whose figures stand for the paper's Figures 1, 3 and 5 (n = 1,000 per class)
SHOWN_CONFIGURATION = 800


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
    """The view of a sweep that already ran, and the seconds from its first child's start to its
    last child's end (not from its submission: on a shared stack it may have waited behind others)."""
    view = client.sweep(sweep_id)
    if view["status"] not in ("succeeded", "failed", "cancelled"):
        raise SystemExit(f"sweep {sweep_id} is {view['status']}; wait for it to finish, or run without --sweep-id")
    records = [client.get(child["experiment_id"]) for child in view["children"]]
    first = min(datetime.fromisoformat(r["started_at"]) for r in records if r.get("started_at"))
    last = max(datetime.fromisoformat(r["finished_at"]) for r in records if r.get("finished_at"))
    return view, (last - first).total_seconds()


def reanalyse(client: LesdeClient, view: dict, *, timeout: float) -> dict:
    """Recompute every finished child's default analysis with this code, then wait for the cross-child analysis."""
    ids = [child["experiment_id"] for child in view["children"] if child["status"] == "succeeded"]
    for job_id in ids:
        client.request_analysis(job_id, {}, force=True)
    print(f"re-analysing {len(ids)} children of sweep {view['id']}", flush=True)
    deadline = time.monotonic() + timeout
    pending = set(ids)
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"re-analysis of {sorted(pending)} did not finish in {timeout:.0f} s")
        time.sleep(5.0)
        for job_id in sorted(pending):
            state = client.get(job_id).get("analysis")
            if state == "failed":
                raise SystemExit(f"re-analysis of {job_id} failed: {client.get(job_id).get('analysis_error')}")
            if state == "succeeded" and "figure_4c" in client.analysis(job_id, series=False):
                pending.discard(job_id)
        print(f"  {len(ids) - len(pending)}/{len(ids)} re-analysed", flush=True)
    while time.monotonic() < deadline:  # the sweep's rows follow each child's new summary
        rows = client.sweep_analysis(view["id"]).get("rows") or []
        if rows and all("figure_4c" in row for row in rows):
            return client.sweep(view["id"])
        time.sleep(5.0)
    raise SystemExit(f"the cross-child analysis of sweep {view['id']} did not refresh in {timeout:.0f} s")


def _label_noise_children(summary: dict) -> dict[str, dict]:
    """One child labelled separable and one labelled not separable (the lowest and highest grid value with that label)."""
    rows = [row for row in summary["rows"] if row.get("verdict")]
    picked = {}
    for label, pick in (("separable", min), ("not separable", max)):
        labelled = [row for row in rows if row["verdict"] == label]
        if labelled:
            picked[label] = pick(labelled, key=lambda row: row["index"])
    if len(picked) < 2 and rows:  # fewer decided labels: show the two ends of the grid
        picked = {"the first grid point": rows[0], "the last grid point": rows[-1]}
    return picked


def _sample_size_children(summary: dict) -> dict[str, dict]:
    rows = [row for row in summary["rows"] if row.get("verdict")]
    chosen = [row for row in rows if row.get("dataset.train_per_class") == SHOWN_CONFIGURATION] or rows[len(rows) // 2 : len(rows) // 2 + 1]
    return (
        {"n = 1,000 images per class, as in the paper's label-noise runs; our choice, the paper does not say": chosen[0]} if chosen else {}
    )


def download(client: LesdeClient, view: dict, out: Path, *, section: str) -> tuple[dict, dict, list[ChildFigures], dict[str, dict]]:
    """The sweep's summary, table and figures and every child's spec into ``out``; the picked children's
    figures; every child's own analysis summary (the report reads separability and the integrals there)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    client.download_sweep(view["id"], out)
    summary = json.loads((out / "summary.json").read_text())
    specs = {child["experiment_id"]: client.get(child["experiment_id"])["spec"] for child in view["children"]}
    (out / "specs.json").write_text(json.dumps(specs, indent=2) + "\n")
    child_summaries = {}
    for child in view["children"]:
        if child["status"] == "succeeded":
            child_summaries[child["experiment_id"]] = client.analysis(child["experiment_id"], series=False)
    sample_size = section == "sample-size"
    picks = _sample_size_children(summary) if sample_size else _label_noise_children(summary)
    names = SAMPLE_SIZE_FIGURES if sample_size else LABEL_NOISE_FIGURES
    shown = []
    for label, row in picks.items():
        files = []
        for name in names:
            path = out / f"child-{row['index']}-{name}.png"
            path.write_bytes(client.figure(row["experiment_id"], name))
            files.append(path.name)
        shown.append(ChildFigures(label=label, row=row, files=files))
    return summary, next(iter(specs.values())), shown, child_summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sweep", type=Path, default=DEFAULT_SWEEP, help="sweep spec JSON (default: %(default)s)")
    parser.add_argument(
        "--section", choices=[stem for stem, _ in SECTIONS], help="page section it writes (default: by the sweep file's name)"
    )
    parser.add_argument("--url", help="a running server; default: start the embedded stack")
    parser.add_argument(
        "--state-dir", type=Path, default=ROOT / ".lesde" / "reproduce", help="embedded stack's state (default: %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8765, help="embedded stack's port (default: %(default)s)")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "reproduction.md", help="page to write (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=6 * 3600, help="give up after this many seconds (default: %(default)s)")
    parser.add_argument(
        "--sweep-id", help="rewrite the section from this finished sweep instead of running one (the stack's state is kept)"
    )
    parser.add_argument("--reanalyse", action="store_true", help="with --sweep-id: recompute every child's analysis with this code first")
    args = parser.parse_args(argv)
    if args.reanalyse and not args.sweep_id:
        parser.error("--reanalyse needs --sweep-id")
    spec = json.loads(args.sweep.read_text())
    section = args.section or SECTION_OF.get(args.sweep.stem)
    if section is None:
        parser.error(f"no section for {args.sweep.name}; name one with --section")
    sections_dir = args.report.parent / "reproduction"
    out = sections_dir / section
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
                if args.reanalyse:
                    view = reanalyse(client, view, timeout=args.timeout)
            summary, child_spec, shown, child_summaries = download(client, view, out, section=section)
    finally:
        if stack is not None:
            stack.stop()
    where = "the embedded stack" if args.url is None else "a running stack"
    title = dict(SECTIONS)[section]
    write_section = sample_size_section if section == "sample-size" else label_noise_section
    lines = write_section(
        SweepRun(
            title=title,
            sweep_file=args.sweep.relative_to(ROOT) if args.sweep.is_relative_to(ROOT) else args.sweep,
            child_spec=child_spec,
            view=view,
            summary=summary,
            child_summaries=child_summaries,
            shown=shown,
            rel=Path(os.path.relpath(out, args.report.parent)),
            seconds=seconds,
            where=where,
        )
    )
    (out / "section.md").write_text("\n".join(lines))
    used = assemble_page(args.report, sections_dir, machine=machine_text())
    print(f"wrote {out / 'section.md'} and {args.report} (sections: {', '.join(used)}; {seconds / 60:.1f} min)")
    return 0 if view["status"] == "succeeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())

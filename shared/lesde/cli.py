"""The ``lesde`` command: submit specs, watch progress, fetch results.

Other installed packages add subcommands through the ``lesde.commands`` entry points: the
launcher (``services/launcher``) adds ``lesde up`` and ``lesde demo``, which start the
services; this package names none of them, so the client installs without them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

import httpx

from lesde.client import LesdeApiError, LesdeClient
from lesde.cli_sweeps import add_sweep_command
from lesde.terminal import LiveLine, bar, duration

DEFAULT_URL = os.environ.get("LESDE_URL", "http://127.0.0.1:8000")

# Entry-point group of the subcommands other packages add: ``name = "module:function"``,
# where ``function(subparsers)`` adds the subcommand ``name``.
COMMANDS_GROUP = "lesde.commands"
# The launcher's subcommands, still listed when it is not installed, so that they say how to get them.
LAUNCHER_COMMANDS = ("up", "demo")
LAUNCHER_MISSING = (
    "`lesde {command}` starts the API and both workers on this machine, so it needs the launcher and "
    "the services, which this installation lacks. From a checkout of the repository: `make venv`, or "
    "`pip install ./shared ./services/api ./services/trainer ./services/analyzer ./services/launcher`."
)


def progress_line(record: dict, *, width: int = 30) -> str:
    """``[#####.....]  42% 840/2000 iterations  1234 trial-it/s  ETA 12s  running``"""
    progress = record.get("progress", {})
    done, total = progress.get("done", 0), progress.get("total", 0)
    parts = [f"{bar(done, total, width=width)} {done}/{total} {progress.get('unit', '')}"]
    if progress.get("rate"):
        parts.append(f"{progress['rate']:,.0f} trial-it/s")
    if progress.get("eta_seconds") is not None and record["status"] == "running":
        parts.append(f"ETA {duration(progress['eta_seconds'])}")
    state = record["status"]
    if state == "succeeded" and record.get("analysis") not in (None, "none"):
        state = f"trained; analysis {record['analysis']}"
    parts.append(state)
    return "  ".join(parts)


def format_summary(summary: dict) -> str:
    """A few readable lines of an experiment summary (the JSON holds everything)."""
    lines = []
    final = summary.get("final")
    if final:
        lines.append(f"after {final['iteration']} iterations, over {summary.get('trials')} trials (mean +- std):")
        for key, label in (
            ("train_accuracy", "train accuracy"),
            ("validation_accuracy", "validation accuracy"),
            ("train_loss", "train loss"),
            ("validation_loss", "validation loss"),
        ):
            stats = final.get(key) or {}
            if isinstance(stats.get("mean"), (int, float)):  # an import may carry no training accuracy
                lines.append(f"  {label:<20} {stats['mean']:.4f} +- {stats.get('std') or 0.0:.4f}")
    means = summary.get("class_means", {}).get("probe")
    classes = summary.get("classes")
    if means and classes:
        width = max(len(name) for name in classes) + 2
        lines.append(f"class-mean logits on the probe set at t = {means['end_iteration']} (row: class, column: logit):")
        lines.append(" " * (width + 2) + "".join(f"{name:>{width + 4}}" for name in classes))
        for name, row in zip(classes, means["end"]):
            lines.append(f"  {name:<{width}}" + "".join(f"{value:>{width + 4}.4f}" for value in row))
    verdict = summary.get("verdict")
    if isinstance(verdict, dict) and "label" in verdict:
        r_gamma, se = verdict.get("r_gamma"), verdict.get("se")
        r_text = f"{r_gamma:.3f}" if isinstance(r_gamma, (int, float)) else "n/a"
        if isinstance(se, (int, float)):
            r_text += f" +- {se:.3f}"
        lines.append(f"Theorem 3.1 verdict from the tail index of Gamma: {verdict['label']} (r_Gamma = {r_text})")
    for model, fit in sorted((summary.get("imitation") or {}).items()):
        if isinstance(fit, dict) and isinstance(fit.get("nrmse"), (int, float)):
            label = "the authors' procedure, not a fit" if fit.get("procedure") == "authors" else "from the genuine start"
            lines.append(f"LE-ODE imitation, {model}-model ({label}): nrmse {fit['nrmse']:.3f}")
    return "\n".join(lines) if lines else json.dumps(summary, indent=2)


def wait_with_progress(client: LesdeClient, job_id: str, kind: str = "experiment") -> dict:
    live = LiveLine()
    record = client.wait(job_id, kind=kind, on_progress=lambda current: live.show(progress_line(current)), poll_seconds=1.0)
    live.end()
    return record


def show_results(client: LesdeClient, record: dict, dest: Path) -> int:
    job_id = record["id"]
    if record["status"] != "succeeded":
        print(f"experiment {job_id} {record['status']}: {record.get('error') or ''}".rstrip(": "))
        return 1
    if record.get("analysis") != "succeeded":
        print(f"experiment {job_id} trained, but its analysis {record.get('analysis')}: {record.get('analysis_error')}")
        return 1
    summary = client.analysis(job_id)
    paths = client.download_results(job_id, dest / job_id)
    print(format_summary(summary))
    print("\nResults saved (the full JSON is analysis/summary.json):")
    for path in paths:
        print(f"  {path}")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    spec = json.loads(Path(args.spec).read_text())
    with LesdeClient(args.url) as client:
        record = client.submit_experiment(spec)
        print(f"submitted experiment {record['id']} ({args.url}/v1/experiments/{record['id']})")
        if args.wait:
            return show_results(client, wait_with_progress(client, record["id"]), Path(args.dest))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        record = client.get(args.id, kind=args.kind)
    print(progress_line(record))
    if record.get("error"):
        print(f"error: {record['error']}")
    return 0


def cmd_wait(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        return show_results(client, wait_with_progress(client, args.id), Path(args.dest))


def cmd_list(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        page = client.list(kind=args.kind, status=args.status, limit=args.limit)
    for record in page["data"]:
        print(f"{record['id']}  {record['status']:<9}  {record['created_at'][:19]}  {record.get('name') or ''}")
    print(f"{page['count']} in all")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        print(progress_line(client.cancel(args.id, kind=args.kind)))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        client.delete(args.id, kind=args.kind)
    print(f"deleted {args.kind} {args.id}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        for path in client.download_results(args.id, Path(args.dest) / args.id, kind=args.kind, everything=args.all):
            print(path)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        print(client.export(args.id, args.format, Path(args.dest)))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    classes = [name.strip() for name in args.classes.split(",")] if args.classes else None
    with LesdeClient(args.url) as client:
        record = client.import_csv(args.csv, classes=classes, name=args.name)
        print(f"imported {args.csv} as experiment {record['id']}")
        if args.wait:
            return show_results(client, wait_with_progress(client, record["id"]), Path(args.dest))
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    options = json.loads(args.options) if args.options else {}
    with LesdeClient(args.url) as client:
        answer = client.request_analysis(args.id, options, force=args.force)
    print(json.dumps(answer, indent=2))
    return 0


def launcher_missing(args: argparse.Namespace) -> int:
    print(f"error: {LAUNCHER_MISSING.format(command=args.command)}", file=sys.stderr)
    return 2


def add_installed_commands(sub: argparse._SubParsersAction) -> None:
    """The subcommands of the ``lesde.commands`` entry points, and a stand-in for each absent launcher command."""
    installed = set()
    for entry in entry_points(group=COMMANDS_GROUP):
        entry.load()(sub)
        installed.add(entry.name)
    for command in LAUNCHER_COMMANDS:
        if command not in installed:
            stand_in = sub.add_parser(
                command, help="needs the launcher (not installed)", description=LAUNCHER_MISSING.format(command=command)
            )
            stand_in.set_defaults(func=launcher_missing)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lesde", description="LE-SDE Lab command line.")
    parser.add_argument("--url", default=DEFAULT_URL, help="API base URL (env LESDE_URL; default: %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)

    submit = sub.add_parser("submit", help="submit an experiment spec (JSON file)")
    submit.add_argument("spec")
    submit.add_argument("--wait", action="store_true", help="show progress, then print the summary")
    submit.add_argument("--dest", default="lesde-results")
    submit.set_defaults(func=cmd_submit)

    for name, func, help_text in (
        ("status", cmd_status, "one job's status"),
        ("cancel", cmd_cancel, "cancel a queued or running job"),
        ("delete", cmd_delete, "delete a job and all its objects"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("id")
        command.add_argument("--kind", default="experiment", choices=["experiment", "simulation"])
        command.set_defaults(func=func)

    wait = sub.add_parser("wait", help="progress bar until done, then the summary")
    wait.add_argument("id")
    wait.add_argument("--dest", default="lesde-results")
    wait.set_defaults(func=cmd_wait)

    listing = sub.add_parser("list", help="list jobs")
    listing.add_argument("--kind", default="experiment", choices=["experiment", "simulation"])
    listing.add_argument("--status", choices=["queued", "running", "succeeded", "failed", "cancelled"])
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(func=cmd_list)

    download = sub.add_parser("download", help="download analysis and figures (--all: every artifact)")
    download.add_argument("id")
    download.add_argument("--kind", default="experiment", choices=["experiment", "simulation"])
    download.add_argument("--dest", default="lesde-results")
    download.add_argument("--all", action="store_true")
    download.set_defaults(func=cmd_download)

    export = sub.add_parser("export", help="download an experiment's logits (authors' CSV layout, NPZ or Parquet)")
    export.add_argument("id")
    export.add_argument("--format", default="csv", choices=["csv", "npz", "parquet"])
    export.add_argument("--dest", default=".")
    export.set_defaults(func=cmd_export)

    importing = sub.add_parser("import", help="upload a CSV in the authors' layout as an analysable experiment")
    importing.add_argument("csv")
    importing.add_argument("--classes", help="comma-separated class names in label order")
    importing.add_argument("--name")
    importing.add_argument("--wait", action="store_true", help="wait for the analysis, then print the summary")
    importing.add_argument("--dest", default="lesde-results")
    importing.set_defaults(func=cmd_import)

    analyze = sub.add_parser("analyze", help="re-run an analysis with options (JSON), e.g. '{\"savgol_window\": 191}'")
    analyze.add_argument("id")
    analyze.add_argument("--options", help="analysis options as JSON")
    analyze.add_argument("--force", action="store_true", help="recompute even if cached")
    analyze.set_defaults(func=cmd_analyze)

    add_sweep_command(sub)
    add_installed_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # A stand-in for an absent launcher command takes any options, to answer with how to install it.
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.func is not launcher_missing:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return args.func(args)
    except (LesdeApiError, FileNotFoundError) as error:
        problem = str(error)
    except httpx.TransportError as error:
        problem = f"no answer from {args.url}: {error}"
    except json.JSONDecodeError as error:
        problem = f"the spec is not valid JSON: {error}"
    print(f"error: {problem}", file=sys.stderr)  # one line, not a traceback
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""The ``lesde`` command: submit specs, watch progress, fetch results.

Other installed packages add subcommands through the ``lesde.commands`` entry points: the
launcher (``services/launcher``) adds ``lesde up`` and ``lesde demo``, which start the
services; this package names none of them, so the client installs without them.

Exit status (:data:`EPILOG`): 0 done (``status``: not failed); 1 the job failed or was
cancelled (or its analysis failed), or no job of any kind has the id; 2 bad input (a bad
option, an id of another kind: the message names the command for it) or an error the API
answered; 3 no answer from the server (after retries with backoff while waiting).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from lesde.cli_datasets import add_dataset_command
from lesde.cli_sweeps import add_sweep_command
from lesde.cli_url import DEFAULT_URL, URL_ENV, add_url_option, resolve_url
from lesde.client import LesdeApiError, LesdeClient
from lesde.progress import job_progress
from lesde.terminal import aligned_table

if TYPE_CHECKING:
    from lesde.results import AnalysisResult

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
KINDS = ("experiment", "simulation")
# What `lesde list` shows (every kind by default) and where an id of the wrong kind is looked for.
LIST_KINDS = ("experiment", "simulation", "sweep", "dataset")
KIND_WORDS = {"experiment": "an experiment", "simulation": "a simulation", "sweep": "a sweep", "dataset": "a data set"}
PLURALS = {"experiment": "experiments", "simulation": "simulations", "sweep": "sweeps", "dataset": "data sets"}
FAILED = ("failed", "cancelled")
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
DEFAULT_DEST = "lesde-results"
# Exit statuses: the job failed or was cancelled (or no job has the id); bad input or the API
# said no (argparse exits 2 as well); the server does not answer.
FAILED_EXIT = 1
USAGE_EXIT = 2
NO_ANSWER_EXIT = 3
MISSING = "\u2013"  # an en dash where a number is absent (an import has no training accuracy)
EPILOG = f"""\
environment:
  {URL_ENV}       the API's base URL when --url is not given (else {DEFAULT_URL})
  LESDE_API_KEY   sent as "Authorization: Bearer <key>" to a server with API keys (`lesde keys add`);
                  there is no --api-key option: a key on the command line stays in the shell's history

exit status:
  0 done: the job succeeded (status: it has not failed; queued and running are 0 too)
  1 the job failed or was cancelled, or its analysis failed; or no job of any kind has that id
  2 bad input: a bad option or spec, an id of another kind (the message names the command for it),
    or an error the API answered
  3 no answer from the server: connection refused or timed out (is it running? `make up`)
"""
# The exit statuses again, on the help of the commands that report a job's outcome.
OUTCOME_EPILOG = """\
exit status: 0 succeeded (status: or not finished yet); 1 failed or cancelled (or its analysis failed),
  or no job of any kind has that id; 2 bad input (an id of another kind: the message names the command
  for it); 3 no answer from the server (refused or timed out)
"""


def progress_line(record: dict, *, width: int = 30) -> str:
    """``[#####.....]  42% 840/2,000 iterations  1,234 trial-it/s  ETA 12s  running``"""
    return job_progress(record).line(width=width)


def _number(value: object, spec: str = ".4f") -> str:
    """``value`` formatted with ``spec``, or an en dash where it is absent (None, or not a number)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return MISSING


def _r_text(r: object, se: object, at_bound: object) -> str:
    """``r = 1.234 +- 0.056``, or the words for a fit stopped at its bound (no estimate)."""
    if at_bound:
        return "at the fit's bound: no estimate"
    if not isinstance(r, (int, float)):
        return "r not identified"
    return f"r = {r:.3f}" + (f" +- {se:.3f}" if isinstance(se, (int, float)) else "")


def _labels(summary: dict) -> str:
    labels = summary.get("labels")
    return labels.get("option", "trained") if isinstance(labels, dict) else "trained"


def format_summary(summary: dict) -> str:
    """A few readable lines of an experiment summary (the JSON holds everything); absent numbers as "\u2013"."""
    lines = []
    final = summary.get("final")
    if final:
        lines.append(
            f"after {_number(final.get('iteration'), 'd')} iterations, over {_number(summary.get('trials'), 'd')} trials (mean +- std):"
        )
        for key, label in (
            ("train_accuracy", "train accuracy"),
            ("validation_accuracy", "validation accuracy"),
            ("train_loss", "train loss"),
            ("validation_loss", "validation loss"),
        ):
            stats = final.get(key) or {}  # an import carries no training accuracy: its mean is None
            spread = f" +- {_number(stats.get('std'))}" if isinstance(stats.get("mean"), (int, float)) else ""
            lines.append(f"  {label:<20} {_number(stats.get('mean'))}{spread}")
    means = summary.get("class_means", {}).get("probe")
    classes = summary.get("classes")
    if means and classes:
        width = max(len(name) for name in classes) + 2
        lines.append(f"class-mean logits on the probe set at t = {means['end_iteration']} (row: class, column: logit):")
        lines.append(" " * (width + 2) + "".join(f"{name:>{width + 4}}" for name in classes))
        for name, row in zip(classes, means["end"]):
            lines.append(f"  {name:<{width}}" + "".join(f"{_number(value):>{width + 4}}" for value in row))
    verdict = summary.get("verdict")
    if isinstance(verdict, dict) and "label" in verdict:
        lines.append(f"Theorem 3.1 verdict from the tail index of Gamma: {verdict['label']} (labels: {_labels(summary)})")
        for window in verdict.get("windows") or []:
            mark = "*" if window.get("deciding") else " "
            lines.append(
                f"  {mark} window [{_number(window['window'][0], ',.0f')}, {_number(window['window'][1], ',.0f')}]: "
                f"{_r_text(window.get('r'), window.get('se'), window.get('at_bound'))} ({window.get('label')})"
            )
        if verdict.get("why"):
            lines.append(f"  why: {verdict['why'].split(' Windows: ')[0]}")
    figure = summary.get("figure_4c")
    if isinstance(figure, dict):
        lines.append(
            f"the paper's Figure 4c number, min(r-hat_alpha, r-hat_beta) of the I-model (the authors' formula): "
            f"{_number(figure.get('r_hat_min'), '.3f')}"
        )
    for model, fit in sorted((summary.get("imitation") or {}).items()):
        if isinstance(fit, dict) and fit.get("failed"):
            lines.append(f"LE-ODE imitation, {model}-model: not run: {fit['failed']}")
        elif isinstance(fit, dict) and isinstance(fit.get("nrmse"), (int, float)):
            label = "the authors' procedure, not a fit" if fit.get("procedure") == "authors" else "from the genuine start"
            onset = fit.get("onset") or {}
            lines.append(
                f"LE-ODE imitation, {model}-model ({label}): nrmse {fit['nrmse']:.3f}, holding Xbar(t0) "
                f"{_number(fit.get('nrmse_hold'), '.3f')}, skill {_number(fit.get('skill'), '.3f')}; onset t = "
                f"{_number(onset.get('iteration'), ',.0f')}, {_number(100 * fit['scored_share'] if isinstance(fit.get('scored_share'), (int, float)) else None, '.0f')}% of the run scored"
            )
    return "\n".join(lines) if lines else json.dumps(summary, indent=2)


def format_simulation_summary(summary: dict) -> str:
    """The headline numbers of a simulation (or of a phase diagram); the JSON holds the series."""
    if "final_separable_fraction" in summary:
        etf = [value for value in summary.get("etf_distance") or [] if isinstance(value, (int, float))]
        return "\n".join([
            f"LE {summary.get('mode')} simulation, {summary.get('model')}-model, {summary.get('classes')} classes, "
            f"dim {summary.get('dim')}, {summary.get('runs')} runs:",
            f"  separable fraction at the end   {_number(summary['final_separable_fraction'], '.3f')}",
            f"  ETF distance at the end         {_number(etf[-1] if etf else None, '.4f')}",
        ])  # fmt: skip
    if "grid_kind" in summary:
        critical = summary.get("critical")
        where = json.dumps(critical) if critical is not None else "none found on this grid"
        return f"phase diagram over {summary.get('x_label')} ({len(summary.get('x') or [])} points): critical value {where}"
    return json.dumps(summary, indent=2)


def wait_with_progress(client: LesdeClient, job_id: str, kind: str = "experiment") -> dict:
    """A progress bar (tqdm on a terminal; one line per change in a log) until the job and its analysis are done."""
    return client.wait(job_id, kind=kind, progress=True, poll_seconds=1.0)


def show_results(client: LesdeClient, record: dict, dest: Path, *, kind: str = "experiment") -> int:
    """The finished job's summary and its saved results under ``dest/<id>``; 1 when it (or its analysis) failed."""
    job_id = record["id"]
    if record["status"] != "succeeded":
        print(f"{kind} {job_id} {record['status']}: {record.get('error') or ''}".rstrip(": "))
        return 1
    if kind == "experiment" and record.get("analysis") != "succeeded":
        print(f"experiment {job_id} trained, but its analysis {record.get('analysis')}: {record.get('analysis_error')}")
        return 1
    summary = client.analysis(job_id, kind=kind)
    paths = download_analysis(client, job_id, dest / job_id, kind=kind, formats=("png",))
    print(format_summary(summary) if kind == "experiment" else format_simulation_summary(summary))
    print("\nResults saved (the full JSON is analysis/summary.json):")
    for path in paths:
        print(f"  {path}")
    return 0


def _read_spec(path: str) -> dict:
    return json.loads(Path(path).read_text())


def cmd_submit(args: argparse.Namespace) -> int:
    spec = _read_spec(args.spec)
    with LesdeClient(args.url) as client:
        record = client.submit_experiment(spec)
        print(f"submitted experiment {record['id']} ({args.url}/v1/experiments/{record['id']})")
        if args.wait:
            return show_results(client, wait_with_progress(client, record["id"]), Path(args.dest))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    spec = _read_spec(args.spec)
    with LesdeClient(args.url) as client:
        # A phase diagram's spec holds a base simulation and a grid; a simulation's has no "grid".
        phase_diagram = isinstance(spec, dict) and "grid" in spec
        record = client.submit_phase_diagram(spec) if phase_diagram else client.submit_simulation(spec)
        what = "phase diagram" if phase_diagram else "simulation"
        print(f"submitted {what} {record['id']} ({args.url}/v1/simulations/{record['id']})")
        if args.wait:
            finished = wait_with_progress(client, record["id"], kind="simulation")
            return show_results(client, finished, Path(args.dest), kind="simulation")
    return 0


def outcome_exit(record: dict, kind: str = "experiment") -> int:
    """1 for a job that failed or was cancelled, or an experiment whose analysis failed; else 0 (finished or not)."""
    if record["status"] in FAILED:
        return FAILED_EXIT
    if kind == "experiment" and record["status"] == "succeeded" and record.get("analysis") == "failed":
        return FAILED_EXIT
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        record = client.get(args.id, kind=args.kind)
    print(progress_line(record))
    if record.get("error"):
        print(f"error: {record['error']}")
    if args.kind == "experiment" and record.get("analysis") == "failed":
        print(f"analysis failed: {record.get('analysis_error') or ''}".rstrip(": "))
    return outcome_exit(record, args.kind)


def cmd_wait(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        return show_results(client, wait_with_progress(client, args.id, kind=args.kind), Path(args.dest), kind=args.kind)


def _created(record: dict) -> datetime:
    """When the record was created, for ordering kinds together (ISO 8601, ``Z`` or an offset)."""
    created = datetime.fromisoformat(str(record["created_at"]).replace("Z", "+00:00"))
    return created if created.tzinfo is not None else created.replace(tzinfo=UTC)  # no offset: UTC, as the server writes


def list_every_kind(
    client: LesdeClient, kinds: tuple[str, ...], *, status: str | None, limit: int
) -> tuple[list[tuple[str, dict]], dict[str, int]]:
    """The newest ``limit`` records over ``kinds`` as ``(kind, record)``, newest first, and each kind's count.

    Each kind is asked for its newest ``limit``, so the merged head is the true newest. A kind
    the server does not list (an older gateway: 404) is left out when more than one is asked for.
    """
    rows: list[tuple[str, dict]] = []
    counts: dict[str, int] = {}
    for kind in kinds:
        try:
            page = client.sweeps(status=status, limit=limit) if kind == "sweep" else client.list(kind=kind, status=status, limit=limit)
        except LesdeApiError as error:
            if error.status == 404 and len(kinds) > 1:
                continue
            raise
        counts[kind] = page["count"]
        rows += [(kind, record) for record in page["data"]]
    rows.sort(key=lambda row: _created(row[1]), reverse=True)
    return rows[:limit], counts


def cmd_list(args: argparse.Namespace) -> int:
    kinds = (args.kind,) if args.kind else LIST_KINDS
    with LesdeClient(args.url) as client:
        rows, counts = list_every_kind(client, kinds, status=args.status, limit=args.limit)
    if rows:
        print(aligned_table(
            ["id", "kind", "status", "created", "name"],
            [[record["id"], kind, record["status"], str(record["created_at"])[:19], record.get("name") or ""] for kind, record in rows],
        ))  # fmt: skip
    total = sum(counts.values())
    parts = [f"{count} {PLURALS[kind] if count != 1 else kind.replace('dataset', 'data set')}" for kind, count in counts.items() if count]
    detail = f": {', '.join(parts)}" if len(kinds) > 1 and total else ""
    more = f" (the newest {len(rows)} shown; --limit shows more)" if total > len(rows) else ""
    print(f"{total} in all{detail}{more}")
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


FIGURE_FORMATS = ("png", "svg", "pdf")  # `lesde download --format`: the formats every figure is served in


def download_analysis(client: LesdeClient, job_id: str, folder: Path, *, kind: str, formats: tuple[str, ...]) -> list[Path]:
    """The analysis JSON, the spec and each stored figure in ``formats`` under ``folder`` (figures rendered on
    request, ``<name>@<variant>``, are left out). A format an older result lacks is rendered by the server
    (experiments, sweeps: 202, then 200) or skipped with the server's reason (a simulation's: PNG only)."""
    names = [artifact["name"] for artifact in client.artifacts(job_id, kind=kind)]
    stored = set(names)
    paths = [
        client.download(job_id, name, folder / name, kind=kind) for name in names if name.startswith("analysis/") or name == "spec.json"
    ]
    for name in names:
        if not name.startswith("figures/") or "@" in name or not name.endswith(".png"):
            continue
        stem = name.removesuffix(".png")  # figures/AB, or figures/runs/<options key>/AB
        for fmt in formats:
            target = folder / f"{stem}.{fmt}"
            if f"{stem}.{fmt}" in stored:
                paths.append(client.download(job_id, f"{stem}.{fmt}", target, kind=kind))
                continue
            parts = stem.split("/")
            try:
                data = client.figure(job_id, parts[-1], kind=kind, fmt=fmt, options_key=parts[2] if len(parts) == 4 else None)
            except LesdeApiError as error:
                if error.status != 404:
                    raise
                print(f"skipped {stem}.{fmt}: {error}", file=sys.stderr)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            paths.append(target)
    return paths


def cmd_download(args: argparse.Namespace) -> int:
    with LesdeClient(args.url) as client:
        folder = Path(args.dest) / args.id
        if args.all:
            paths = client.download_results(args.id, folder, kind=args.kind, everything=True)
        else:
            paths = download_analysis(client, args.id, folder, kind=args.kind, formats=tuple(args.formats or ("png",)))
        for path in paths:
            print(path)
    return 0


FILE_FORMATS = ("csv", "npz", "parquet")  # `lesde export`: the server's files of the sampled logits
TRACKER_FORMATS = ("mlflow", "tensorboard")  # `lesde export`: the analysis into an experiment tracker (lesde.exports)
EXPORT_DESCRIPTION = """\
Download an experiment's sampled logits as a file, or send its analysis to an experiment tracker.

formats:
  csv, npz, parquet  the sampled logits the server stores (csv: the authors' layout); SOURCE is an id
  mlflow             one MLflow run: the spec as params; A, B, Gamma, alpha, beta of the I and L models,
                     the drift fit and the eval curves as metrics (step = iteration); the verdict, final
                     accuracy, imitation and tail-index numbers; the verdict as a tag; the figures and
                     summary.json as artifacts (needs `pip install 'lesde[mlflow]'`)
  tensorboard        one TensorBoard run (event file) with the same scalars, the figures as images and the
                     verdict as text, under --logdir (needs `pip install 'lesde[tensorboard]'`)

For mlflow and tensorboard, SOURCE may also be a folder: a result saved with AnalysisResult.save,
or a run recorded with lesde.Recorder (analysed in this process first). The figures need lesde[analysis].
"""


def _export_result(args: argparse.Namespace) -> AnalysisResult:
    """The analysis ``lesde export`` sends to a tracker: a saved result folder, a recorded run
    (analysed here), or an experiment on the server (``--options-key``'s option set)."""
    from lesde.results import AnalysisResult  # lazy: only this command needs it

    folder = Path(args.source)
    if not folder.is_dir() and "/" in args.source:  # ids have no slash: a path that is not there
        raise FileNotFoundError(f"no folder {args.source}")
    if folder.is_dir():
        if (folder / "summary.json").is_file() and (folder / "series.npz").is_file():
            return AnalysisResult.load(folder)
        if (folder / "manifest.json").is_file():
            from lesde.inprocess import analyze  # lazy: the analysis extra, only for a recorded run

            return analyze(folder)
        raise FileNotFoundError(
            f"{folder} holds neither a saved result (summary.json and series.npz, AnalysisResult.save) nor a recorded run (manifest.json)"
        )
    with LesdeClient(args.url) as client:
        return client.result(args.source, options_key=args.options_key)


def _export_to_mlflow(result: AnalysisResult, args: argparse.Namespace) -> None:
    from lesde.exports.mlflow_export import is_file_store, mlflow_ui_command, resolve_tracking_uri, to_mlflow  # lazy: the mlflow extra

    uri = resolve_tracking_uri(args.tracking_uri)
    run_id = to_mlflow(result, tracking_uri=uri, experiment=args.experiment_name)
    print(f"MLflow run {run_id} in experiment {args.experiment_name!r} at {uri}")
    command = mlflow_ui_command(uri)
    print(f"to look at it: {command}  (mlflow ui is in the full package: pip install mlflow)" if command else f"to look at it: open {uri}")
    if is_file_store(uri):
        print(
            "note: MLflow 3 keeps the file store in maintenance mode and opens it only with MLFLOW_ALLOW_FILE_STORE=true "
            "(a tracking server, or --tracking-uri sqlite:///mlflow.db with the full mlflow, avoids it)"
        )


def _export_to_tensorboard(result: AnalysisResult, args: argparse.Namespace) -> None:
    from lesde.exports.tensorboard_export import to_tensorboard  # lazy: the tensorboard extra

    folder = to_tensorboard(result, args.logdir)
    print(f"TensorBoard run {folder.name} written to {folder}")
    print(f"to look at it: tensorboard --logdir {args.logdir}")


def cmd_export(args: argparse.Namespace) -> int:
    if args.format in FILE_FORMATS:
        if Path(args.source).is_dir():
            print(
                f"error: --format {args.format} downloads the sampled logits the server stores, so SOURCE must be an "
                f"experiment id, not a folder ({args.source}); a folder can go to --format mlflow or tensorboard",
                file=sys.stderr,
            )
            return 2
        with LesdeClient(args.url) as client:
            print(client.export(args.source, args.format, Path(args.dest)))
        return 0
    try:
        result = _export_result(args)
        (_export_to_mlflow if args.format == "mlflow" else _export_to_tensorboard)(result, args)
    except ImportError as error:  # an extra not installed: the message names it
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    classes = [name.strip() for name in args.classes.split(",")] if args.classes else None
    source = Path(args.csv)
    with LesdeClient(args.url) as client:
        if source.is_dir():  # a run recorded with lesde.Recorder: its chunks, resumably
            if classes:
                print("error: --classes: a recorded run names its classes itself (spec.json)", file=sys.stderr)
                return 2
            record = client.upload_run(source, name=args.name, on_chunk=lambda sent, total: print(f"\rsent {sent}/{total} chunks", end=""))
            print()
        else:
            record = client.import_csv(source, classes=classes, name=args.name)
        print(f"imported {args.csv} as experiment {record['id']}")
        if args.wait:
            return show_results(client, wait_with_progress(client, record["id"]), Path(args.dest))
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    try:
        options = json.loads(args.options) if args.options else {}
    except json.JSONDecodeError as error:
        print(f"error: --options: not valid JSON: {error}", file=sys.stderr)
        return 2
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


def kind_of(client: LesdeClient, job_id: str, *, first: str | None = None) -> str | None:
    """The kind (:data:`LIST_KINDS`) of the record with id ``job_id``, asking for ``first`` first; None where none has it."""
    for kind in sorted(LIST_KINDS, key=lambda kind: kind != first):  # stable: ``first``, then the others in order
        try:
            client.sweep(job_id) if kind == "sweep" else client.get(job_id, kind=kind)
        except LesdeApiError as error:
            if error.status == 404:
                continue
            raise
        return kind
    return None


# The commands each kind has for an id; another command's id goes to the first one (status or show).
COMMANDS_OF = {
    "experiment": ("status", "wait", "cancel", "delete", "download", "analyze", "export"),
    "simulation": ("status", "wait", "cancel", "delete", "download"),
    "sweep": ("status", "wait", "cancel", "delete", "download", "table", "retry"),
    "dataset": ("show", "delete"),
}


def command_for(kind: str, command: str, job_id: str) -> str:
    """The ``lesde`` command line that does ``command`` (or else shows) to the ``kind`` with id ``job_id``."""
    verb = command if command in COMMANDS_OF[kind] else COMMANDS_OF[kind][0]
    if kind in ("sweep", "dataset"):
        return f"lesde {kind} {verb} {job_id}"
    return f"lesde {verb} {job_id}" + ("" if kind == "experiment" else f" --kind {kind}")


def kind_hint(job_id: str, found: str, asked: str, command: str) -> str:
    """``abc123 is a simulation, not an experiment: lesde status abc123 --kind simulation``"""
    return f"{job_id} is {KIND_WORDS[found]}, not {KIND_WORDS[asked]}: {command_for(found, command, job_id)}"


def nowhere(job_id: str, url: str) -> str:
    return f"no experiment, simulation, sweep or data set has the id {job_id!r} at {url} (`lesde list` lists them)"


def with_kind_hint(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``func`` of a command on one id (``args.id``, ``args.kind``), its 404 looked up in every kind: an id
    of another kind is a usage error (2) naming the command for it; an id of no kind at all exits 1; a 404
    of something under an id that exists (an analysis not made yet) stays the API's error."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except LesdeApiError as error:
            if error.status != 404:
                raise
            asked = getattr(args, "kind", None) or "experiment"
            with LesdeClient(args.url) as client:
                found = kind_of(client, args.id, first=asked)
            if found == asked:
                raise
            hint = kind_hint(args.id, found, asked, args.command) if found else nowhere(args.id, args.url)
            print(f"error: {hint}", file=sys.stderr)
            return USAGE_EXIT if found else FAILED_EXIT

    return run


def _api_command(
    sub: argparse._SubParsersAction,
    name: str,
    func: Callable[[argparse.Namespace], int],
    help_text: str,
    *,
    formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter,
) -> argparse.ArgumentParser:
    """Subcommand ``name`` that talks to the API (``func(args)`` runs it): it takes ``--url`` too."""
    command = sub.add_parser(name, help=help_text, description=help_text[:1].upper() + help_text[1:] + ".", formatter_class=formatter_class)
    add_url_option(command)
    command.set_defaults(func=func)
    return command


def _add_kind(command: argparse.ArgumentParser) -> None:
    command.add_argument("--kind", default="experiment", choices=KINDS, help="what the id names (default: %(default)s)")


def _add_dest(command: argparse.ArgumentParser) -> None:
    command.add_argument("--dest", default=DEFAULT_DEST, metavar="DIR", help="results go to DIR/<id>/ (default: %(default)s)")


def _add_wait(command: argparse.ArgumentParser, what: str) -> None:
    command.add_argument(
        "--wait", action="store_true",
        help=f"draw a progress bar until {what}, then print the summary and save the results (default: off, return at once)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lesde", description="LE-SDE Lab command line: submit specs, watch progress, fetch results.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add_url_option(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="one of:")

    submit = _api_command(sub, "submit", cmd_submit, "submit an experiment spec (JSON file)")
    submit.add_argument("spec", metavar="SPEC.json", help="the ExperimentSpec, e.g. examples/geomnist-small.json")
    _add_wait(submit, "training and analysis are done")
    _add_dest(submit)

    simulate = _api_command(sub, "simulate", cmd_simulate, "submit a simulation of the LE dynamics (or a phase diagram)")
    simulate.add_argument(
        "spec", metavar="SPEC.json",
        help="a SimulationSpec, e.g. examples/simulation-sde.json; a spec with \"base\" and \"grid\" is a phase diagram",
    )  # fmt: skip
    _add_wait(simulate, "it is done")
    _add_dest(simulate)

    for name, func, help_text in (
        ("status", cmd_status, "one job's status and progress"),
        ("cancel", cmd_cancel, "cancel a queued or running job"),
        ("delete", cmd_delete, "delete a job and all its objects"),
    ):
        command = _api_command(sub, name, with_kind_hint(func), help_text, formatter_class=argparse.RawDescriptionHelpFormatter)
        command.add_argument("id", help="the job's id (as `lesde submit` or `lesde list` print it)")
        _add_kind(command)
        if name == "status":
            command.epilog = OUTCOME_EPILOG

    wait = _api_command(
        sub,
        "wait",
        with_kind_hint(cmd_wait),
        "progress bar until done, then the summary",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    wait.epilog = OUTCOME_EPILOG
    wait.add_argument("id", help="the job's id (as `lesde submit` or `lesde list` print it)")
    _add_kind(wait)
    _add_dest(wait)

    listing = _api_command(sub, "list", cmd_list, "list jobs of every kind (experiments, simulations, sweeps, data sets), newest first")
    listing.add_argument(
        "--kind", choices=LIST_KINDS, help="only this kind (default: every kind, each row saying its kind)",
    )  # fmt: skip
    listing.add_argument("--status", choices=STATUSES, help="only jobs in this state (default: any)")
    listing.add_argument("--limit", type=int, default=50, help="at most this many, 1 to 500 (default: %(default)s)")

    download = _api_command(sub, "download", with_kind_hint(cmd_download), "download analysis and figures (--all: every artifact)")
    download.add_argument("id", help="the job's id")
    _add_kind(download)
    _add_dest(download)
    download.add_argument(
        "--all", action="store_true", help="every artifact: chunks, manifest, checkpoints too (default: off, analysis and figures)"
    )
    download.add_argument(
        "--format", dest="formats", action="append", choices=FIGURE_FORMATS,
        help="figure format, repeat for several (e.g. --format svg --format pdf; default: png); with --all: every stored file",
    )  # fmt: skip

    export = _api_command(
        sub, "export", cmd_export, "download an experiment's logits (CSV, NPZ, Parquet) or send its analysis to MLflow or TensorBoard",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    export.description = EXPORT_DESCRIPTION
    export.add_argument(
        "source", metavar="SOURCE",
        help="an experiment's id on the server; for mlflow and tensorboard also a folder: a saved AnalysisResult "
             "(summary.json + series.npz) or a recorded run (manifest.json; analysed here, needs lesde[analysis])",
    )  # fmt: skip
    export.add_argument(
        "--format", default="csv", choices=[*FILE_FORMATS, *TRACKER_FORMATS], help="what to write, see above (default: %(default)s)"
    )
    export.add_argument(
        "--dest",
        default=".",
        metavar="PATH",
        help="csv/npz/parquet: a folder (the file is <id>.<format>) or a file path (default: %(default)s)",
    )
    export.add_argument(
        "--tracking-uri", metavar="URI",
        help="mlflow: where to log, e.g. http://host:5000 or sqlite:///mlflow.db (default: $MLFLOW_TRACKING_URI, else file:./mlruns)",
    )  # fmt: skip
    export.add_argument(
        "--experiment-name",
        default="lesde",
        metavar="NAME",
        help="mlflow: the experiment the run goes into, created if absent (default: %(default)s)",
    )
    export.add_argument(
        "--logdir",
        default="./runs",
        metavar="DIR",
        help="tensorboard: the folder to give `tensorboard --logdir`; the run is DIR/<id> (default: %(default)s)",
    )
    export.add_argument(
        "--options-key", default="default", metavar="KEY",
        help="mlflow/tensorboard from the server: the analysis option set, as `lesde analyze` prints it; a folder has one (default: %(default)s)",
    )  # fmt: skip

    importing = _api_command(
        sub, "import", cmd_import, "upload a CSV in the authors' layout, or a run recorded with lesde.Recorder, as an analysable experiment"
    )
    importing.add_argument(
        "csv", metavar="FILE.csv|RUN",
        help="a CSV with columns trial, itr, smp, y, y_logit0.., tr_loss, val_loss, val_acc; or a Recorder's run folder "
             "(uploaded chunk by chunk; run it again after an interruption and only the missing chunks are sent)",
    )  # fmt: skip
    importing.add_argument("--classes", metavar="A,B,...", help="comma-separated class names in label order (default: 0, 1, ...)")
    importing.add_argument("--name", help="a name to list it by (default: none)")
    _add_wait(importing, "the import and its analysis are done")
    _add_dest(importing)

    analyze = _api_command(
        sub,
        "analyze",
        with_kind_hint(cmd_analyze),
        "re-run an experiment's analysis with options, e.g. --options '{\"savgol_window\": 191}'",
    )
    analyze.add_argument("id", help="the experiment's id")
    analyze.add_argument("--options", metavar="JSON", help="analysis options as a JSON object (default: the defaults, {})")
    analyze.add_argument("--force", action="store_true", help="recompute even if a result with these options exists (default: off)")

    add_sweep_command(sub)
    add_dataset_command(sub)
    add_installed_commands(sub)
    return parser


def no_answer(url: str, error: httpx.TransportError) -> str:
    """``no answer from <url> (<reason>); is the server running? (make up)``"""
    reason = str(error) or type(error).__name__  # a timeout may carry no text
    return f"no answer from {url} ({reason}); is the server running? (make up)"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # A stand-in for an absent launcher command takes any options, to answer with how to install it.
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.func is not launcher_missing:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        args.url = resolve_url(getattr(args, "url", None))
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    try:
        return args.func(args)
    except httpx.UnsupportedProtocol as error:  # a TransportError, but the URL's fault, not the server's
        problem = f"{args.url}: {error}"
    except httpx.TransportError as error:
        print(f"error: {no_answer(args.url, error)}", file=sys.stderr)  # one line, not a traceback
        return NO_ANSWER_EXIT
    except (LesdeApiError, FileNotFoundError) as error:
        problem = str(error)
    except json.JSONDecodeError as error:
        problem = f"the spec is not valid JSON: {error}"
    except KeyboardInterrupt:
        print("stopped (Ctrl-C); a job already submitted goes on: `lesde list` shows it, `lesde wait ID` follows it", file=sys.stderr)
        return 130  # as a shell reports a command ended by SIGINT
    print(f"error: {problem}", file=sys.stderr)  # one line, not a traceback
    return 2


if __name__ == "__main__":
    sys.exit(main())

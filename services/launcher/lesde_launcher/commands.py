"""``lesde up`` and ``lesde demo``: the embedded stack from the ``lesde`` command.

The CLI finds ``add_up`` and ``add_demo`` through this package's ``lesde.commands`` entry
points; each adds its subcommand to the CLI's subparsers.

Both keep their state in one folder (:data:`~lesde_launcher.stack.DEFAULT_STATE_DIR`,
``--state-dir``): the demo's experiment stays in the store that ``lesde up`` serves, so its
dashboard lists it, and the data sets are in one ``data/`` folder. A demo started while
``lesde up`` serves that folder runs its experiment on that stack instead of starting another.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

from lesde.cli import show_results, wait_with_progress
from lesde.client import LesdeClient
from lesde_api.api_keys import KeyConfigError
from lesde_api.bind_rule import OpenBindRefused, check_environment, open_server_notice

from lesde_launcher.stack import DEFAULT_STATE_DIR, EmbeddedStack, PortUnavailable, check_port_free, free_port, running_stack


def access_check(host: str, url: str) -> str | None:
    """The bind rule (:mod:`lesde_api.bind_rule`) before anything starts: an error message,
    or None. An open server is announced on stderr."""
    try:
        keys_configured = check_environment(host)
    except (KeyConfigError, OpenBindRefused) as error:
        return str(error)
    if not keys_configured:
        print(f"warning: {open_server_notice(url)}", file=sys.stderr)
    return None


def preflight(stack: EmbeddedStack) -> str | None:
    """What stops ``stack`` before anything starts: its port unavailable, or the bind rule; None when it may start.

    The port first: an open server's warning is no use for a server that cannot start.
    """
    try:
        check_port_free(stack.host, stack.port)
    except PortUnavailable as error:
        return str(error)
    return access_check(stack.host, stack.url)


def start_or_say_why(stack: EmbeddedStack) -> bool:
    """Start ``stack``; False, with one line on stderr, when its port is unavailable or a service fails to start."""
    try:
        stack.start()
    except RuntimeError as error:  # taken meanwhile (PortUnavailable), a service exited at start, or never ready
        print(f"error: {error}", file=sys.stderr)
        return False
    return True


def cmd_up(args: argparse.Namespace) -> int:
    stack = EmbeddedStack(state_dir=Path(args.state_dir).resolve(), host=args.host, port=args.port)
    serving = running_stack(stack.state_dir)
    if serving:
        print(f"error: a stack already serves {stack.state_dir} on {serving}; use it (LESDE_URL={serving}), "
              "stop it, or give this one another --state-dir", file=sys.stderr)  # fmt: skip
        return 2
    refused = preflight(stack)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    if not start_or_say_why(stack):
        return 2
    print(f"LE-SDE Lab serving on {stack.url} (OpenAPI: {stack.url}/docs); state in {stack.state_dir}. Ctrl-C stops it.")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping and all(process.poll() is None for process in stack.processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0


def unfinished_note(client: LesdeClient) -> str | None:
    """A line on the jobs already queued or running in the store (from an earlier ``lesde up``):
    the trainer takes them first. None when there are none."""
    counts = {
        kind: sum(client.list(kind=kind, status=status, limit=1)["count"] for status in ("queued", "running"))
        for kind in ("experiment", "simulation")
    }  # fmt: skip
    waiting = sum(counts.values())
    if not waiting:
        return None
    return (f"note: {waiting} job(s) from earlier are queued or running in this state folder and go first "
            "(`lesde list --status queued` shows them, `lesde cancel ID` stops one)")  # fmt: skip


def run_demo(url: str, args: argparse.Namespace, spec: dict, *, listed: str) -> int:
    """Submit ``spec`` to the stack at ``url``, follow it, print its summary and save its results;
    ``listed`` says where the dashboard lists the experiment."""
    with LesdeClient(url) as client:
        note = unfinished_note(client)
        if note:
            print(note)
        record = client.submit_experiment(spec)
        print(f"submitted {args.spec} as experiment {record['id']} ({listed})")
        return show_results(client, wait_with_progress(client, record["id"]), Path(args.dest))


def cmd_demo(args: argparse.Namespace) -> int:
    """Run one experiment end to end on the embedded stack: the one serving ``--state-dir`` if
    ``lesde up`` runs, else one started on a free port and stopped after."""
    state = Path(args.state_dir).resolve()
    spec = json.loads(Path(args.spec).read_text())  # a missing or malformed spec stops it before anything starts
    serving = running_stack(state)
    if serving:
        print(f"using the stack `lesde up` serves on {serving} (state in {state})")
        return run_demo(serving, args, spec, listed=f"its dashboard lists it: {serving}/")
    stack = EmbeddedStack(state_dir=state, host="127.0.0.1", port=args.port or free_port())
    refused = preflight(stack)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    print(f"starting the embedded stack (API, trainer, analyzer; state in {state}, logs in {state / 'logs'}) ...")
    if not start_or_say_why(stack):
        return 2
    try:
        listed = f"kept in {state}: the dashboard of `lesde up --state-dir {args.state_dir}` lists it"
        if Path(args.state_dir).resolve() == Path(DEFAULT_STATE_DIR).resolve():
            listed = f"kept in {state}: the dashboard of `make up` lists it"
        return run_demo(stack.url, args, spec, listed=listed)
    finally:
        stack.stop()


def add_up(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser(
        "up", help="run the embedded stack (no Docker) until Ctrl-C",
        description="Run the API, both workers and the reaper on this machine until Ctrl-C; refuses a port already in use.",
    )  # fmt: skip
    up.add_argument(
        "--host", default="127.0.0.1",
        help="address to serve (default: %(default)s); any other than loopback needs API keys or LESDE_ALLOW_ANONYMOUS=1",
    )  # fmt: skip
    up.add_argument("--port", type=int, default=8000, help="TCP port of the API; must be free (default: %(default)s)")
    up.add_argument(
        "--state-dir", default=DEFAULT_STATE_DIR, metavar="DIR",
        help="store, broker, data sets (data/, unless LESDE_DATA_DIR is set) and logs; `lesde demo` uses the same (default: %(default)s)",
    )  # fmt: skip
    up.set_defaults(func=cmd_up)


def add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo", help="embedded stack + one experiment end to end",
        description="Start the embedded stack, run one experiment to its summary and figures, stop.",
    )  # fmt: skip
    demo.add_argument(
        "spec", nargs="?", default="examples/geomnist-small.json", metavar="SPEC.json",
        help="the ExperimentSpec to run (default: %(default)s)",
    )  # fmt: skip
    demo.add_argument(
        "--state-dir", default=DEFAULT_STATE_DIR, metavar="DIR",
        help="store, broker, data sets and logs, kept after the demo: the same as `lesde up`'s, so its dashboard lists the "
             "demo's experiment; if `lesde up` serves it now, the demo runs there (default: %(default)s)",
    )  # fmt: skip
    demo.add_argument("--dest", default="lesde-results", metavar="DIR", help="results go to DIR/<id>/ (default: %(default)s)")
    demo.add_argument("--port", type=int, default=0, help="TCP port of the API; must be free (default: 0, any free port)")
    demo.add_argument(
        "--keep", action="store_true",
        help="accepted for older scripts and ignored: the state in --state-dir is always kept now, `make clean` removes it (default: off)",
    )  # fmt: skip
    demo.set_defaults(func=cmd_demo)

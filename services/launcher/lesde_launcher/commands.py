"""``lesde up`` and ``lesde demo``: the embedded stack from the ``lesde`` command.

The CLI finds ``add_up`` and ``add_demo`` through this package's ``lesde.commands`` entry
points; each adds its subcommand to the CLI's subparsers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import time
from pathlib import Path

from lesde.cli import show_results, wait_with_progress
from lesde.client import LesdeClient
from lesde_api.api_keys import KeyConfigError
from lesde_api.bind_rule import OpenBindRefused, check_environment, open_server_notice
from lesde_launcher.stack import EmbeddedStack, PortUnavailable, check_port_free, free_port


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


def cmd_demo(args: argparse.Namespace) -> int:
    """Start the embedded stack on a free port, run one experiment end to end, stop."""
    state = Path(args.state_dir).resolve()
    if state.exists() and not args.keep:
        shutil.rmtree(state)
    stack = EmbeddedStack(state_dir=state, host="127.0.0.1", port=args.port or free_port())
    refused = preflight(stack)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    spec = json.loads(Path(args.spec).read_text())  # a missing or malformed spec stops it before anything starts
    print(f"starting the embedded stack (API, trainer, analyzer; logs in {state / 'logs'}) ...")
    if not start_or_say_why(stack):
        return 2
    try:
        with LesdeClient(stack.url) as client:
            record = client.submit_experiment(spec)
            print(f"submitted {args.spec} as experiment {record['id']}")
            return show_results(client, wait_with_progress(client, record["id"]), Path(args.dest))
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
    up.add_argument("--state-dir", default=".lesde/stack", metavar="DIR", help="store, broker and logs live here (default: %(default)s)")
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
    demo.add_argument("--state-dir", default=".lesde/demo", metavar="DIR", help="store, broker and logs of the demo (default: %(default)s)")
    demo.add_argument("--dest", default="lesde-results", metavar="DIR", help="results go to DIR/<id>/ (default: %(default)s)")
    demo.add_argument("--port", type=int, default=0, help="TCP port of the API; must be free (default: 0, any free port)")
    demo.add_argument("--keep", action="store_true", help="keep earlier demo state in --state-dir (default: off, start afresh)")
    demo.set_defaults(func=cmd_demo)

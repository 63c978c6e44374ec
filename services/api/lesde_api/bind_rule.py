"""An open gateway (no API keys) serves loopback only, unless the operator says otherwise.

Checked twice: by the launcher before it starts anything (``lesde up --host``), and by the
gateway itself at startup from ``LESDE_BIND_HOST`` (the launcher sets it to the address it
passes uvicorn; set it wherever uvicorn is started by hand, as uvicorn does not tell the
application where it listens).
"""

from __future__ import annotations

import ipaddress

from lesde.settings import AuthSettings
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
    return (
        f"no API keys are set (LESDE_API_KEYS, LESDE_API_KEYS_FILE): {url} is open, every caller is the default owner "
        "and sees every job"
    )

"""The API's URL for the ``lesde`` command: ``--url`` before or after the subcommand, else
``LESDE_URL``, else ``http://127.0.0.1:8000``.

Both places parse into ``args.url``. The subcommand's option defaults to "not given"
(``argparse.SUPPRESS``) so that it cannot overwrite a top-level ``--url`` with a default,
and the environment is read when the command runs, not when this module is imported.
"""

from __future__ import annotations

import argparse
import os
from urllib.parse import urlsplit

DEFAULT_URL = "http://127.0.0.1:8000"
URL_ENV = "LESDE_URL"
URL_HELP = f"the API's base URL (default: ${URL_ENV}, else {DEFAULT_URL}); accepted before or after the subcommand"


def check_url(text: str) -> str:
    """``text`` if it is an http(s) URL with a host, else an error naming what it must look like."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL with a host, e.g. {DEFAULT_URL}")
    return text.strip().rstrip("/")


def add_url_option(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """``--url URL`` on ``parser``; only the top level's parse leaves ``args.url`` (None) when it is absent."""
    parser.add_argument(
        "--url", type=check_url, metavar="URL", help=URL_HELP, default=None if top_level else argparse.SUPPRESS,
    )  # fmt: skip


def resolve_url(given: str | None) -> str:
    """The command line's URL, else ``LESDE_URL``'s (checked like ``--url``), else :data:`DEFAULT_URL`.

    Raises ``argparse.ArgumentTypeError`` for a malformed ``LESDE_URL``, naming the variable.
    """
    if given:
        return given
    from_env = os.environ.get(URL_ENV, "").strip()
    if not from_env:
        return DEFAULT_URL
    try:
        return check_url(from_env)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{URL_ENV}: {error}") from None

"""``lesde keys add OWNER``: make a new API key and append its hash to the key file.

The key is printed once, on stdout alone (so ``KEY=$(lesde keys add ada)`` works); the
file keeps only ``OWNER:sha256-hex`` (:mod:`lesde_api.api_keys`), and a running gateway
reads the new line at its next request. Rotation: add a key, hand it out, then delete the
old line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lesde_api.api_keys import KeyConfigError, check_owner, key_digest, new_key

DEFAULT_KEY_FILE = ".lesde/api-keys"


def key_file_of(args: argparse.Namespace) -> Path:
    """``--file``, else ``LESDE_API_KEYS_FILE``, else ``.lesde/api-keys``."""
    return Path(args.file or os.environ.get("LESDE_API_KEYS_FILE") or DEFAULT_KEY_FILE)


def append_key(path: Path, owner: str) -> str:
    """Append a new key of ``owner`` to ``path`` (created readable by its owner only); return the key."""
    check_owner(owner, "OWNER")
    key = new_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        if handle.tell() and not path.read_bytes().endswith(b"\n"):
            handle.write("\n")  # a file edited by hand may lack its last newline
        handle.write(f"{owner}:{key_digest(key)}\n")
    return key


def cmd_keys_add(args: argparse.Namespace) -> int:
    path = key_file_of(args)
    try:
        key = append_key(path, args.owner)
    except KeyConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(key)
    print(
        f"appended the hash of a new key for {args.owner!r} to {path}; the key above is shown only now. "
        f"The gateway uses the file when started with LESDE_API_KEYS_FILE={path.resolve()}; "
        "clients send the key as LESDE_API_KEY (or Authorization: Bearer <key>).",
        file=sys.stderr,
    )
    return 0


def add_keys(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="manage the gateway's API keys")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    add = actions.add_parser("add", help="print a new key for OWNER and append its hash to the key file")
    add.add_argument("owner", help="who the key acts as (letters, digits, '_', '.', '@', '-'; at most 100)")
    add.add_argument("--file", help=f"the key file (default: $LESDE_API_KEYS_FILE, else {DEFAULT_KEY_FILE})")
    add.set_defaults(func=cmd_keys_add)

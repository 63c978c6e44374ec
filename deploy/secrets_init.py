"""Generate the stack's secrets at its first start: the compose one-shot ``secrets-init``.

It writes random secrets into ``SECRETS_DIR`` (the volume ``secrets``, which every other
service mounts read-only at the same path and reads through ``*_FILE`` variables), one file
per secret, and only where the file is missing or empty: a later ``docker compose up`` keeps
every secret as it is. The files:

=====================  =====  ===========================================================
minio-root-user        0600   MinIO's root pair: only the server and minio-setup read them
minio-root-password    0600   (both run as root)
s3-access-key          0640   the services' own MinIO user, created by minio-setup; group
s3-secret-key          0640   ``SECRETS_GID``, the ``lesde`` user (uid and gid 1000) of our images
api-key                0600   the gateway's key for the owner ``admin``, printed once when made
api-keys               0640   ``admin:<sha256 of the key>``: LESDE_API_KEYS_FILE's format
=====================  =====  ===========================================================

``api-keys`` is derived, rewritten on every run: the ``admin`` line, or no key at all while
``.env`` sets the gateway's keys itself (``API_KEYS_FROM_ENV`` names the variables it sets:
compose passes ``${LESDE_API_KEYS:+LESDE_API_KEYS}...``, never the keys). Deleting ``api-key``
and starting again makes a new key (rotation); the gateway re-reads ``api-keys`` on change.

Every other secret set in ``.env`` is used instead of its file by whoever reads it (our
settings and minio-setup take a variable that is set before its ``_FILE``; MinIO is given only
one of the two): the generated file then simply goes unused.

Environment: ``SECRETS_DIR`` (default /run/lesde-secrets), ``SECRETS_GID`` (default 1000; the
group is set only when this runs as root, as in compose), ``API_KEYS_FROM_ENV``. Exit status 2
when the folder cannot be written. Standard library only: it runs in the pinned
python:3.11.13-slim-bookworm image that our Dockerfiles build on.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

DEFAULT_DIR = "/run/lesde-secrets"
DEFAULT_GID = 1000  # `useradd --uid 1000 lesde` in deploy/*.Dockerfile: its group is 1000 too
API_KEY_OWNER = "admin"
ROOT_ONLY = 0o600
SERVICES = 0o640
DIR_MODE = 0o750

# Letters and digits only: a secret that starts with '-' would read as an option to `mc`, and
# none needs quoting in a shell or a URL. 40 characters (MinIO's longest secret key) of 62
# symbols: 238 bits. MinIO's access keys are 3 to 20 characters.
ALPHABET = string.ascii_letters + string.digits


def random_text(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _hex_name(prefix: str) -> Callable[[], str]:
    return lambda: prefix + secrets.token_hex(6)  # 12 hex digits: 17 or 18 characters in all


# name -> (mode, how to make one)
GENERATED: dict[str, tuple[int, Callable[[], str]]] = {
    "minio-root-user": (ROOT_ONLY, _hex_name("root-")),
    "minio-root-password": (ROOT_ONLY, lambda: random_text(40)),
    "s3-access-key": (SERVICES, _hex_name("lesde-")),
    "s3-secret-key": (SERVICES, lambda: random_text(40)),
    "api-key": (ROOT_ONLY, lambda: random_text(43)),
}
API_KEYS = "api-keys"  # derived from api-key
API_KEYS_MODE = SERVICES


def read_secret(path: Path) -> str | None:
    """The secret in ``path``, stripped; None when the file is missing or empty."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def secure(path: Path, mode: int, gid: int | None) -> None:
    """Give ``path`` its mode and, when running as root, the owner root and group ``gid``."""
    if gid is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(path, 0, gid if mode & 0o070 else 0)
    os.chmod(path, mode)


def _staged(folder: Path, name: str, text: str, mode: int, gid: int | None) -> Path:
    """A temporary file in ``folder`` holding ``text``, already with its final mode."""
    temporary = folder / f".{name}.{secrets.token_hex(4)}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    secure(temporary, mode, gid)
    return temporary


def create(folder: Path, name: str, text: str, mode: int, gid: int | None) -> None:
    """Write ``name`` whole or not at all (a crash never leaves half a secret behind)."""
    temporary = _staged(folder, name, text, mode, gid)
    try:
        os.replace(temporary, folder / name)
    finally:
        temporary.unlink(missing_ok=True)


def api_keys_text(api_key: str, keys_from_env: str) -> str:
    header = "# Written by secrets-init (deploy/secrets_init.py) on every start; edits are lost."
    if keys_from_env:
        return f"{header}\n# No key: .env sets {keys_from_env}, the gateway's keys instead of the generated one."
    digest = hashlib.sha256(api_key.encode("utf-8")).hexdigest()
    return f"{header}\n# The generated key of {API_KEY_OWNER} (its plain text: api-key, readable by root only).\n{API_KEY_OWNER}:{digest}"


def generate(folder: Path, gid: int | None, keys_from_env: str, out: TextIO) -> list[str]:
    """Make what is missing in ``folder``; the names of the files made, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    secure(folder, DIR_MODE, gid)
    made = []
    for name, (mode, make) in GENERATED.items():
        path = folder / name
        if read_secret(path) is None:
            create(folder, name, make(), mode, gid)
            made.append(name)
        else:
            secure(path, mode, gid)  # kept as it is; only its mode and group are made right
    api_key = read_secret(folder / "api-key")
    assert api_key is not None
    wanted = api_keys_text(api_key, keys_from_env)
    if read_secret(folder / API_KEYS) != wanted.strip():
        create(folder, API_KEYS, wanted, API_KEYS_MODE, gid)
    else:
        secure(folder / API_KEYS, API_KEYS_MODE, gid)

    if made:
        print(f"secrets-init: generated {', '.join(made)} in {folder}; later starts keep them", file=out)
    else:
        print(f"secrets-init: kept the secrets in {folder} (nothing generated)", file=out)
    if keys_from_env:
        print(f"secrets-init: .env sets {keys_from_env}: the gateway takes its keys from there, not the generated one", file=out)
    elif "api-key" in made:
        print(f"secrets-init: the gateway's API key for the owner {API_KEY_OWNER} (shown this once):", file=out)
        print(f"    {api_key}", file=out)
    if not keys_from_env:
        print(f"secrets-init: read it again with: docker compose run --rm secrets-init cat {folder}/api-key", file=out)
    return made


def main(environ: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    folder = Path(environ.get("SECRETS_DIR") or DEFAULT_DIR)
    try:
        gid = int(environ.get("SECRETS_GID") or DEFAULT_GID)
    except ValueError:
        print(f"secrets-init: SECRETS_GID={environ.get('SECRETS_GID')!r} is not a group id", file=sys.stderr)
        return 2
    keys_from_env = " and ".join((environ.get("API_KEYS_FROM_ENV") or "").split())
    try:
        generate(folder, gid, keys_from_env, out)
    except OSError as error:
        print(f"secrets-init: cannot write the secrets in {folder}: {error}", file=sys.stderr)
        return 2
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

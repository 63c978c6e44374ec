"""API keys: who owns a presented key, compared in constant time.

Two sources, both optional (:class:`lesde_runtime.settings.AuthSettings`):

- ``LESDE_API_KEYS``: ``owner=key,owner2=key2`` (the keys themselves; for quick set-ups);
- ``LESDE_API_KEYS_FILE``: one ``owner:sha256-hex-of-key`` line per key (``#`` comments and
  blank lines allowed; ``lesde keys add OWNER`` appends one). Only hashes are stored, and the
  file is re-read when it changes, so a key is added or revoked without a restart.

An owner may hold several keys (rotation: add the new one, then remove the old); one key
may not name two owners. A malformed source refuses to load, naming the line.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from lesde_runtime.settings import AuthSettings

log = logging.getLogger(__name__)

OWNER_PATTERN = re.compile(r"^[\w.@-]{1,100}$", re.ASCII)
OWNER_RULE = "1 to 100 characters among letters, digits, '_', '.', '@' and '-'"
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")
KEY_BYTES = 32  # of randomness in a new key (43 URL-safe characters)


class KeyConfigError(ValueError):
    """A key source that cannot be used (names the setting and the line)."""


@dataclass(frozen=True)
class KeyEntry:
    owner: str
    digest: bytes  # sha256 of the key, 32 bytes


def key_digest(key: str) -> str:
    """The sha256 hex digest of ``key`` (what the key file stores)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key."""
    return secrets.token_urlsafe(KEY_BYTES)


def check_owner(owner: str, where: str) -> str:
    if not OWNER_PATTERN.match(owner):
        raise KeyConfigError(f"{where}: owner {owner!r} is not allowed; an owner is {OWNER_RULE}")
    return owner


def parse_inline(text: str) -> list[KeyEntry]:
    """Entries of ``LESDE_API_KEYS`` (``owner=key`` pairs separated by commas)."""
    entries = []
    for position, pair in enumerate((part.strip() for part in text.split(",")), start=1):
        if not pair:
            continue
        owner, separator, key = pair.partition("=")
        where = f"LESDE_API_KEYS pair {position}"
        if not separator or not key.strip():
            raise KeyConfigError(f"{where}: expected owner=key")
        entries.append(KeyEntry(check_owner(owner.strip(), where), bytes.fromhex(key_digest(key.strip()))))
    return entries


def parse_file(text: str, source: Path) -> list[KeyEntry]:
    """Entries of a key file (``owner:sha256-hex`` lines)."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        owner, separator, digest = line.partition(":")
        where = f"{source} line {number}"
        digest = digest.strip().lower()
        if not separator or not _HEX_DIGEST.match(digest):
            raise KeyConfigError(f"{where}: expected owner:sha256-hex-of-key (64 hex digits)")
        entries.append(KeyEntry(check_owner(owner.strip(), where), bytes.fromhex(digest)))
    return entries


def _one_owner_per_key(entries: list[KeyEntry]) -> list[KeyEntry]:
    owners: dict[bytes, str] = {}
    for entry in entries:
        if owners.setdefault(entry.digest, entry.owner) != entry.owner:
            raise KeyConfigError(f"one key is configured for two owners ({owners[entry.digest]!r} and {entry.owner!r})")
    return entries


class KeyRing:
    """The configured keys; :meth:`owner_of` answers who holds a presented key.

    ``configured`` is whether any source is set (then every ``/v1`` request needs a key,
    even while the sources hold none). The file's entries follow its changes: a change
    that does not parse keeps the previous entries and is logged, so a half-written edit
    never opens or closes the server.
    """

    def __init__(self, inline: str | None, key_file: Path | None) -> None:
        self.configured = bool(inline) or key_file is not None
        self._inline = _one_owner_per_key(parse_inline(inline)) if inline else []
        self._file = key_file
        self._file_entries: list[KeyEntry] = []
        self._file_version: tuple[int, int] | None = None
        if key_file is not None:
            if not key_file.is_file():
                raise KeyConfigError(f"LESDE_API_KEYS_FILE: {key_file} is not a file (`lesde keys add OWNER` creates it)")
            self._reload_file(strict=True)

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> KeyRing:
        inline = settings.api_keys.get_secret_value() if settings.api_keys is not None else None
        return cls(inline, settings.api_keys_file)

    def owner_of(self, presented: str | None) -> str | None:
        """The owner of ``presented``, or None. Every entry is compared (no early exit), each
        with :func:`hmac.compare_digest` on sha256 digests, so timing tells nothing of a key."""
        if self._file is not None:
            self._reload_file(strict=False)
        if not presented:
            return None
        digest = hashlib.sha256(presented.encode("utf-8", "surrogateescape")).digest()
        found = None
        for entry in self._inline + self._file_entries:
            if hmac.compare_digest(entry.digest, digest):
                found = entry.owner
        return found

    def _reload_file(self, *, strict: bool) -> None:
        assert self._file is not None
        version = None
        try:
            stat = self._file.stat()
            version = (stat.st_mtime_ns, stat.st_size)
            if version == self._file_version:
                return
            entries = _one_owner_per_key(self._inline + parse_file(self._file.read_text(encoding="utf-8"), self._file))
        except (OSError, UnicodeDecodeError, KeyConfigError) as error:
            if strict:
                raise KeyConfigError(f"LESDE_API_KEYS_FILE: {error}") from error
            version = version or (-1, -1)  # a missing file counts as one version: logged once until it changes
            if version != self._file_version:
                log.error("API key file not reloaded, previous keys kept: %s", error)
            self._file_version = version
            return
        self._file_entries = entries[len(self._inline) :]
        self._file_version = version

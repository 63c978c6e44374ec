"""Secrets read from files: ``LESDE_<FIELD>_FILE`` names a file that holds ``LESDE_<FIELD>``.

The Docker convention (MinIO's ``MINIO_ROOT_PASSWORD_FILE``, Postgres' ``POSTGRES_PASSWORD_FILE``):
compose mounts a volume of generated secrets (the one-shot ``secrets-init``) and gives each
service the path of its file instead of the secret in its environment. A settings class
opts in field by field, in one line of its body::

    class StoreSettings(BaseSettings):
        _secret_files = secrets_from_files("s3_access_key", "s3_secret_key")

Precedence, per field: a value given directly wins (``LESDE_<FIELD>`` set and non-empty, or
passed to the constructor), and its file is not read; else the file ``LESDE_<FIELD>_FILE``
names is read (surrounding whitespace, such as the trailing newline, stripped); else the
field stays unset as before. An empty ``LESDE_<FIELD>`` counts as unset, because compose
passes ``${LESDE_<FIELD>:-}`` when ``.env`` does not set it. A ``_FILE`` whose file is missing,
unreadable or empty raises :class:`SecretFileError` naming the variable and the path: never
silently "no secret". It is not a ``ValueError`` on purpose: pydantic would wrap that in a
``ValidationError`` that prints every raw input of the class, secrets given directly included.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import model_validator

FILE_SUFFIX = "_FILE"
_FIELDS_ATTRIBUTE = "__lesde_secret_file_fields__"


class SecretFileError(RuntimeError):
    """A ``LESDE_<FIELD>_FILE`` that names no readable, non-empty file."""


def file_variable(cls: type, field: str) -> str:
    """``LESDE_<FIELD>_FILE`` for ``field`` of the settings class ``cls`` (its ``env_prefix``)."""
    prefix = cls.model_config.get("env_prefix", "")  # type: ignore[attr-defined]
    return f"{prefix}{field}{FILE_SUFFIX}".upper()


def read_secret_file(variable: str, path: str) -> str:
    """The secret in ``path`` (named by ``variable``), stripped; an error names both when it cannot be had."""
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise SecretFileError(f"{variable}={path}: cannot read the secret file ({reason})") from error
    if not value:
        raise SecretFileError(f"{variable}={path}: the secret file is empty")
    return value


def fill_from_files(cls: type, data: Any, fields: tuple[str, ...], environ: Any = None) -> Any:
    """``data`` (the raw values a settings class is about to validate) with each of ``fields``
    that has no value taken from the file its ``LESDE_<FIELD>_FILE`` names, where that is set."""
    if not isinstance(data, dict):
        return data
    environ = os.environ if environ is None else environ
    filled = dict(data)
    for field in fields:
        current = filled.get(field)
        if current is not None and current != "":
            continue  # set directly: it wins, the file is not read
        variable = file_variable(cls, field)
        path = environ.get(variable, "")
        if path:
            filled[field] = read_secret_file(variable, path)
    return filled


def secrets_from_files(*fields: str) -> Any:
    """A ``model_validator(mode="before")`` that reads ``fields`` from their ``LESDE_<FIELD>_FILE``
    when they are not set directly; assign it to any name in a settings class' body."""

    def read_files(cls: type, data: Any) -> Any:
        return fill_from_files(cls, data, fields)

    setattr(read_files, _FIELDS_ATTRIBUTE, fields)
    return model_validator(mode="before")(read_files)


def secret_file_fields(cls: type) -> tuple[str, ...]:
    """The fields of ``cls`` that :func:`secrets_from_files` lets come from a file (for tests and docs)."""
    found: list[str] = []
    decorators = getattr(cls, "__pydantic_decorators__", None)
    for decorator in decorators.model_validators.values() if decorators else ():
        function = getattr(decorator.func, "__func__", decorator.func)
        found += getattr(function, _FIELDS_ATTRIBUTE, ())
    return tuple(found)

"""Structured logs: one JSON object per line (or a readable line), with the job's fields bound.

Every process (gateway, workers, reaper) calls :func:`configure_logging` once; it installs
one handler on the root logger, at ``LESDE_LOG_LEVEL``, formatting as ``LESDE_LOG_FORMAT``
says. While a job's task runs, the worker binds ``job_id``, ``kind`` and ``task_id``
(:func:`bound`); the gateway binds ``job_id`` and ``kind`` while it answers a request
about one job. They live in a context variable, so they follow the code that runs the job
(its thread, its ``await`` chain) and nothing else, and :class:`ContextFilter`, attached to
each handler, copies them onto every record that handler sees. A filter on a handler, not
a logger: a logger's filter sees only the records logged on that very logger, not those
propagated from its children.

A JSON line::

    {"time": "2026-01-02T03:04:05.678Z", "level": "INFO", "logger": "lesde_trainer.training_job",
     "message": "experiment ab12... resumes at iteration 500", "service": "trainer",
     "job_id": "ab12...", "kind": "experiment", "task_id": "5f0c..."}

plus ``exception`` (the formatted traceback) when one is logged, and any ``extra={...}``
fields the caller passed.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType

from lesde_runtime.settings import LogFormat, ObservabilitySettings

__all__ = ["ContextFilter", "JsonFormatter", "TextFormatter", "bind", "bound", "bound_fields", "configure_logging", "unbind"]

# The fields a job binds, in the order a text line shows them.
JOB_FIELDS = ("job_id", "kind", "task_id")

_bound: ContextVar[Mapping[str, str]] = ContextVar("lesde_log_fields", default=MappingProxyType({}))

# Every attribute a bare LogRecord has: anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_HANDLER_MARK = "_lesde_root_handler"
# Servers that install their own handlers (uvicorn), whose lines should read as ours in JSON.
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def bound_fields() -> dict[str, str]:
    """The fields bound in the current context."""
    return dict(_bound.get())


def bind(**fields: str | None) -> Token:
    """Bind ``fields`` (None values are skipped) until :func:`unbind` of the token, in the
    same context: for code that starts and ends in two calls (Celery's task signals)."""
    return _bound.set({**_bound.get(), **{name: str(value) for name, value in fields.items() if value is not None}})


def unbind(token: Token) -> None:
    _bound.reset(token)


@contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Bind ``fields`` (None values are skipped) onto every line logged inside the block."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


class ContextFilter(logging.Filter):
    """Copies the bound fields onto each record (a field the caller set with ``extra=`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _bound.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def _iso_time(created: float) -> str:
    """``2026-01-02T03:04:05.678Z``: UTC, milliseconds."""
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json_value(value: object) -> object:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, service, the bound fields,
    ``exception`` when one is logged, and the caller's ``extra`` fields."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": _iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_"):
                line[name] = _json_value(value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, allow_nan=True)


class TextFormatter(logging.Formatter):
    """``2026-01-02 03:04:05,678 INFO lesde_trainer.training_job [job_id=... kind=... task_id=...]: message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(job_context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = [f"{name}={getattr(record, name)}" for name in JOB_FIELDS if getattr(record, name, None) is not None]
        vars(record)["job_context"] = f" [{' '.join(fields)}]" if fields else ""  # %(job_context)s of the format
        try:
            return super().format(record)
        finally:
            del vars(record)["job_context"]  # not an extra field for the next handler's JSON


def make_formatter(service: str, log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter(service) if log_format is LogFormat.json else TextFormatter()


def configure_logging(service: str, settings: ObservabilitySettings | None = None) -> logging.Handler:
    """Send every record at ``LESDE_LOG_LEVEL`` or above to stderr, formatted as
    ``LESDE_LOG_FORMAT`` says, with the bound fields. Idempotent: a second call replaces the
    handler the first installed. In JSON, uvicorn's loggers are routed to it too, so that
    every line of the process parses. Returns the handler."""
    settings = settings or ObservabilitySettings()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(make_formatter(service, settings.log_format))
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(settings.log_level.value)
    if settings.log_format is LogFormat.json:
        for name in _SERVER_LOGGERS:
            server_logger = logging.getLogger(name)
            server_logger.handlers.clear()
            server_logger.propagate = True
    return handler

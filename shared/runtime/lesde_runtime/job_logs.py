"""A job's own log lines, kept in the store beside its status: written by the worker while
its task runs, served by ``GET /v1/{kind}s/{id}/logs``.

Each task run that logs anything writes one object, ``<kind>s/<id>/logs/<start>-<worker>.jsonl``
(:func:`lesde_contract.object_keys.job_log_key`): JSON lines as :class:`lesde_runtime.logs.JsonFormatter` writes
them. Object stores do not append, so the run's object is rewritten whole: every
``FLUSH_SECONDS`` while new lines wait (a background thread, so the job never waits on it)
and once more when the task ends. The start time leads the name, so names sort in time.

Bounded: a run keeps its last ``MAX_LINES`` lines within ``MAX_BYTES`` (older ones are
dropped and a note says how many), a line longer than ``MAX_LINE_CHARS`` is cut, and a job
keeps its newest ``MAX_RUNS`` runs (a run's first write deletes the older ones): at most
``MAX_RUNS`` x ``MAX_BYTES`` per job.

Which lines: those logged in the task's own context (:func:`lesde_runtime.logs.bound`) with this
job's id, at ``LESDE_LOG_LEVEL`` or above. A thread the job starts without copying its
context (the lease heartbeat) logs to the process's stream only. A write that fails
(store down) is logged and retried at the next flush; it never fails the job. A job
deleted meanwhile is written no more (:func:`lesde_runtime.tombstones.guarded_write`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import deque
from datetime import UTC, datetime

from lesde_contract import object_keys
from lesde_contract.object_store import ObjectNotFound, ObjectStore

from lesde_runtime.logs import ContextFilter, JsonFormatter
from lesde_runtime.tombstones import JobDeleted, guarded_write

log = logging.getLogger(__name__)

__all__ = ["JobLogHandler", "read_job_logs", "segment_name"]

MAX_LINES = 2_000
MAX_BYTES = 1 << 20
MAX_LINE_CHARS = 16_384
MAX_RUNS = 8
FLUSH_SECONDS = 3.0
_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]+")


def segment_name(worker: str, started: datetime) -> str:
    """``20260102T030405.678901Z-trainer@host``: UTC start first (names sort in time), then the
    worker's name made safe as one key segment."""
    worker = _UNSAFE.sub("_", worker)[:64] or "worker"
    return f"{started.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%fZ')}-{worker}"


class JobLogHandler(logging.Handler):
    """Collects the lines of one job's task run and keeps them in the store (see the module).

    Attach it to the root logger when the task starts and :meth:`close` it when it ends.
    """

    def __init__(
        self,
        store: ObjectStore,
        kind: str,
        job_id: str,
        *,
        service: str,
        segment: str,
        level: int | str = logging.NOTSET,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        super().__init__(level)
        self.store, self.kind, self.job_id = store, kind, job_id
        self.key = object_keys.job_log_key(kind, job_id, segment)
        self.setFormatter(JsonFormatter(service))
        self.addFilter(ContextFilter())
        self._lines: deque[str] = deque()
        self._bytes = 0
        self._dropped = 0
        self._dirty = False
        self._first_write = True
        self._stopped = False  # the job was deleted: write nothing more
        self._write_lock = threading.Lock()  # one write at a time (the flusher thread and close)
        self._wake = threading.Event()
        self._flusher = threading.Thread(target=self._flush_periodically, args=(flush_seconds,), daemon=True, name="job-log-flush")
        self._flusher.start()

    def _lines_lock(self) -> threading.RLock:
        """The handler's own lock (``Handler.__init__`` makes it; logging holds it around ``emit``),
        which also guards the lines against the flusher thread."""
        if self.lock is None:
            raise RuntimeError("JobLogHandler: logging.Handler.__init__ did not create the handler's lock")
        return self.lock

    # -- collecting (any thread that logs) ------------------------------------------------
    def filter(self, record: logging.LogRecord) -> bool:
        # The context filter first (it sets job_id), then: this job's lines only.
        return bool(super().filter(record)) and getattr(record, "job_id", None) == self.job_id

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            if len(line) > MAX_LINE_CHARS:
                line = self._cut(record)
        except Exception:  # noqa: BLE001 - logging must not raise into the job
            self.handleError(record)
            return
        with self._lines_lock():
            self._lines.append(line)
            self._bytes += len(line.encode()) + 1
            while len(self._lines) > MAX_LINES or (self._bytes > MAX_BYTES and len(self._lines) > 1):
                self._bytes -= len(self._lines.popleft().encode()) + 1
                self._dropped += 1
            self._dirty = True

    def _cut(self, record: logging.LogRecord) -> str:
        line = json.loads(self.format(record))
        for name in ("message", "exception", "stack"):
            if isinstance(line.get(name), str) and len(line[name]) > MAX_LINE_CHARS // 4:
                line[name] = line[name][: MAX_LINE_CHARS // 4] + " ... (cut)"
        return json.dumps(line, ensure_ascii=False)

    # -- writing ------------------------------------------------------------------------
    def _body(self) -> bytes | None:
        with self._lines_lock():
            if not self._dirty:
                return None
            self._dirty = False
            lines = list(self._lines)
            if self._dropped:
                note = {
                    "time": json.loads(lines[0]).get("time", ""),
                    "level": "WARNING",
                    "logger": __name__,
                    "message": f"{self._dropped} earlier lines of this run were dropped "
                    f"(a run keeps its last {MAX_LINES} lines, {MAX_BYTES} bytes)",
                    "job_id": self.job_id,
                    "kind": self.kind,
                }
                lines.insert(0, json.dumps(note))
        return ("\n".join(lines) + "\n").encode()

    def flush(self) -> None:
        """Rewrite this run's object if lines came since the last write."""
        with self._write_lock:
            if self._stopped:
                return
            body = self._body()
            if body is None:
                return
            try:
                if self._first_write:
                    self._prune_old_runs()
                guarded_write(
                    self.store,
                    self.kind,
                    self.job_id,
                    self.key,
                    lambda: self.store.put_bytes(self.key, body, content_type="application/x-ndjson"),
                )
                self._first_write = False
            except JobDeleted:
                self._stopped = True
            except Exception as error:  # noqa: BLE001 - the job goes on; the next flush tries again
                with self._lines_lock():
                    self._dirty = True
                # Logged from the flusher thread (no job context): to the process's stream, not to these lines.
                log.warning("%s %s: its log lines were not stored: %s", self.kind, self.job_id, error)

    def _prune_old_runs(self) -> None:
        older = sorted(key for key in self.store.list_keys(object_keys.job_logs_prefix(self.kind, self.job_id)) if key < self.key)
        for key in older[: max(0, len(older) - (MAX_RUNS - 1))]:
            self.store.delete(key)

    def _flush_periodically(self, every: float) -> None:
        while not self._wake.wait(every):
            self.flush()

    def close(self) -> None:
        """Stop the periodic writes and write what is left (call it in the task's thread, at its end)."""
        self._wake.set()
        if self._flusher.is_alive() and self._flusher is not threading.current_thread():
            self._flusher.join()
        self.flush()
        super().close()


def read_job_logs(store: ObjectStore, kind: str, job_id: str, *, limit: int) -> tuple[list[dict], int]:
    """``(the last `limit` lines of the job, oldest first; how many it has)``, every run's
    lines in time order. A line that is not a JSON object (a torn write) is skipped."""
    prefix = object_keys.job_logs_prefix(kind, job_id)
    lines: list[dict] = []
    for key in sorted(store.list_keys(prefix)):  # names start with the run's start time
        try:
            text = store.get_bytes(key).decode("utf-8", errors="replace")
        except ObjectNotFound:  # a run pruned meanwhile: the others still answer
            continue
        for raw in text.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict):
                lines.append(line)
    # Runs may overlap (a redelivered task starts while the first still logs): order by time, stably.
    lines.sort(key=lambda line: str(line.get("time", "")))
    return lines[-limit:] if limit else [], len(lines)

"""Wake a waiting client when the server says a job changed: the job's Server-Sent Events.

``GET /v1/<kind>s/<id>/events`` sends an event at every status, progress or analysis change
and a comment every 15 s. :class:`EventWaker` reads that stream in a daemon thread and
raises a flag at each event, so :meth:`lesde.client.LesdeClient.wait` re-reads the record
at once instead of at its next poll, and polls only rarely while the stream lives.
Anything that goes wrong (a server without the route, a proxy that buffers, a dropped
connection) ends the stream quietly: the wait falls back to polling.
"""

from __future__ import annotations

import threading

import httpx

__all__ = ["EventWaker"]

# Longer than the server's 15 s keep-alive comment: a silent stream this long is dead.
READ_TIMEOUT_S = 45.0


class EventWaker:
    """Follows ``path`` (an events URL of ``http``'s server) until :meth:`close`."""

    def __init__(self, http: httpx.Client, path: str) -> None:
        # A connection of its own: the waiting loop keeps using ``http`` meanwhile.
        self._client = httpx.Client(base_url=http.base_url, headers=http.headers, timeout=httpx.Timeout(10.0, read=READ_TIMEOUT_S))
        self._path = path
        self._changed = threading.Event()
        self._ended = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="lesde-events", daemon=True)

    def start(self) -> EventWaker:
        self._thread.start()
        return self

    @property
    def alive(self) -> bool:
        """Whether the stream still runs (False once it ended, failed or was refused)."""
        return not self._ended.is_set()

    def wait(self, timeout: float) -> bool:
        """Block until an event (or the stream's end) or ``timeout`` s; True if something came."""
        came = self._changed.wait(timeout)
        self._changed.clear()
        return came

    def close(self) -> None:
        """Stop following: closing the connection ends the reader's blocking read."""
        self._ended.set()
        self._client.close()

    def _follow(self) -> None:
        try:
            with self._client.stream("GET", self._path, headers={"Accept": "text/event-stream"}) as response:
                if response.status_code != 200:
                    return
                for line in response.iter_lines():
                    if self._ended.is_set():
                        return
                    if line.startswith(("event:", "data:")):
                        self._changed.set()
        except Exception:  # noqa: BLE001 - any failure only means: poll instead
            return
        finally:
            self._ended.set()
            self._changed.set()  # wake the waiter: it re-reads the record and polls from now on

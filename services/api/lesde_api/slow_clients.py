"""Connections that never finish their request are closed: a header deadline and a body idle limit.

uvicorn's h11 protocol times out only idle keep-alive connections between requests: a
client that sends half its headers, or a body one byte a minute, holds a connection (and
its file descriptor) for as long as it likes (500 such connections stayed open 70 s in
the attack probe). This protocol, a subclass of uvicorn's own, gives each request
``LESDE_HEADER_TIMEOUT_S`` to deliver its headers in full, from the moment the connection
waits for them, and then ``LESDE_BODY_IDLE_TIMEOUT_S`` between any two pieces of its body
(an idle limit, so a 200 MB upload on a slow link is not cut); past either the connection
is closed. Run uvicorn with ``--http lesde_api.slow_clients:GuardedH11Protocol`` (the
launcher, the Dockerfile and compose do).
"""

from __future__ import annotations

import asyncio

from lesde_runtime.settings import ApiSettings
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["GuardedH11Protocol"]


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a body idle limit (see the module notes)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - uvicorn's own signature
        super().__init__(*args, **kwargs)
        settings = ApiSettings()
        self.header_timeout = settings.header_timeout_s
        self.body_idle_timeout = settings.body_idle_timeout_s
        self._guard: asyncio.TimerHandle | None = None
        self._guarded_cycle: object | None = None  # the request whose headers have arrived

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._guard = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    def _too_slow(self) -> None:
        self._guard = None
        if not self.transport.is_closing():
            self.logger.info("closing a connection that did not deliver its request in time")
            self.transport.close()

    def _update(self) -> None:
        """After any event: headers pending -> deadline (kept); body pending -> idle limit (reset); else none."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            if self._guard is None:  # waiting for the next request's headers: one deadline, not reset by bytes
                self._arm(self.header_timeout)
            return
        self._guarded_cycle = cycle
        if cycle.more_body:
            self._arm(self.body_idle_timeout)
        else:
            self._disarm()

    # as uvicorn's H11Protocol declares it: a stream Transport, narrower than asyncio's BaseProtocol says
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn's own signature
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.transport.is_closing():
            self._update()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()
        if not self.transport.is_closing():
            self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

"""Bounds on what clients can hold: a deadline for request headers and a cap on connections.

aiohttp waits for request headers as long as a client keeps sending, so clients that drip a
byte every few seconds could hold every file descriptor. Here, as with nginx's
``client_header_timeout``, a request's headers must arrive within ``header_timeout`` seconds
of the connection opening or of the request's first byte; late ones get 408 and the
connection is closed. Past ``max_connections`` open connections, new ones get 503 and are
closed at once. The middleware reports when a request's headers are in and when it is done.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any, cast

from aiohttp import web

__all__ = [
    "DEFAULT_HEADER_TIMEOUT",
    "ConnectionGuard",
    "GuardedTCPSite",
    "default_max_connections",
]

#: Seconds a client has to send a request's headers (nginx's default is 60; this is local).
DEFAULT_HEADER_TIMEOUT = 10.0


def _closing_answer(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": status, "message": message, "metadata": None}})
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return (head + body).encode()


_TIMED_OUT = _closing_answer(408, "Request Timeout", "Request headers not received in time")
_BUSY = _closing_answer(503, "Service Unavailable", "Too many open connections, retry later")


def default_max_connections() -> int:
    """A cap below the process's file descriptor limit (room kept for files and logs)."""
    if sys.platform == "win32":
        return 1000
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(8, min(1000, soft - 64))


class ConnectionGuard:
    """The connections of one server, each with its header deadline, under one cap."""

    def __init__(self, header_timeout: float, max_connections: int | None = None) -> None:
        if not header_timeout > 0:
            raise ValueError("header_timeout must be a positive number of seconds")
        if max_connections is None:
            max_connections = default_max_connections()
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.header_timeout = float(header_timeout)
        self.max_connections = max_connections
        self._open: dict[Any, _GuardedProtocol] = {}

    @property
    def open_connections(self) -> int:
        """How many connections are open now."""
        return len(self._open)

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory that guards each protocol ``factory`` makes."""

        def make() -> asyncio.Protocol:
            return _GuardedProtocol(self, factory())

        return make

    def request_started(self, transport: Any) -> None:
        """A request's headers are in: its connection's deadline no longer applies."""
        guarded = self._open.get(transport)
        if guarded is not None:
            guarded.request_started()

    def request_finished(self, transport: Any) -> None:
        """A request was answered: the next one's headers get a new deadline when they start."""
        guarded = self._open.get(transport)
        if guarded is not None:
            guarded.request_finished()

    def close_all(self) -> None:
        """Abort every connection still open (the server is stopping)."""
        for transport in list(self._open):
            transport.abort()


class _GuardedProtocol(asyncio.Protocol):
    """Passes everything to aiohttp's protocol, and enforces the guard's limits."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self._inner = inner
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._requests = 0
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same methods.
        transport = cast(asyncio.Transport, transport)
        if len(self._guard._open) >= self._guard.max_connections:
            self._refused = True
            transport.write(_BUSY)
            transport.close()
            return
        self._transport = transport
        self._guard._open[transport] = self
        self._arm()
        self._inner.connection_made(transport)

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._guard.header_timeout, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        transport = self._transport
        if self._requests == 0 and transport is not None and not transport.is_closing():
            transport.write(_TIMED_OUT)
            transport.close()

    def request_started(self) -> None:
        self._requests += 1
        self._disarm()

    def request_finished(self) -> None:
        self._requests -= 1

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._requests == 0 and self._timer is None:
            self._arm()  # the first byte of the next request on a kept-alive connection
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self._refused:
            return None
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._disarm()
        self._guard._open.pop(self._transport, None)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if not self._refused:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if not self._refused:
            self._inner.resume_writing()


class GuardedTCPSite(web.BaseSite):
    """aiohttp's ``TCPSite``, with every connection under a ``ConnectionGuard``."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard
    ) -> None:
        super().__init__(runner)
        self._host = host
        self._port = port
        self._guard = guard

    @property
    def name(self) -> str:
        """The site's URL."""
        shown = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{shown}:{self._port}"

    async def start(self) -> None:
        """Listen on host:port (port 0: a free one)."""
        await super().start()
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._guard.wrap(server), self._host, self._port, reuse_address=True
        )

    async def stop(self) -> None:
        """Stop listening; connections are closed by the runner (or aborted here after)."""
        await super().stop()
        self._guard.close_all()

"""A small forward proxy for the tests: plain HTTP (absolute-form requests) and CONNECT.

It binds 127.0.0.1 on a free port, records what it was asked (method, target, the
``Proxy-Authorization`` it got), answers 407 when credentials are required and wrong, and
serves one request per client connection for plain HTTP (``Connection: close`` upstream).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from yarl import URL


@dataclass
class Seen:
    """One request the proxy received."""

    method: str
    target: str
    proxy_authorization: str | None


@dataclass
class ForwardProxy:
    """``async with ForwardProxy() as proxy:`` → ``proxy.url``, ``proxy.seen``."""

    required_auth: str | None = None  # the expected Proxy-Authorization value
    seen: list[Seen] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = [line.split(":", 1) for line in lines[1:] if line]
        auth = next((v.strip() for k, v in headers if k.lower() == "proxy-authorization"), None)
        self.seen.append(Seen(method, target, auth))
        if self.required_auth is not None and auth != self.required_auth:
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
            writer.write(b'Proxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n')
            writer.write(b"Connection: close\r\n\r\n")
            await writer.drain()
            return
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await _pipe_both(reader, writer, up_reader, up_writer)
            return
        url = URL(target)
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
        body = await reader.readexactly(length) if length else b""
        kept = [
            f"{k}:{v}"
            for k, v in headers
            if k.lower() not in ("proxy-authorization", "proxy-connection", "connection")
        ]
        request = "\r\n".join(
            [f"{method} {url.raw_path_qs} {version}", *kept, "Connection: close", "", ""]
        )
        assert url.host is not None
        assert url.port is not None
        up_reader, up_writer = await asyncio.open_connection(url.host, url.port)
        up_writer.write(request.encode("latin-1") + body)
        await up_writer.drain()
        try:
            while chunk := await up_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            up_writer.close()


async def _pipe_both(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            with contextlib.suppress(Exception):
                sink.close()

    try:
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    finally:
        up_writer.close()

"""What clients can hold: header deadline, connection cap, rate limit by authenticated key."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from modelgates_async.server import AsyncLocalServer, RateLimiter

from .helpers import Api

# Short enough to keep the tests quick, long enough for a loaded machine to send a request.
HEADER_TIMEOUT = 0.2
# Bounds every wait below: a server that never cuts a client off fails instead of hanging.
BOUND = 10.0


async def read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (bounded)."""
    return await asyncio.wait_for(reader.read(), BOUND)


def request_bytes(key: str, path: str = "/api/v1/key") -> bytes:
    """A complete HTTP/1.1 GET that closes the connection after the answer."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()


@pytest.mark.parametrize("state_options", [{"header_timeout": HEADER_TIMEOUT}])
async def test_headers_not_sent_in_time_get_408_and_the_connection_closes(
    server: AsyncLocalServer,
) -> None:
    """A client that sends half a request line and stops is answered 408 and cut off."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /api/v1/key HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await writer.drain()
    answer = await read_all(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"Request headers not received in time" in answer
    assert server.state.connections.open_connections == 0


@pytest.mark.parametrize("state_options", [{"header_timeout": HEADER_TIMEOUT}])
async def test_a_client_dripping_header_bytes_is_cut_off(server: AsyncLocalServer) -> None:
    """Sending one header byte at a time does not extend the deadline (slowloris)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    closed = asyncio.ensure_future(read_all(reader))
    drip = b"GET /api/v1/key HTTP/1.1\r\nX-Slow: " + b"a" * 10_000
    for byte in drip:
        if closed.done():
            break
        writer.write(bytes([byte]))
        await asyncio.sleep(HEADER_TIMEOUT / 6)
    answer = await closed
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")


@pytest.mark.parametrize("state_options", [{"header_timeout": HEADER_TIMEOUT}])
async def test_the_deadline_covers_headers_only(api: Api, server: AsyncLocalServer) -> None:
    """A request answered more slowly than the header deadline, and the next request on the
    same kept-alive connection, both succeed."""
    server.inject_fault("/key", delay=HEADER_TIMEOUT * 1.5)
    assert (await api.call("GET", "/key"))[0] == 200
    assert (await api.call("GET", "/key"))[0] == 200


@pytest.mark.parametrize("state_options", [{"header_timeout": HEADER_TIMEOUT}])
async def test_a_body_not_sent_in_time_gets_408(server: AsyncLocalServer) -> None:
    """A create whose body stops halfway is answered 408 and stores nothing."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        (
            "POST /api/v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {server.management_key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 40\r\nConnection: close\r\n\r\n"
            '{"name": '
        ).encode()
    )
    answer = await read_all(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"Request body not received in time" in answer
    assert server.state.store.count() == 0


@pytest.mark.parametrize("state_options", [{"header_timeout": BOUND, "max_connections": 3}])
async def test_connections_past_the_cap_get_503_and_are_closed(server: AsyncLocalServer) -> None:
    """With 3 connections open a 4th is answered 503 and closed; once one closes, a new
    connection is served."""
    held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    answer = await read_all(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert b"Too many open connections" in answer
    assert server.state.connections.open_connections == 3

    held[0][1].close()
    await asyncio.wait_for(_until(lambda: server.state.connections.open_connections == 2), BOUND)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(request_bytes(server.management_key))
    answer = await read_all(reader)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 ")
    for _, held_writer in held[1:]:
        held_writer.close()


async def _until(condition: Any) -> None:
    """Poll until ``condition()`` holds (the guard has no event to wait on; callers bound it)."""
    while not condition():  # noqa: ASYNC110
        await asyncio.sleep(0.01)


def test_guard_options_are_checked() -> None:
    """A non-positive header timeout or connection cap is refused."""
    from modelgates_async.server import ConnectionGuard

    with pytest.raises(ValueError, match="header_timeout"):
        ConnectionGuard(0)
    with pytest.raises(ValueError, match="max_connections"):
        ConnectionGuard(1.0, 0)
    assert ConnectionGuard(1.0).max_connections >= 8


SPELLINGS = ["Bearer {}", "bearer {}", "BEARER {}", "Bearer   {}", "bEaReR {}"]


async def test_the_rate_limit_counts_a_key_however_its_header_is_spelled(
    api: Api, server: AsyncLocalServer
) -> None:
    """Five spellings of one key's Authorization header share one bucket: one request
    passes, the other four get 429."""
    secret, _ = await api.create("limited")
    server.state.limiter = RateLimiter(0.01)  # one token, the next in 100 s
    statuses = [(await api.call("GET", "/key", auth=s.format(secret)))[0] for s in SPELLINGS]
    assert statuses == [200, 429, 429, 429, 429]


async def test_the_management_key_has_one_bucket_however_spelled(
    api: Api, server: AsyncLocalServer
) -> None:
    """The management key, too, is limited as one caller."""
    server.state.limiter = RateLimiter(0.01)
    key = api.management_key
    statuses = [(await api.call("GET", "/keys", auth=s.format(key)))[0] for s in SPELLINGS]
    assert statuses == [200, 429, 429, 429, 429]

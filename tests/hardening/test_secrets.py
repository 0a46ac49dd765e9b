"""No planted secret reaches any exception the SDK raises or any DEBUG record of any logger.

Secrets planted: the client's own key (not sk-shaped, so masked as a known value), a created
key's secret, an sk-shaped value a server echoes, and an external API key given to a call.
Exceptions come from the local server (fault injection echoing the secrets in bodies and
headers), a raw socket server answering garbage, a closed port, and aioresponses.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from modelgates_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncModelGates,
    BulkError,
    ClientClosedError,
    InvalidRequestError,
    ModelGatesError,
    RetryConfig,
    RotationError,
)
from modelgates_async.server import AsyncLocalServer
from tests.hardening.secrets import (
    CLIENT_KEY,
    ECHO,
    EXTERNAL,
    echo_body,
    exception_texts,
    leaks,
    record_texts,
)
from tests.helpers import mocked_aiohttp

NO_RETRIES = RetryConfig.disabled()


def echo_headers(*secrets: str) -> dict[str, str]:
    """Response headers that repeat ``secrets``."""
    return {"X-Echo": " ".join(secrets), "WWW-Authenticate": f"Bearer {secrets[0]}"}


@pytest.fixture
async def server() -> AsyncIterator[AsyncLocalServer]:
    """A private local server whose management key is the planted client key."""
    async with AsyncLocalServer(management_key=CLIENT_KEY) as local:
        yield local


@pytest.fixture
async def mg(server: AsyncLocalServer) -> AsyncIterator[AsyncModelGates]:
    """A client of that server, without retries."""
    async with AsyncModelGates(CLIENT_KEY, base_url=server.base_url, retries=NO_RETRIES) as c:
        yield c


class Caught:
    """Collects the exceptions of calls expected to fail."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    async def expect(self, kind: type[BaseException], call: Callable[[], Awaitable[Any]]) -> None:
        """Run ``call``; it must raise ``kind`` (kept for the walk)."""
        with pytest.raises(kind) as info:
            await call()
        self.errors.append(info.value)


async def garbage_server(answer: bytes) -> asyncio.Server:
    """A TCP server that answers every request with ``answer`` and hangs up."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_no_planted_secret_in_any_exception_or_log_record(
    server: AsyncLocalServer, mg: AsyncModelGates, caplog: pytest.LogCaptureFixture
) -> None:
    """Every exception (and its chain) and every DEBUG record is free of planted secrets."""
    caplog.set_level(logging.DEBUG)
    created = await mg.api_keys.create("victim")
    created_secret, key_hash = created.key, created.data.hash
    planted = (CLIENT_KEY, ECHO, created_secret)
    caught = Caught()

    # A secret where a hash belongs: refused before sending, never echoed.
    for call in (
        lambda: mg.api_keys.get(created_secret),
        lambda: mg.api_keys.update(created_secret, disabled=True),
        lambda: mg.api_keys.delete(created_secret),
        lambda: mg.api_keys.rotate(created_secret),
    ):
        await caught.expect(InvalidRequestError, call)
    for bulk in (mg.api_keys.get_many, mg.api_keys.delete_many, mg.api_keys.rotate_many):
        result = await bulk([created_secret])
        caught.errors.append(result[0].error)  # type: ignore[arg-type]
        with pytest.raises(BulkError) as bulk_info:
            result.raise_for_errors()
        caught.errors.append(bulk_info.value)

    # Bad constructor arguments carrying secrets.
    def construct(**kwargs: Any) -> Callable[[], Awaitable[Any]]:
        async def make() -> None:
            AsyncModelGates(base_url=server.base_url, **kwargs)

        return make

    await caught.expect(InvalidRequestError, construct(api_key=CLIENT_KEY + "\r\nX: 1"))
    await caught.expect(
        InvalidRequestError,
        construct(api_key=CLIENT_KEY, default_headers={"X-Key": ECHO + "\n"}),
    )

    # Error answers echoing every secret in the body and the headers.
    for status in (400, 401, 403, 404, 409, 429, 500, 503):
        server.inject_fault(
            "/keys/*",
            method="GET",
            status=status,
            body=echo_body(status, *planted),
            headers=echo_headers(*planted),
        )
        await caught.expect(APIStatusError, lambda: mg.api_keys.get(key_hash))
    server.inject_fault("/keys/*", status=502, body=f"<pre>{' '.join(planted)}</pre>")
    await caught.expect(APIStatusError, lambda: mg.api_keys.get(key_hash))

    # Successful statuses with bodies that are not what the spec says.
    server.inject_fault("/keys", method="POST", status=201, body=f"key={created_secret} {ECHO}")
    await caught.expect(APIResponseValidationError, lambda: mg.api_keys.create("x"))
    server.inject_fault("/key", status=200, body={"data": {"label": ECHO, "usage": CLIENT_KEY}})
    await caught.expect(APIResponseValidationError, mg.api_keys.get_current_key_metadata)
    server.inject_fault(
        "/keys/*", method="GET", status=200, body={"data": {"hash": ECHO, "created_at": ECHO}}
    )
    await caught.expect(APIResponseValidationError, lambda: mg.api_keys.get(key_hash))
    server.inject_fault("/keys/*", method="DELETE", status=200, body={"deleted": ECHO})
    await caught.expect(APIResponseValidationError, lambda: mg.api_keys.delete(key_hash))
    async with AsyncModelGates(
        CLIENT_KEY, base_url=server.base_url, retries=NO_RETRIES, max_response_bytes=1024
    ) as small:
        server.inject_fault("/key", status=200, body=(" ".join(planted) + " ") * 50)
        await caught.expect(APIResponseValidationError, small.api_keys.get_current_key_metadata)

    # No answer: a timeout, a dropped connection, a refused connection, garbage.
    server.inject_fault("/keys/*", delay=0.5)
    await caught.expect(APITimeoutError, lambda: mg.api_keys.get(key_hash, timeout=0.05))
    # Twice: aiohttp resends an idempotent request once when a reused connection drops.
    server.inject_fault("/keys/*", drop=True, times=2)
    await caught.expect(APIConnectionError, lambda: mg.api_keys.get(key_hash))
    for answer in (
        f"HTTP/1.1 2x0 {ECHO} {CLIENT_KEY}\r\n\r\n".encode(),
        f"HTTP/1.1 200 OK\r\nBad Header {ECHO}\r\n\r\n".encode(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + ECHO.encode(),
    ):
        garbage = await garbage_server(answer)
        port = garbage.sockets[0].getsockname()[1]
        async with AsyncModelGates(
            CLIENT_KEY, base_url=f"http://127.0.0.1:{port}/api/v1", retries=NO_RETRIES
        ) as victim:
            await caught.expect(APIConnectionError, lambda: victim.api_keys.get(key_hash))
        garbage.close()
        await garbage.wait_closed()
    async with AsyncModelGates(  # the last garbage server's port, closed now: refused
        CLIENT_KEY, base_url=f"http://127.0.0.1:{port}/api/v1", retries=NO_RETRIES
    ) as refused:
        await caught.expect(APIConnectionError, refused.api_keys.get_current_key_metadata)

    # Use cases that wrap errors: a rotation whose retire fails, a bulk run with failures.
    server.inject_fault("/keys/*", method="PATCH", status=500, body=echo_body(500, *planted))
    await caught.expect(RotationError, lambda: mg.api_keys.rotate(key_hash))
    server.inject_fault("/keys", method="POST", status=400, body=echo_body(400, *planted))
    bulk_result = await mg.api_keys.create_many([{"name": "a"}, {"name": "b"}])
    await caught.expect(BulkError, lambda: _raise_for_errors(bulk_result))

    # A call's own secret (an external API key) given to the transport.
    transport = mg._transport
    for status, body in ((400, echo_body(400, EXTERNAL, ECHO)), (200, f"not json {EXTERNAL}")):
        server.inject_fault(
            "/keys/*", method="GET", status=status, body=body, headers=echo_headers(EXTERNAL)
        )
        await caught.expect(
            ModelGatesError,
            lambda: transport.request(
                "GET", f"/keys/{key_hash}", timeout=5, retries=NO_RETRIES, secrets=(EXTERNAL,)
            ),
        )

    await mg.aclose()
    await caught.expect(ClientClosedError, mg.api_keys.get_current_key_metadata)

    everything = (*planted, EXTERNAL)
    assert len(caught.errors) == 37
    for error in caught.errors:
        assert leaks(exception_texts(error), everything) == [], type(error).__name__
    assert caplog.records, "DEBUG logging was on: records were expected"
    assert leaks(record_texts(caplog.records), everything) == []


async def _raise_for_errors(result: Any) -> None:
    result.raise_for_errors()


async def test_planted_secrets_were_really_echoed_and_masked(
    server: AsyncLocalServer, mg: AsyncModelGates
) -> None:
    """The walk is not vacuous: the echoed values arrive, masked, where they were planted."""
    server.inject_fault(
        "/keys/*", status=401, body=echo_body(401, CLIENT_KEY, ECHO), headers=echo_headers(ECHO)
    )
    with pytest.raises(APIStatusError) as info:
        await mg.api_keys.get("0" * 64)
    error = info.value
    assert error.message == "rejected: *** ***"
    assert error.metadata == {"raw": ["*** ***", {"nested": "*** ***"}], "*** ***": "*** ***"}
    assert error.user_id == "*** ***"
    assert error.headers["X-Echo"] == "***"


async def test_aioresponses_echo_of_every_secret_is_masked() -> None:
    """Fake answers (aioresponses) echoing secrets in body, headers and text are masked."""
    base = "https://api.test/api/v1"
    planted = (CLIENT_KEY, ECHO, EXTERNAL)
    errors: list[BaseException] = []
    with mocked_aiohttp() as mock:
        async with AsyncModelGates(CLIENT_KEY, base_url=base, retries=NO_RETRIES) as client:
            mock.get(
                f"{base}/key",
                status=403,
                payload=echo_body(403, *planted),
                headers=echo_headers(ECHO),
            )
            mock.get(f"{base}/key", status=200, body=" ".join(planted))
            for _ in range(2):
                with pytest.raises(ModelGatesError) as info:
                    await client._transport.request(
                        "GET", "/key", timeout=5, retries=NO_RETRIES, secrets=(EXTERNAL,)
                    )
                errors.append(info.value)
    for error in errors:
        assert leaks(exception_texts(error), planted) == []


async def test_reprs_hold_no_planted_secret(mg: AsyncModelGates) -> None:
    """repr of the client, a created key, a bulk result and its items: no secret."""
    created = await mg.api_keys.create("shown once")
    refused = await mg.api_keys.get_many([created.key, ECHO])
    texts = [repr(mg), str(mg), repr(created), str(created), repr(refused), repr(list(refused))]
    assert refused[0].input == created.key  # the caller's own input, handed back as given
    assert leaks(texts, (CLIENT_KEY, ECHO, created.key)) == []

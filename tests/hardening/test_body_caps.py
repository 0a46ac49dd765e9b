"""A hostile server cannot make the client read without bound: bodies, decoded bodies included,
stop at ``max_response_bytes`` with a typed error, memory bounded (measured with tracemalloc
as a bound, not a timing)."""

from __future__ import annotations

import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from modelgates_async import (
    APIResponseValidationError,
    AsyncModelGates,
    InternalServerError,
    InvalidRequestError,
)
from modelgates_async._body import DEFAULT_MAX_RESPONSE_BYTES
from tests.hardening.helpers import KEY, get
from tests.helpers import serving

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """About 300 KiB of gzip that inflates to 300 MiB of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(MiB)
    parts = [compressor.compress(zeros) for _ in range(300)]
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.fixture
async def hostile(gzip_bomb: bytes) -> AsyncIterator[str]:
    """A real aiohttp server on 127.0.0.1 with hostile answers; yields its API base URL."""

    async def bomb(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip_bomb,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    async def declared_huge(request: web.Request) -> web.Response:
        return web.Response(body=b"[" + b"0," * (5 * MiB) + b"0]", content_type="application/json")

    async def endless(request: web.Request) -> web.StreamResponse:
        status = int(request.query.get("status", "200"))
        response = web.StreamResponse(status=status)
        response.content_type = "application/json"
        await response.prepare(request)
        chunk = b" " * (64 * 1024)
        try:
            for _ in range(2000):  # 125 MiB unless the client stops reading
                await response.write(chunk)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return response

    async def exactly(request: web.Request) -> web.Response:
        size = int(request.query["size"])
        text = json.dumps({"data": "x" * (size - len('{"data": ""}'))})
        assert len(text) == size
        return web.Response(text=text, content_type="application/json")

    async def nested(request: web.Request) -> web.Response:
        status = int(request.query.get("status", "200"))
        depth = 100_000
        return web.Response(
            status=status, text="[" * depth + "]" * depth, content_type="application/json"
        )

    app = web.Application()
    app.router.add_get("/api/v1/nested", nested)
    app.router.add_get("/api/v1/bomb", bomb)
    app.router.add_get("/api/v1/declared", declared_huge)
    app.router.add_get("/api/v1/endless", endless)
    app.router.add_get("/api/v1/exactly", exactly)
    async with serving(app) as base_url:
        yield base_url


async def test_gzip_bomb_stops_at_the_cap_with_bounded_memory(hostile: str) -> None:
    """300 KiB of gzip (300 MiB inflated): a typed "too large" error; peak memory < 24 MiB."""
    tracemalloc.start()
    try:
        with pytest.raises(APIResponseValidationError) as info:
            await get(hostile, "/bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than max_response_bytes" in info.value.message
    assert info.value.status == 200
    assert peak < 24 * MiB, f"peak {peak / MiB:.1f} MiB"


async def test_a_smaller_cap_bounds_memory_lower(hostile: str) -> None:
    """max_response_bytes=1 MiB: the bomb costs well under 8 MiB."""
    tracemalloc.start()
    try:
        with pytest.raises(APIResponseValidationError):
            await get(hostile, "/bomb", max_response_bytes=MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"


async def test_declared_length_over_the_cap_is_refused_unread(hostile: str) -> None:
    """A Content-Length over the cap fails without reading the body."""
    with pytest.raises(APIResponseValidationError) as info:
        await get(hostile, "/declared", max_response_bytes=MiB)
    assert info.value.errors == (f"$: response body too large (over {MiB} bytes)",)


async def test_endless_chunked_body_stops_at_the_cap(hostile: str) -> None:
    """A chunked body that never ends: reading stops at the cap."""
    with pytest.raises(APIResponseValidationError):
        await get(hostile, "/endless", max_response_bytes=MiB)


async def test_huge_error_body_keeps_its_status_with_a_truncated_body(hostile: str) -> None:
    """A 500 with an endless body is still an InternalServerError; its text is cut short."""
    with pytest.raises(InternalServerError) as info:
        await get(hostile, "/endless?status=500", max_response_bytes=MiB)
    assert isinstance(info.value.body, str)
    assert len(info.value.body) <= 2000


async def test_a_body_of_exactly_the_cap_is_read(hostile: str) -> None:
    """The cap is inclusive: a body of max_response_bytes bytes parses."""
    body = await get(hostile, f"/exactly?size={MiB}", max_response_bytes=MiB)
    assert len(body["data"]) == MiB - len('{"data": ""}')
    with pytest.raises(APIResponseValidationError):
        await get(hostile, f"/exactly?size={MiB + 1}", max_response_bytes=MiB)


async def test_json_nested_too_deep_is_a_typed_error(hostile: str) -> None:
    """JSON nested 100,000 deep (json's RecursionError) is "not JSON", not a raw exception."""
    with pytest.raises(APIResponseValidationError, match="not JSON"):
        await get(hostile, "/nested")
    with pytest.raises(InternalServerError):
        await get(hostile, "/nested?status=500")


def test_default_cap_is_a_few_mib() -> None:
    """The default cap is 8 MiB."""
    assert 8 * MiB == DEFAULT_MAX_RESPONSE_BYTES


@pytest.mark.parametrize("value", [0, 1023, -1, True, 1.5, "1000000", None])
def test_max_response_bytes_is_checked(value: object) -> None:
    """max_response_bytes must be an integer of at least 1 KiB."""
    with pytest.raises(InvalidRequestError) as info:
        AsyncModelGates(KEY, base_url="http://127.0.0.1:1", max_response_bytes=value)  # type: ignore[arg-type]
    assert info.value.argument == "max_response_bytes"

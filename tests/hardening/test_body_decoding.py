"""Bodies are decoded as JSON whatever encoding json itself accepts, through the fast path for
UTF-8 and the fallback for the rest; a small gzip body is read through the capped reader."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from modelgates_async import APIResponseValidationError
from tests.hardening.helpers import get
from tests.helpers import serving

DOCUMENT = {"data": {"name": "caf\u00e9 \u2603", "n": 1}}


@pytest.fixture
async def server() -> AsyncIterator[str]:
    """A real aiohttp server on 127.0.0.1 answering one document in several encodings."""

    async def encoded(request: web.Request) -> web.Response:
        codec = request.query["as"]
        text = json.dumps(DOCUMENT, ensure_ascii=False)
        if codec == "surrogate":  # a lone surrogate, as json.dumps(ensure_ascii=False) may write
            body = b'{"data": "\xed\xa0\x80"}'
        elif codec == "latin-1":
            body = text.encode("latin-1", "replace")
        else:
            body = text.encode(codec)
        return web.Response(body=body, headers={"Content-Type": "application/json"})

    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(json.dumps(DOCUMENT).encode()),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    app = web.Application()
    app.router.add_get("/api/v1/encoded", encoded)
    app.router.add_get("/api/v1/gzipped", gzipped)
    async with serving(app) as base_url:
        yield base_url


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32"])
async def test_json_in_any_encoding_json_detects_decodes(server: str, codec: str) -> None:
    """UTF-8 (fast path), and a BOM or UTF-16/32 (json's own detection) give the document."""
    assert await get(server, f"/encoded?as={codec}") == DOCUMENT


async def test_a_lone_surrogate_decodes_as_json_decodes_it(server: str) -> None:
    """Bytes strict UTF-8 refuses but json accepts (an encoded surrogate) still decode."""
    assert await get(server, "/encoded?as=surrogate") == {"data": "\ud800"}


async def test_bytes_that_are_no_json_encoding_are_not_json(server: str) -> None:
    """Latin-1 bytes are neither UTF-8 nor anything json detects: a typed error."""
    with pytest.raises(APIResponseValidationError, match="not JSON"):
        await get(server, "/encoded?as=latin-1")


async def test_a_small_gzip_body_is_read_through_the_capped_reader(server: str) -> None:
    """An encoded body (its declared length is not its decoded size) is inflated and parsed."""
    assert await get(server, "/gzipped") == DOCUMENT

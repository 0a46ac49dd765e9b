"""Reading a response body with a bound, so that a hostile server cannot exhaust memory.

aiohttp inflates gzip/deflate/br bodies as they arrive; reading the *decoded* stream in
chunks and counting is what bounds the decompressed size (a 300 KiB gzip bomb inflates to
300 MiB): past the cap, reading stops and the connection is closed, never reused.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from modelgates_async.errors import InvalidRequestError

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "check_max_response_bytes", "read_capped", "reads_whole"]

DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""8 MiB of decoded body: a full page of 100 keys is about 100 KiB."""

_CHUNK = 64 * 1024
_SMALLEST_CAP = 1024  # below this, even an ordinary error body would not fit


def check_max_response_bytes(value: Any, argument: str = "max_response_bytes") -> int:
    """A body cap in bytes: an integer of at least 1 KiB."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(
            f"{argument} must be an integer number of bytes, got {type(value).__name__}",
            argument=argument,
        )
    if value < _SMALLEST_CAP:
        raise InvalidRequestError(
            f"{argument} must be at least {_SMALLEST_CAP} bytes, got {value}", argument=argument
        )
    return value


def reads_whole(response: aiohttp.ClientResponse, limit: int) -> bool:
    """Whether ``response.read()`` is safe as it is: a declared length within ``limit`` of
    a body that is not encoded (so exactly that many bytes will be read). The common case;
    checked without a coroutine, so that it costs the caller nothing but this call."""
    declared = response.content_length
    return declared is not None and declared <= limit and "Content-Encoding" not in response.headers


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """The decoded body, at most ``limit`` bytes of it, and whether there was more.

    A body over the cap is not read further: the response is closed (its connection is
    dropped rather than returned to the pool with unread bytes in it).
    """
    if reads_whole(response, limit):
        return await response.read(), False  # exactly the declared bytes
    declared = response.content_length
    if declared is not None and declared > limit:  # encoded or not, it cannot fit
        response.close()
        return b"", True
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await response.content.read(_CHUNK)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size > limit:
            chunks.append(chunk[: len(chunk) - (size - limit)])
            response.close()
            return b"".join(chunks), True
        chunks.append(chunk)

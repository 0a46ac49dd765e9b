"""HTTP statuses and aiohttp failures map to the documented exception classes."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from modelgates_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncModelGates,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    ModelGatesError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryConfig,
)
from tests.helpers import BASE, HASH, connector_error, key_record

NO_RETRY = RetryConfig.disabled()
URL_GET = f"{BASE}/keys/{HASH}"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (599, InternalServerError),
        (409, ConflictError),
        (418, APIStatusError),
    ],
)
async def test_each_status_maps_to_its_class_with_every_field(
    client: AsyncModelGates, mock: aioresponses, status: int, cls: type[APIStatusError]
) -> None:
    """A JSON error body gives status, code, message, metadata, user_id, headers and body."""
    body = {
        "error": {"code": status, "message": f"failure {status}", "metadata": {"why": "x"}},
        "user_id": "user_9",
    }
    mock.get(URL_GET, status=status, payload=body, headers={"X-Request-Id": "r1"})
    with pytest.raises(cls) as info:
        await client.api_keys.get(HASH, retries=NO_RETRY)
    error = info.value
    assert type(error) is cls
    assert (error.status, error.code, error.message) == (status, status, f"failure {status}")
    assert error.metadata == {"why": "x"}
    assert error.user_id == "user_9"
    assert error.headers["x-request-id"] == "r1"
    assert error.body == body
    assert (error.method, error.path) == ("GET", f"/keys/{HASH}")
    assert str(error) == f"{status} (GET /keys/{HASH}): failure {status}"


async def test_html_error_body_still_maps_by_status_and_keeps_the_text(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """A proxy's HTML 502 page gives InternalServerError with the text in body and message."""
    html = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    mock.get(URL_GET, status=502, body=html, content_type="text/html")
    with pytest.raises(InternalServerError) as info:
        await client.api_keys.get(HASH, retries=NO_RETRY)
    assert info.value.body == html
    assert info.value.code is None
    assert "502 Bad Gateway" in info.value.message


async def test_empty_error_body_gives_a_message_with_the_status(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """An error with no body at all still has a readable message."""
    mock.get(URL_GET, status=404, body="")
    with pytest.raises(NotFoundError, match="HTTP 404"):
        await client.api_keys.get(HASH)


async def test_rate_limit_error_carries_retry_after(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """A 429's Retry-After is exposed as RateLimitError.retry_after (seconds)."""
    mock.get(
        URL_GET,
        status=429,
        payload={"error": {"code": 429, "message": "slow down"}},
        headers={"Retry-After": "7"},
    )
    with pytest.raises(RateLimitError) as info:
        await client.api_keys.get(HASH, retries=NO_RETRY)
    assert info.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("exception", "cls", "connected"),
    [
        (connector_error(), APIConnectionError, False),
        (aiohttp.ServerDisconnectedError(), APIConnectionError, True),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), APIConnectionError, True),
        (aiohttp.ClientPayloadError("truncated"), APIConnectionError, True),
        (asyncio.TimeoutError(), APITimeoutError, True),
        (aiohttp.ServerTimeoutError("read timeout"), APITimeoutError, True),
    ],
)
async def test_aiohttp_failures_become_connection_errors_with_the_cause(
    client: AsyncModelGates,
    mock: aioresponses,
    exception: BaseException,
    cls: type[APIConnectionError],
    connected: bool,
) -> None:
    """aiohttp's exceptions never reach the caller except as __cause__."""
    mock.get(URL_GET, exception=exception)
    with pytest.raises(cls) as info:
        await client.api_keys.get(HASH, retries=NO_RETRY)
    assert type(info.value) is cls
    assert info.value.__cause__ is exception
    assert info.value.connected is connected
    assert not isinstance(info.value, aiohttp.ClientError)


def test_timeout_error_is_also_a_builtin_timeout_error() -> None:
    """APITimeoutError is an APIConnectionError and a TimeoutError, as in aiohttp."""
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APITimeoutError, TimeoutError)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"data": key_record(limit="ten")}, "$.data.limit"),
        ({"data": key_record(disabled="false")}, "$.data.disabled"),
        ({"data": key_record(created_at="yesterday")}, "$.data.created_at"),
        ({"data": key_record(limit_reset="yearly")}, "$.data.limit_reset"),
        ({"data": {k: v for k, v in key_record().items() if k != "name"}}, "$.data.name"),
        ({"data": [1, 2]}, "$.data"),
        ({"items": []}, "$.data"),
    ],
)
async def test_a_2xx_body_that_breaks_the_schema_names_the_field(
    client: AsyncModelGates, mock: aioresponses, payload: Any, field: str
) -> None:
    """A wrong type or missing required field raises APIResponseValidationError naming it."""
    mock.get(URL_GET, payload=payload)
    with pytest.raises(APIResponseValidationError) as info:
        await client.api_keys.get(HASH)
    assert any(e.startswith(field) for e in info.value.errors), info.value.errors
    assert field in str(info.value)


async def test_a_2xx_body_that_is_not_json(client: AsyncModelGates, mock: aioresponses) -> None:
    """A 200 whose body is not JSON raises APIResponseValidationError, not a JSON error."""
    mock.get(URL_GET, status=200, body="<html>maintenance</html>", content_type="text/html")
    with pytest.raises(APIResponseValidationError, match="not JSON") as info:
        await client.api_keys.get(HASH)
    assert info.value.body == "<html>maintenance</html>"


async def test_delete_without_deleted_true_is_a_validation_error(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """DELETE must answer {"deleted": true}; anything else is reported."""
    mock.delete(URL_GET, payload={"deleted": False})
    with pytest.raises(APIResponseValidationError, match="deleted"):
        await client.api_keys.delete(HASH)


def test_every_error_is_a_modelgates_error() -> None:
    """One except clause catches everything the SDK raises."""
    for cls in (APIConnectionError, APIResponseValidationError, APIStatusError, RateLimitError):
        assert issubclass(cls, ModelGatesError)

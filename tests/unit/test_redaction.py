"""No API key or created secret reaches an exception, a repr or a log line."""

from __future__ import annotations

import logging

import pytest
from aioresponses import aioresponses

from modelgates_async import (
    AsyncModelGates,
    AuthenticationError,
    InternalServerError,
    RetryConfig,
)
from tests.helpers import API_KEY, BASE, HASH, SECRET, key_record, sent


async def test_server_echoing_the_key_is_redacted_from_the_error(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """An error body that repeats our API key does not carry it into the exception."""
    echo = f"invalid key {API_KEY}"
    mock.get(f"{BASE}/keys/{HASH}", status=401, payload={"error": {"code": 401, "message": echo}})
    with pytest.raises(AuthenticationError) as info:
        await client.api_keys.get(HASH)
    error = info.value
    for text in (str(error), repr(error), error.message, repr(error.args)):
        assert API_KEY not in text
    assert "***" in error.message


async def test_html_body_echoing_the_key_is_redacted(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """A non-JSON error body has the key masked too."""
    mock.get(f"{BASE}/keys/{HASH}", status=500, body=f"<pre>Authorization: Bearer {API_KEY}</pre>")
    with pytest.raises(InternalServerError) as info:
        await client.api_keys.get(HASH, retries=RetryConfig.disabled())
    assert API_KEY not in str(info.value.body)
    assert API_KEY not in str(info.value)


async def test_debug_logs_of_a_retried_create_hold_no_secret(
    client: AsyncModelGates,
    mock: aioresponses,
    waits: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every attempt is logged at DEBUG with method, path, status and wait; no secret."""
    caplog.set_level(logging.DEBUG, logger="modelgates_async")
    mock.post(
        f"{BASE}/keys",
        status=429,
        payload={"error": {"code": 429, "message": "x"}},
        headers={"Retry-After": "2"},
    )
    mock.post(f"{BASE}/keys", status=201, payload={"data": key_record(), "key": SECRET})
    created = await client.api_keys.create("Tenant", limit=5)
    assert created.key == SECRET
    assert len(sent(mock, "POST", f"{BASE}/keys")) == 2
    messages = [r.getMessage() for r in caplog.records if r.name == "modelgates_async"]
    assert messages == [
        "POST /keys -> 429",
        "POST /keys failed (status 429); retrying in 2.000s (attempt 2 of 3)",
        "POST /keys -> 201",
    ]
    everything = caplog.text + "".join(messages)
    assert API_KEY not in everything
    assert SECRET not in everything


def test_client_repr_holds_no_key() -> None:
    """repr(client) masks the key."""
    assert API_KEY not in repr(AsyncModelGates(API_KEY, base_url=BASE))

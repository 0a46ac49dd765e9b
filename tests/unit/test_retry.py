"""Which failures are retried, how long we wait, and what create() never does twice."""

from __future__ import annotations

import asyncio
import email.utils
import random
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from modelgates_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncModelGates,
    InternalServerError,
    RateLimitError,
    RetryConfig,
)
from modelgates_async import _retry as retry_module
from modelgates_async._retry import parse_retry_after
from tests.helpers import BASE, HASH, SECRET, connector_error, key_record, sent

URL_GET = f"{BASE}/keys/{HASH}"
URL_KEYS = f"{BASE}/keys"
FAST = RetryConfig(attempts=4, initial_backoff=1.0, max_backoff=4.0, jitter=0.0)


def error(status: int) -> dict[str, Any]:
    return {"error": {"code": status, "message": f"status {status}"}}


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@pytest.mark.parametrize(
    ("method", "url", "call"),
    [
        ("GET", URL_GET, lambda c: c.api_keys.get(HASH, retries=FAST)),
        ("PATCH", URL_GET, lambda c: c.api_keys.update(HASH, name="n", retries=FAST)),
        ("DELETE", URL_GET, lambda c: c.api_keys.delete(HASH, retries=FAST)),
        ("GET", URL_KEYS, lambda c: c.api_keys.list(retries=FAST)),
    ],
)
async def test_idempotent_calls_retry_on_each_retryable_status(
    client: AsyncModelGates,
    mock: aioresponses,
    waits: list[float],
    status: int,
    method: str,
    url: str,
    call: Any,
) -> None:
    """GET, PATCH and DELETE retry 429/500/502/503/504 and then succeed."""
    body: dict[str, Any] = {"deleted": True} if method == "DELETE" else {"data": key_record()}
    if url == URL_KEYS:
        body = {"data": []}
    mock.add(url, method, status=status, payload=error(status))
    mock.add(url, method, status=status, payload=error(status))
    mock.add(url, method, status=200, payload=body)
    await call(client)
    assert len(sent(mock, method, url)) == 3
    assert waits == [1.0, 2.0]  # exponential, no jitter


@pytest.mark.parametrize(
    "exception", [aiohttp.ServerDisconnectedError(), asyncio.TimeoutError(), connector_error()]
)
async def test_get_retries_connection_errors_and_timeouts(
    client: AsyncModelGates, mock: aioresponses, waits: list[float], exception: BaseException
) -> None:
    """A dropped connection, a timeout or a refused connection is retried for GET."""
    mock.get(URL_GET, exception=exception)
    mock.get(URL_GET, payload={"data": key_record()})
    key = await client.api_keys.get(HASH, retries=FAST)
    assert key.hash == HASH
    assert waits == [1.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_never_retried(
    client: AsyncModelGates, mock: aioresponses, waits: list[float], status: int
) -> None:
    """4xx other than 429 fail at once."""
    mock.get(URL_GET, status=status, payload=error(status))
    with pytest.raises(APIStatusError) as info:
        await client.api_keys.get(HASH, retries=FAST)
    assert info.value.status == status
    assert len(sent(mock, "GET", URL_GET)) == 1
    assert waits == []


async def test_the_last_failure_is_raised_when_attempts_run_out(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """After `attempts` tries the last error is raised as itself."""
    for _ in range(4):
        mock.get(URL_GET, status=503, payload=error(503))
    with pytest.raises(InternalServerError) as info:
        await client.api_keys.get(HASH, retries=FAST)
    assert info.value.status == 503
    assert len(sent(mock, "GET", URL_GET)) == 4
    assert waits == [1.0, 2.0, 4.0]


async def test_backoff_is_capped_at_max_backoff(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """Waits double from initial_backoff and stop growing at max_backoff."""
    config = RetryConfig(attempts=6, initial_backoff=1.0, max_backoff=3.0, jitter=0.0)
    for _ in range(6):
        mock.get(URL_GET, status=500, payload=error(500))
    with pytest.raises(InternalServerError):
        await client.api_keys.get(HASH, retries=config)
    assert waits == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_jitter_removes_at_most_its_fraction(monkeypatch: pytest.MonkeyPatch) -> None:
    """With jitter j, a backoff b becomes a wait in [b*(1-j), b]."""
    config = RetryConfig(initial_backoff=2.0, max_backoff=100.0, jitter=0.5)
    # A seeded generator of the test's own, instead of reseeding the process's `random`.
    monkeypatch.setattr(retry_module, "random", random.Random(1))
    samples = [config.backoff(3) for _ in range(200)]
    assert all(4.0 <= s <= 8.0 for s in samples)
    assert len(set(samples)) > 100


# --- create() is not idempotent ----------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_create_is_not_retried_on_5xx(
    client: AsyncModelGates, mock: aioresponses, waits: list[float], status: int
) -> None:
    """A 5xx after a POST may mean the key exists: never retried by default."""
    mock.post(URL_KEYS, status=status, payload=error(status))
    mock.post(URL_KEYS, status=201, payload={"data": key_record(), "key": SECRET})
    with pytest.raises(InternalServerError):
        await client.api_keys.create("n", retries=FAST)
    assert len(sent(mock, "POST", URL_KEYS)) == 1
    assert waits == []


@pytest.mark.parametrize("exception", [aiohttp.ServerDisconnectedError(), asyncio.TimeoutError()])
async def test_create_is_not_retried_after_a_connection_that_was_established(
    client: AsyncModelGates, mock: aioresponses, waits: list[float], exception: BaseException
) -> None:
    """A dropped connection or a timeout after sending a POST is not retried."""
    mock.post(URL_KEYS, exception=exception)
    mock.post(URL_KEYS, status=201, payload={"data": key_record(), "key": SECRET})
    with pytest.raises(APIConnectionError):
        await client.api_keys.create("n", retries=FAST)
    assert len(sent(mock, "POST", URL_KEYS)) == 1


async def test_create_is_retried_on_429(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """A 429 means the server did nothing: create is retried."""
    mock.post(URL_KEYS, status=429, payload=error(429), headers={"Retry-After": "1"})
    mock.post(URL_KEYS, status=201, payload={"data": key_record(), "key": SECRET})
    created = await client.api_keys.create("n", retries=FAST)
    assert created.key == SECRET
    assert len(sent(mock, "POST", URL_KEYS)) == 2
    assert waits == [1.0]


async def test_create_is_retried_when_the_connection_was_never_established(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """A refused connection means nothing reached the server: create is retried."""
    mock.post(URL_KEYS, exception=connector_error())
    mock.post(URL_KEYS, status=201, payload={"data": key_record(), "key": SECRET})
    created = await client.api_keys.create("n", retries=FAST)
    assert created.key == SECRET


async def test_create_retries_5xx_when_the_caller_opts_in(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """retry_non_idempotent=True retries create on 5xx and dropped connections."""
    config = RetryConfig(attempts=3, initial_backoff=0.0, retry_non_idempotent=True)
    mock.post(URL_KEYS, status=500, payload=error(500))
    mock.post(URL_KEYS, exception=aiohttp.ServerDisconnectedError())
    mock.post(URL_KEYS, status=201, payload={"data": key_record(), "key": SECRET})
    created = await client.api_keys.create("n", retries=config)
    assert created.key == SECRET
    assert len(sent(mock, "POST", URL_KEYS)) == 3


# --- Retry-After ---------------------------------------------------------------------------


async def test_retry_after_seconds_is_honoured(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """Retry-After: 3 waits exactly 3 seconds instead of the backoff."""
    mock.get(URL_GET, status=503, payload=error(503), headers={"Retry-After": "3"})
    mock.get(URL_GET, payload={"data": key_record()})
    await client.api_keys.get(HASH, retries=FAST)
    assert waits == [3.0]


async def test_retry_after_http_date_is_honoured(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """Retry-After as an HTTP date is used instead of the backoff: a past date waits 0 s."""
    # The arithmetic against a given "now" is pinned by test_parse_retry_after_forms; a date
    # in the past shows the transport uses the header without reading the wall clock here.
    date = email.utils.formatdate(1_000_000_000.0, usegmt=True)  # 2001
    mock.get(URL_GET, status=429, payload=error(429), headers={"Retry-After": date})
    mock.get(URL_GET, payload={"data": key_record()})
    await client.api_keys.get(HASH, retries=FAST)
    assert waits == [0.0]  # FAST's backoff would have been 1.0


async def test_retry_after_ms_is_honoured(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """retry-after-ms: 250 waits a quarter of a second, and wins over Retry-After."""
    mock.get(
        URL_GET,
        status=429,
        payload=error(429),
        headers={"retry-after-ms": "250", "Retry-After": "9"},
    )
    mock.get(URL_GET, payload={"data": key_record()})
    await client.api_keys.get(HASH, retries=FAST)
    assert waits == [0.25]


async def test_a_retry_after_longer_than_the_cap_is_raised_not_slept(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """A server asking for more than max_retry_after gets its error raised at once."""
    config = RetryConfig(attempts=3, max_retry_after=10.0)
    mock.get(URL_GET, status=429, payload=error(429), headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitError) as info:
        await client.api_keys.get(HASH, retries=config)
    assert info.value.retry_after == 3600.0
    assert waits == []
    assert len(sent(mock, "GET", URL_GET)) == 1


def test_parse_retry_after_forms() -> None:
    """Seconds, HTTP dates, milliseconds, junk and the past are all handled."""
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after({"retry-after": "2.5"}, now=lambda: now) == 2.5
    assert parse_retry_after({"retry-after": date}, now=lambda: now) == 30.0
    assert parse_retry_after({"retry-after": past}, now=lambda: now) == 0.0
    assert parse_retry_after({"retry-after": "-4"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after-ms": "nan", "retry-after": "1"}) == 1.0
    assert parse_retry_after({}) is None


# --- configuration ---------------------------------------------------------------------------


async def test_per_call_retries_override_the_client(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """retries=RetryConfig.disabled() on one call sends exactly one request."""
    mock.get(URL_GET, status=503, payload=error(503))
    with pytest.raises(InternalServerError):
        await client.api_keys.get(HASH, retries=RetryConfig.disabled())
    assert len(sent(mock, "GET", URL_GET)) == 1


async def test_statuses_are_configurable(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """A status left out of RetryConfig.statuses is not retried; one added is."""
    config = RetryConfig(attempts=2, initial_backoff=0.0, statuses={400})
    mock.get(URL_GET, status=400, payload=error(400))
    mock.get(URL_GET, payload={"data": key_record()})
    await client.api_keys.get(HASH, retries=config)
    assert len(sent(mock, "GET", URL_GET)) == 2  # the 400 was retried
    mock.get(URL_GET, status=503, payload=error(503))
    with pytest.raises(InternalServerError):
        await client.api_keys.get(HASH, retries=config)
    assert len(sent(mock, "GET", URL_GET)) == 3  # the 503 was not


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"attempts": 1.5},
        {"initial_backoff": -1},
        {"max_backoff": float("inf")},
        {"jitter": 1.5},
        {"max_retry_after": -0.1},
    ],
)
def test_retry_config_refuses_nonsense(kwargs: dict[str, Any]) -> None:
    """RetryConfig validates its numbers when built."""
    with pytest.raises(ValueError, match="RetryConfig"):
        RetryConfig(**kwargs)


def test_total_time_bound_is_computed() -> None:
    """max_total_time = attempts*timeout + (attempts-1)*max(max_backoff, max_retry_after)."""
    assert RetryConfig().max_total_time(30.0) == 3 * 30 + 2 * 30
    assert RetryConfig(attempts=1).max_total_time(5.0) == 5.0
    assert (
        RetryConfig(attempts=4, max_backoff=20.0, max_retry_after=5.0).max_total_time(2.0)
        == 4 * 2 + 3 * 20
    )


async def test_no_call_outlasts_the_total_time_bound(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """A call failing every attempt, asked to wait the longest allowed, stays within the bound."""
    config = RetryConfig(attempts=3, initial_backoff=1.0, max_backoff=2.0, max_retry_after=5.0)
    for _ in range(3):
        mock.get(URL_GET, status=429, payload=error(429), headers={"Retry-After": "5"})
    with pytest.raises(RateLimitError):
        await client.api_keys.get(HASH, retries=config, timeout=1.0)
    assert waits == [5.0, 5.0]
    assert sum(waits) + 3 * 1.0 <= config.max_total_time(1.0)


async def test_timeout_on_every_attempt_raises_api_timeout_error(
    client: AsyncModelGates, mock: aioresponses, waits: list[float]
) -> None:
    """When every attempt times out, the caller gets APITimeoutError."""
    for _ in range(4):
        mock.get(URL_GET, exception=asyncio.TimeoutError())
    with pytest.raises(APITimeoutError):
        await client.api_keys.get(HASH, retries=FAST)
    assert len(waits) == 3

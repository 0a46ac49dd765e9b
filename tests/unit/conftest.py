"""Fixtures for the core's unit tests: a mocked aiohttp, a client, and a sleep recorder."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aioresponses import aioresponses
from aioresponses.core import normalize_url
from yarl import URL

from modelgates_async import AsyncModelGates, RetryConfig
from tests.aioresponses_compat import mocked_aiohttp

BASE = "https://api.test/api/v1"
API_KEY = "sk-mg-v1-" + "5ec7e7" * 10 + "abcd"
HASH = "f01d52606dc8f0a8303a7b5cc3fa07109c2e346cec7c0a16b40de462992ce943"
SECRET = "sk-mg-v1-" + "c0ffee" * 10 + "1234"


def key_record(**overrides: Any) -> dict[str, Any]:
    """A complete APIKey record as the API sends it."""
    record: dict[str, Any] = {
        "created_at": "2025-02-19T20:52:27.363244+00:00",
        "updated_at": "2025-02-19T21:24:11.708154+00:00",
        "hash": HASH,
        "label": "sk-mg-v1-c0f...234",
        "name": "Customer Key",
        "disabled": False,
        "limit": 10,
        "limit_remaining": 7.5,
        "limit_reset": "monthly",
        "include_byok_in_limit": False,
        "usage": 2.5,
        "usage_daily": 0.5,
        "usage_weekly": 1.5,
        "usage_monthly": 2.5,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        "creator_user_id": "user_1",
        "workspace_id": "00000000-0000-4000-8000-000000000000",
        "expires_at": None,
        "external_user": None,
        "last_used_at": None,
    }
    record.update(overrides)
    return record


def current_key_record(**overrides: Any) -> dict[str, Any]:
    """A complete CurrentKey record (``GET /key``)."""
    record: dict[str, Any] = {
        "label": "sk-mg-v1-5ec...bcd",
        "limit": None,
        "limit_remaining": None,
        "limit_reset": None,
        "include_byok_in_limit": False,
        "usage": 0,
        "usage_daily": 0,
        "usage_weekly": 0,
        "usage_monthly": 0,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        "is_free_tier": False,
        "is_management_key": True,
        "is_provisioning_key": True,
        "creator_user_id": None,
        "organization_id": None,
        "workspace_id": "00000000-0000-4000-8000-000000000000",
        "expires_at": None,
        "allowed_data_regions": ["global"],
        "budgets": [],
        "effective_budget": None,
        "free_model_daily_requests": {"limit": 50, "remaining": 50, "used": 0},
        "rate_limit": {"interval": "10s", "note": "deprecated", "requests": 100},
    }
    record.update(overrides)
    return record


def sent(mock: aioresponses, method: str, url: str) -> list[Any]:
    """The calls aiohttp received for ``method url`` (URL with its query)."""
    return mock.requests.get((method, normalize_url(URL(url))), [])


def sent_json(call: Any) -> Any:
    """The JSON body of a recorded call."""
    return json.loads(call.kwargs["data"])


@pytest.fixture
def mock() -> Iterator[aioresponses]:
    """aiohttp with every request answered by aioresponses (none leaves the process)."""
    with mocked_aiohttp() as m:
        yield m


@pytest.fixture
async def client(waits: list[float]) -> AsyncIterator[AsyncModelGates]:
    """A client of the mocked API with three attempts and no real sleeping."""
    async with AsyncModelGates(API_KEY, base_url=BASE, retries=RetryConfig(attempts=3)) as mg:
        yield mg

"""Fixtures for the core's unit tests: a mocked aiohttp and a client of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aioresponses import aioresponses

from modelgates_async import AsyncModelGates, RetryConfig
from tests.helpers import API_KEY, BASE, mocked_aiohttp


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

"""Helpers for the bulk tests: what the server holds, and a recorder for retry sleeps."""

from __future__ import annotations

from collections import Counter

import pytest

import modelgates_async._retry as retry_module
from modelgates_async import AsyncModelGates


async def names_on_server(client: AsyncModelGates) -> Counter[str]:
    """How many keys of each name the server holds, disabled ones included."""
    return Counter([key.name async for key in client.api_keys.iter(include_disabled=True)])


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the retry and limiter sleeps instead of sleeping."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(retry_module, "sleep", record)
    return recorded

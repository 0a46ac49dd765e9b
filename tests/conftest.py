"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest

import modelgates_async._retry as retry_module


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace the retry and limiter sleep: record each wait instead of sleeping."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(retry_module, "sleep", record)
    return recorded

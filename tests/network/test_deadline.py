"""RetryConfig(total_timeout=...): attempts and waits together end by the deadline."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest

from modelgates_async import APITimeoutError, AsyncModelGates, RetryConfig
from modelgates_async.server import LocalServer
from modelgates_async.testing import no_backoff


class FakeClock:
    """The running loop's clock plus the waits skipped so far: pauses cost no real time."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.loop = asyncio.get_running_loop()
        self.real = self.loop.time
        self.offset = 0.0
        monkeypatch.setattr(self.loop, "time", lambda: self.real() + self.offset)

    def advance(self, seconds: float) -> None:
        """Move the clock by a wait that ``no_backoff`` skipped."""
        self.offset += seconds


@pytest.fixture
async def waits(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[float]]:
    """Retry waits are skipped (``no_backoff``) and advance the test loop's clock instead."""
    clock = FakeClock(monkeypatch)
    with no_backoff(on_wait=clock.advance) as skipped:
        yield skipped


def _client(server: LocalServer, retries: RetryConfig, timeout: float = 30.0) -> AsyncModelGates:
    return AsyncModelGates(
        api_key=server.management_key, base_url=server.base_url, retries=retries, timeout=timeout
    )


async def test_retry_after_waits_stop_at_the_deadline(
    modelgates_server: LocalServer, waits: list[float]
) -> None:
    """503 + Retry-After: 1 forever, total_timeout=2.5: two waits, then APITimeoutError."""
    modelgates_server.inject_fault("/key", status=503, headers={"Retry-After": "1"}, times=50)
    retries = RetryConfig(attempts=10, total_timeout=2.5)
    async with _client(modelgates_server, retries) as mg:
        with pytest.raises(APITimeoutError, match=r"total_timeout=2\.5s \(3 attempt") as info:
            await mg.api_keys.get_current_key_metadata()
    assert waits == [1.0, 1.0]
    assert sum(waits) <= 2.5
    assert info.value.total_timeout == 2.5
    assert isinstance(info.value, TimeoutError)
    assert "status 503" in str(info.value)
    assert len(modelgates_server.state.faults.pending()) == 1  # 3 of 50 were used


async def test_a_wait_longer_than_what_is_left_is_not_slept(
    modelgates_server: LocalServer, waits: list[float]
) -> None:
    """Retry-After 20 with 5 s left: no sleep at all, the deadline error at once."""
    modelgates_server.inject_fault("/key", status=503, headers={"Retry-After": "20"}, times=5)
    async with _client(modelgates_server, RetryConfig(total_timeout=5)) as mg:
        with pytest.raises(APITimeoutError, match="total_timeout=5s"):
            await mg.api_keys.get_current_key_metadata()
    assert waits == []


async def test_the_last_attempt_is_shortened_to_fit(modelgates_server: LocalServer) -> None:
    """A slow server and total_timeout=0.3 under timeout=30: cut at the deadline, said so."""
    modelgates_server.inject_fault("/key", delay=2.0, times=1)
    loop = asyncio.get_running_loop()
    async with _client(modelgates_server, RetryConfig(total_timeout=0.3)) as mg:
        started = loop.time()
        with pytest.raises(APITimeoutError, match=r"total_timeout=0\.3s") as info:
            await mg.api_keys.get_current_key_metadata()
        elapsed = loop.time() - started
    assert info.value.total_timeout == 0.3
    assert elapsed < 2.0  # cut by the deadline, not by the 30 s attempt timeout


async def test_a_call_within_the_deadline_is_unchanged(
    modelgates_server: LocalServer, waits: list[float]
) -> None:
    """One 503 then 200 with total_timeout=10: the call succeeds after one short wait."""
    modelgates_server.inject_fault("/key", status=503, headers={"Retry-After": "0.5"}, times=1)
    async with _client(modelgates_server, RetryConfig(total_timeout=10)) as mg:
        assert (await mg.api_keys.get_current_key_metadata()).is_management_key
    assert waits == [0.5]


def test_the_documented_bound_stays_the_default() -> None:
    """Without total_timeout the bound is unchanged; with it, the smaller of the two."""
    assert RetryConfig().total_timeout is None
    assert RetryConfig().max_total_time(30) == 150
    assert RetryConfig(total_timeout=20).max_total_time(30) == 20
    assert RetryConfig(total_timeout=500).max_total_time(30) == 150


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, True, "5"])
def test_a_bad_total_timeout_is_refused(value: object) -> None:
    """total_timeout must be a finite number > 0 (or None)."""
    with pytest.raises(ValueError, match="total_timeout"):
        RetryConfig(total_timeout=value)  # type: ignore[arg-type]

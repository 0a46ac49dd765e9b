"""rate_limiter= plumbing: None keeps the in-process limiter; any RateLimiter is driven."""

from __future__ import annotations

from modelgates_async import AsyncModelGates, ModelGates
from modelgates_async._limiter import AdaptiveLimiter, RateLimiter
from modelgates_async.server import LocalServer


class CountingLimiter:
    """A limiter that lets everything through and counts what the transport asks of it."""

    def __init__(self) -> None:
        self.engaged = True
        self.in_flight = 0
        self.round = 0
        self.rate_limited = 0
        self.calls: list[str] = []

    async def acquire(self, *, wait_pause: bool = True) -> None:
        self.calls.append("acquire")
        self.in_flight += 1

    def release(self) -> None:
        self.calls.append("release")
        self.in_flight -= 1

    def on_success(self) -> None:
        self.calls.append("success")

    def on_rate_limited(self, pause: float, started_round: int) -> None:
        self.calls.append(f"429 {pause}")
        self.rate_limited += 1

    async def aclose(self) -> None:
        self.calls.append("aclose")


def test_default_is_an_in_process_adaptive_limiter() -> None:
    """Without rate_limiter each client gets its own AdaptiveLimiter."""
    one = AsyncModelGates(api_key="sk-test")
    two = AsyncModelGates(api_key="sk-test")
    assert isinstance(one._transport.limiter, AdaptiveLimiter)
    assert one._transport.limiter is not two._transport.limiter


async def test_any_rate_limiter_is_driven_around_each_attempt(
    modelgates_server: LocalServer,
) -> None:
    """A limiter passed in sees acquire, release and the outcome of every attempt, then aclose."""
    limiter = CountingLimiter()
    assert isinstance(limiter, RateLimiter)
    modelgates_server.inject_fault("/api/v1/keys", status=429, headers={"Retry-After": "0"})
    async with AsyncModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        rate_limiter=limiter,
    ) as client:
        await client.api_keys.list()  # a 429, then its retry
    assert limiter.calls == [
        "acquire",
        "429 0.0",
        "release",
        "acquire",
        "release",
        "success",
        "aclose",
    ]
    assert limiter.in_flight == 0


def test_sync_facade_passes_the_limiter_on(modelgates_server: LocalServer) -> None:
    """ModelGates(rate_limiter=...) hands the same limiter to its async client."""
    limiter = CountingLimiter()
    with ModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        rate_limiter=limiter,
    ) as client:
        client.api_keys.get_current_key_metadata()
    assert limiter.calls == ["acquire", "release", "success", "aclose"]

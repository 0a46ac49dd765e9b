"""RedisRateLimiter end to end: the local server over real sockets, a real redis-server."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from modelgates_async import AsyncModelGates, InvalidRequestError, ModelGates, RetryConfig
from modelgates_async.models import APIKey
from modelgates_async.server import LocalServer

from .helpers import RedisServer, free_port, import_or_require

redis_module = import_or_require("modelgates_async.redis")
RedisRateLimiter = redis_module.RedisRateLimiter

NO_BACKOFF = RetryConfig(initial_backoff=0.0, max_backoff=0.0, jitter=0.0)
UNREACHABLE = "Redis is unreachable"


def client_for(server: LocalServer, limiter: object) -> AsyncModelGates:
    return AsyncModelGates(
        api_key=server.management_key,
        base_url=server.base_url,
        retries=NO_BACKOFF,
        rate_limiter=limiter,  # type: ignore[arg-type]
    )


def fallback_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and UNREACHABLE in r.message]


async def test_calls_take_and_give_back_shared_slots(
    modelgates_server: LocalServer, redis_url: str, key: str
) -> None:
    """Calls through the shared limiter succeed, grow the window and leave no lease behind."""
    limiter = RedisRateLimiter(redis_url, key=key, initial_window=2)
    async with client_for(modelgates_server, limiter) as client:
        created = await asyncio.gather(*(client.api_keys.create(f"k{i}") for i in range(6)))
        assert len({c.data.hash for c in created}) == 6
    assert limiter.sharing
    assert limiter.in_flight == 0
    probe = RedisRateLimiter(redis_url, key=key)
    async with client_for(modelgates_server, probe):
        state = await probe._connection().state.snapshot()
        await probe.aclose()
    assert state.in_flight == 0
    assert state.window is not None
    assert state.window > 2.0  # six successes grew the one window all processes share


async def test_a_429_in_one_process_pauses_the_others(
    modelgates_server: LocalServer, redis_url: str, key: str, waits: list[float]
) -> None:
    """Retry-After seen by one client holds another client (another limiter) on the same key."""
    first = RedisRateLimiter(redis_url, key=key)
    other = RedisRateLimiter(redis_url, key=key)
    modelgates_server.inject_fault("/api/v1/keys", status=429, headers={"Retry-After": "7"})
    async with client_for(modelgates_server, first) as client:
        await client.api_keys.list()  # 429, then its retry after 7 s (recorded, not slept)
    assert first.rate_limited == 1
    async with client_for(modelgates_server, other) as client:
        await client.api_keys.list()
    assert waits[0] == 7.0  # the refused call's own retry wait
    assert len(waits) == 2
    assert waits[1] == pytest.approx(7.0, abs=1.0)  # the other process waits out the pause
    assert other.rate_limited == 0


async def test_a_cancelled_wait_leaves_no_slot_taken(redis_url: str, key: str) -> None:
    """An acquire cancelled while the shared window is full takes no slot with it."""
    limiter = RedisRateLimiter(redis_url, key=key, initial_window=1)
    await limiter.acquire()
    waiting = asyncio.ensure_future(limiter.acquire())
    for _ in range(10_000):  # until the waiter asks Redis (it holds the gate meanwhile)
        if limiter._conn is not None and limiter._conn.gate.locked():
            break
        await asyncio.sleep(0)
    assert limiter._conn is not None
    assert limiter._conn.gate.locked()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    limiter.release()
    await limiter.aclose()  # sends the pending releases
    probe = RedisRateLimiter(redis_url, key=key)
    state = await probe._connection().state.snapshot()
    await probe.aclose()
    assert state.in_flight == 0
    assert limiter.in_flight == 0


async def test_leases_follow_the_clock_given(redis_url: str, key: str) -> None:
    """With clock=, lease expiry follows that clock: slots never released return after lease_ttl."""
    now = [5000.0]
    limiter = RedisRateLimiter(
        redis_url, key=key, initial_window=2, lease_ttl=10, clock=lambda: now[0]
    )
    await limiter.acquire()
    await limiter.acquire()  # the whole window, never released (as if the holder died)
    now[0] += 10.5
    await asyncio.wait_for(limiter.acquire(), timeout=5)  # granted at once: both leases lapsed
    state = await limiter._connection().state.snapshot()
    await limiter.aclose()
    assert state.in_flight == 1


def test_sync_facade_uses_the_shared_limiter(
    modelgates_server: LocalServer, redis_url: str, key: str
) -> None:
    """ModelGates(rate_limiter=RedisRateLimiter(url)) works and closes its connections."""
    limiter = RedisRateLimiter(redis_url, key=key)
    with ModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        rate_limiter=limiter,
    ) as client:
        created = client.api_keys.create("sync")
        assert client.api_keys.get(created.data.hash).name == "sync"
    assert limiter.sharing
    assert limiter.in_flight == 0


async def test_unreachable_redis_falls_back_with_one_warning(
    modelgates_server: LocalServer, caplog: pytest.LogCaptureFixture, key: str
) -> None:
    """No Redis at all: every call still succeeds, through the fallback, with one warning."""
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0", key=key)
    with caplog.at_level(logging.WARNING, logger="modelgates_async"):
        async with client_for(modelgates_server, limiter) as client:
            results = await asyncio.gather(*(client.api_keys.list() for _ in range(30)))
    assert len(results) == 30
    assert not limiter.sharing
    assert len(fallback_warnings(caplog)) == 1
    assert "127.0.0.1" not in fallback_warnings(caplog)[0].message


async def test_fallback_adapts_to_429s_on_its_own(
    modelgates_server: LocalServer, key: str, waits: list[float]
) -> None:
    """Without Redis, a 429 engages the process's own limiter, as if no Redis were configured."""
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0", key=key)
    limiter.round = 5  # the shared round seen before Redis went away: not the fallback's
    modelgates_server.inject_fault("/api/v1/keys", status=429, headers={"Retry-After": "3"})
    async with client_for(modelgates_server, limiter) as client:
        await client.api_keys.list()
    assert not limiter.sharing
    assert limiter.fallback.engaged
    assert limiter.fallback.rate_limited == limiter.rate_limited == 1
    assert limiter.fallback.round == 1  # the one cut of its window
    assert waits == [3.0]


async def test_redis_stopped_mid_run_then_back(
    modelgates_server: LocalServer,
    own_redis: RedisServer,
    caplog: pytest.LogCaptureFixture,
    key: str,
) -> None:
    """Redis dies mid-run: the run finishes with one warning; when it returns, sharing resumes."""
    limiter = RedisRateLimiter(own_redis.url, key=key, retry_interval=0.01)
    done = 0
    stopped = asyncio.Event()

    async with client_for(modelgates_server, limiter) as client:

        async def one(index: int) -> None:
            nonlocal done
            await client.api_keys.create(f"run-{index}")
            done += 1
            if done == 20:
                own_redis.kill()  # blocks the loop: no call slips through meanwhile
                stopped.set()

        with caplog.at_level(logging.INFO, logger="modelgates_async"):
            await asyncio.gather(*(one(i) for i in range(80)))
            assert stopped.is_set()
            assert not limiter.sharing
            assert len(fallback_warnings(caplog)) == 1

            own_redis.start()  # same port
            for _ in range(2000):  # bounded: a call probes Redis once retry_interval passed
                await client.api_keys.list()
                if limiter.sharing:
                    break
        assert limiter.sharing
        assert len(fallback_warnings(caplog)) == 1
        assert any("reachable again" in r.message for r in caplog.records)
    keys = {k.name for k in await _all_keys(modelgates_server)}
    assert {f"run-{i}" for i in range(80)} <= keys


async def _all_keys(server: LocalServer) -> list[APIKey]:
    async with AsyncModelGates(api_key=server.management_key, base_url=server.base_url) as c:
        return [k async for k in c.api_keys.iter()]


def test_a_killed_process_gives_its_slots_back(redis_url: str, key: str) -> None:
    """A process SIGKILLed while holding the whole window: its leases expire, slots return."""
    holder = textwrap.dedent(
        f"""
        import asyncio, sys, time
        from modelgates_async.redis import RedisRateLimiter

        async def main():
            limiter = RedisRateLimiter({redis_url!r}, key={key!r}, lease_ttl=1.0,
                                       initial_window=2)
            await limiter.acquire()
            await limiter.acquire()
            print("HELD", flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "HELD"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()

    async def take_a_slot() -> tuple[int, bool]:
        limiter = RedisRateLimiter(redis_url, key=key, lease_ttl=1.0, initial_window=2)
        held = (await limiter._connection().state.snapshot()).in_flight
        await asyncio.wait_for(limiter.acquire(), timeout=10)  # waits for the leases to expire
        limiter.release()
        await limiter.aclose()
        return held, limiter.sharing

    held_by_the_dead, sharing = asyncio.run(take_a_slot())
    assert held_by_the_dead == 2
    assert sharing


@pytest.mark.parametrize(
    ("args", "kwargs", "argument"),
    [
        ((42,), {}, "redis_url_or_client"),
        (("localhost:6379",), {}, "redis_url_or_client"),
        (("redis://x",), {"key": ""}, "key"),
        (("redis://x",), {"key": "a{b}"}, "key"),
        (("redis://x",), {"max_rate": 0}, "max_rate"),
        (("redis://x",), {"lease_ttl": -1}, "lease_ttl"),
        (("redis://x",), {"initial_window": 10, "max_window": 5}, "initial_window"),
    ],
)
def test_bad_arguments_are_refused(
    args: tuple[object], kwargs: dict[str, object], argument: str
) -> None:
    """Bad limiter settings raise InvalidRequestError naming the argument."""
    with pytest.raises(InvalidRequestError) as caught:
        RedisRateLimiter(*args, **kwargs)
    assert caught.value.argument == argument


def test_client_refuses_what_is_not_a_limiter() -> None:
    """AsyncModelGates(rate_limiter=...) refuses an object that is not a limiter."""
    with pytest.raises(InvalidRequestError):
        AsyncModelGates(api_key="sk-test", rate_limiter="redis://x")  # type: ignore[arg-type]


def test_limiter_from_env_or_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI helper: a URL wins over $MODELGATES_REDIS_URL; neither means None."""
    monkeypatch.delenv("MODELGATES_REDIS_URL", raising=False)
    assert redis_module.limiter_from_env_or_url(None) is None
    monkeypatch.setenv("MODELGATES_REDIS_URL", "redis://env:6379/0")
    from_env = redis_module.limiter_from_env_or_url(None, key="k")
    assert from_env is not None
    assert from_env._source == "redis://env:6379/0"
    assert from_env.key == "k"
    from_url = redis_module.limiter_from_env_or_url("redis://url:6379/0")
    assert from_url is not None
    assert from_url._source == "redis://url:6379/0"

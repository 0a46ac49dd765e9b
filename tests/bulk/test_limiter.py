"""The client-wide adaptive limiter on its own: a fake clock, sleeps that only move it."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator

import pytest

from modelgates_async._limiter import AdaptiveLimiter
from modelgates_async.testing import no_backoff
from tests.bulk.helpers import FakeTime


@pytest.fixture
def fake_time() -> Iterator[FakeTime]:
    """A fake clock, moved by the limiter's pauses (skipped by the public test mode)."""
    time = FakeTime()
    with no_backoff(on_wait=time.sleep):
        yield time


@pytest.fixture
def limiter(fake_time: FakeTime) -> AdaptiveLimiter:
    return AdaptiveLimiter(quiet_period=5.0, clock=fake_time.clock)


def occupy(limiter: AdaptiveLimiter, n: int) -> None:
    """Put ``n`` idle-mode attempts in flight, as the transport does before any 429."""
    limiter.in_flight += n


async def test_starts_idle_and_unbounded(limiter: AdaptiveLimiter) -> None:
    """A new limiter is idle: no window, no pause, acquire returns at once."""
    assert not limiter.engaged
    assert limiter.window == math.inf
    await limiter.acquire()
    assert limiter.in_flight == 1
    limiter.release()
    assert limiter.in_flight == 0


async def test_first_429_engages_and_halves_the_window(limiter: AdaptiveLimiter) -> None:
    """The first 429 engages the limiter with a window of half the attempts in flight."""
    occupy(limiter, 16)
    limiter.on_rate_limited(1.0, started_round=0)
    assert limiter.engaged
    assert limiter.window == 8.0
    assert limiter.round == 1


async def test_pause_holds_every_new_attempt(limiter: AdaptiveLimiter, fake_time: FakeTime) -> None:
    """After a 429 with Retry-After 2, a new attempt sleeps the 2 seconds first."""
    occupy(limiter, 2)
    limiter.on_rate_limited(2.0, started_round=0)
    limiter.release()  # the refused attempt ends; the other still holds the one slot
    limiter.release()
    await limiter.acquire()
    assert fake_time.sleeps == [2.0]
    assert limiter.paused_for == 0.0


async def test_retry_attempts_skip_the_pause(limiter: AdaptiveLimiter, fake_time: FakeTime) -> None:
    """acquire(wait_pause=False) — a retry that already waited — takes a slot, no sleep."""
    occupy(limiter, 2)
    limiter.on_rate_limited(2.0, started_round=0)
    limiter.release()
    limiter.release()
    await limiter.acquire(wait_pause=False)
    assert fake_time.sleeps == []
    assert limiter.in_flight == 1


async def test_stale_429s_neither_cut_nor_extend(
    limiter: AdaptiveLimiter, fake_time: FakeTime
) -> None:
    """429s of attempts sent before the cut leave the window and the pause alone."""
    occupy(limiter, 16)
    limiter.on_rate_limited(1.0, started_round=0)
    fake_time.now += 0.5
    limiter.on_rate_limited(1.0, started_round=0)
    limiter.on_rate_limited(1.0, started_round=0)
    assert limiter.window == 8.0
    assert limiter.paused_for == pytest.approx(0.5)
    assert limiter.rate_limited == 3


async def test_a_later_round_cuts_again_down_to_one(limiter: AdaptiveLimiter) -> None:
    """Each new round's 429 halves the window again, never below one slot."""
    occupy(limiter, 8)
    for started_round in range(6):
        limiter.on_rate_limited(0.0, started_round=started_round)
    assert limiter.window == 1.0
    assert limiter.round == 6


async def test_window_bounds_attempts_in_flight_fifo(limiter: AdaptiveLimiter) -> None:
    """With a window of 2, later attempts wait and get freed slots oldest first."""
    occupy(limiter, 4)
    limiter.on_rate_limited(0.0, started_round=0)  # window 2, 4 still in flight
    order: list[int] = []

    async def attempt(n: int) -> None:
        await limiter.acquire()
        order.append(n)

    waiting = [asyncio.ensure_future(attempt(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert order == []
    for _ in range(3):  # 4 → 1 in flight: one slot under the window, for the oldest
        limiter.release()
    await asyncio.sleep(0)
    assert order == [0]
    assert limiter.in_flight == 2
    limiter.release()
    await asyncio.sleep(0)
    assert order == [0, 1]
    limiter.release()
    await asyncio.sleep(0)
    assert order == [0, 1, 2]
    await asyncio.gather(*waiting)


async def test_success_grows_the_window_additively(
    limiter: AdaptiveLimiter, fake_time: FakeTime
) -> None:
    """Each success adds 1/window: about one slot per window's worth of successes."""
    occupy(limiter, 8)
    limiter.on_rate_limited(0.0, started_round=0)  # window 4
    for _ in range(4):
        limiter.on_success()
    assert 4.9 < limiter.window < 5.0
    assert limiter.engaged


async def test_quiet_period_returns_to_idle_and_frees_waiters(
    limiter: AdaptiveLimiter, fake_time: FakeTime
) -> None:
    """A success 5 s after the last 429 makes the limiter idle again and wakes every waiter."""
    occupy(limiter, 2)
    limiter.on_rate_limited(0.0, started_round=0)  # window 1, 2 in flight
    waiting = [asyncio.ensure_future(limiter.acquire()) for _ in range(3)]
    await asyncio.sleep(0)
    fake_time.now += 5.0
    limiter.on_success()
    await asyncio.gather(*waiting)
    assert not limiter.engaged
    assert limiter.window == math.inf
    assert limiter.in_flight == 5


async def test_cancelled_waiter_leaks_no_slot(limiter: AdaptiveLimiter) -> None:
    """A waiting attempt that is cancelled leaves the count as it was."""
    occupy(limiter, 2)
    limiter.on_rate_limited(0.0, started_round=0)  # window 1
    waiter = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limiter.release()
    limiter.release()
    assert limiter.in_flight == 0
    await limiter.acquire()
    assert limiter.in_flight == 1


async def test_waiter_cancelled_as_its_slot_arrives_gives_it_back(
    limiter: AdaptiveLimiter,
) -> None:
    """A slot handed to an attempt cancelled in the same tick goes to the next waiter."""
    occupy(limiter, 2)
    limiter.on_rate_limited(0.0, started_round=0)  # window 1
    first = asyncio.ensure_future(limiter.acquire())
    second = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    limiter.release()
    limiter.release()  # hands the slot to `first`
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await second
    assert limiter.in_flight == 1


async def test_pause_does_not_spin_when_sleep_returns_early() -> None:
    """With a sleep that returns at once and a clock that stands still, acquire sleeps once."""
    limiter = AdaptiveLimiter(clock=lambda: 0.0)
    occupy(limiter, 1)
    limiter.on_rate_limited(3.0, started_round=0)
    limiter.release()
    with no_backoff() as calls:
        await limiter.acquire()
    assert calls == [3.0]


async def test_a_new_429_during_the_pause_extends_it(
    limiter: AdaptiveLimiter, fake_time: FakeTime
) -> None:
    """A 429 of a new round arriving while others sleep makes them sleep on to its end."""
    occupy(limiter, 4)
    limiter.on_rate_limited(1.0, started_round=0)  # window 2
    limiter.release()
    limiter.release()
    limiter.release()

    def sleep_then_429(seconds: float) -> None:
        fake_time.sleep(seconds)
        if len(fake_time.sleeps) == 1:
            limiter.on_rate_limited(2.0, started_round=1)

    with no_backoff(on_wait=sleep_then_429):
        await limiter.acquire()
    assert fake_time.sleeps == [1.0, 2.0]

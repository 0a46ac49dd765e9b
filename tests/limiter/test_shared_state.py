"""The shared state machine in real Redis, driven by a fake clock (``now=`` in seconds)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from modelgates_async._limiter.scripts import SharedState

from .helpers import import_or_require

if TYPE_CHECKING:
    import redis.asyncio as redis_asyncio
else:
    redis_asyncio = import_or_require("redis.asyncio")

T0 = 1_000_000.0  # the fake clock's start, seconds


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def make_state(client: redis_asyncio.Redis, key: str, **options: float | None) -> SharedState:
    settings: dict[str, float | None] = {
        "initial_window": 2.0,
        "max_window": 8.0,
        "lease_ttl": 5.0,
        "state_ttl": 60.0,
        "max_rate": None,
    }
    settings.update(options)
    return SharedState(client, key, **settings)  # type: ignore[arg-type]


async def test_window_starts_small_for_everyone(client: redis_asyncio.Redis, key: str) -> None:
    """A fresh state grants initial_window slots in all, then refuses with 'window full'."""
    one, two = make_state(client, key), make_state(client, key)  # two processes
    assert (await one.acquire("a", wait_pause=True, now=T0)).granted
    assert (await two.acquire("b", wait_pause=True, now=T0)).granted
    refused = await one.acquire("c", wait_pause=True, now=T0)
    assert not refused.granted
    assert refused.wait == -1.0
    assert (await two.snapshot()).in_flight == 2


async def test_successes_grow_the_window_additively(client: redis_asyncio.Redis, key: str) -> None:
    """Each success adds 1/window, up to max_window; a plain release leaves it alone."""
    state = make_state(client, key, max_window=3.0)
    await state.acquire("a", wait_pause=True, now=T0)
    assert await state.release("a", outcome="ok", round=0, now=T0) == (0, 2.5)
    await state.acquire("b", wait_pause=True, now=T0)
    assert await state.release("b", outcome="other", round=0, now=T0) == (0, 2.5)
    for lease in "cdefg":
        await state.acquire(lease, wait_pause=True, now=T0)
        await state.release(lease, outcome="ok", round=0, now=T0)
    assert (await state.snapshot()).window == 3.0
    assert (await state.snapshot()).in_flight == 0


async def test_the_window_stops_growing_while_calls_queue(
    client: redis_asyncio.Redis, key: str
) -> None:
    """A success grows the window only while window * (1 - fastest/rtt) stays under 4."""
    state = make_state(client, key, initial_window=10.0, max_window=64.0)
    await state.acquire("fastest", wait_pause=True, now=T0)
    await state.release("fastest", outcome="other", round=0, rtt=0.001, now=T0)  # sets 1 ms
    await state.acquire("queued", wait_pause=True, now=T0)
    # 10 * (1 - 1/10) = 9 calls waiting in queues: more slots would gain nothing
    assert await state.release("queued", outcome="ok", round=0, rtt=0.01, now=T0) == (0, 10.0)
    await state.acquire("travelling", wait_pause=True, now=T0)
    # about 1.7 calls queueing: room to grow by 1/10
    _, window = await state.release("travelling", outcome="ok", round=0, rtt=0.0012, now=T0)
    assert window == pytest.approx(10.1)


async def test_a_429_pauses_every_process_and_cuts_once(
    client: redis_asyncio.Redis, key: str
) -> None:
    """The first 429 of a round halves the window and pauses all; late 429s only count."""
    one, two = make_state(client, key, initial_window=8.0), make_state(client, key)
    for lease in "abcd":
        await one.acquire(lease, wait_pause=True, now=T0)
    # "a" got a 429 asking for 2 s: window min(8, 4 in flight) / 2 = 2, round 1.
    assert await one.release("a", outcome="limited", round=0, pause=2.0, now=T0) == (1, 2.0)
    # "b" was sent in round 0 too: no second cut, the pause stays.
    assert await one.release("b", outcome="limited", round=0, pause=1.0, now=T0) == (1, 2.0)
    paused = await two.acquire("x", wait_pause=True, now=T0 + 0.5)
    assert not paused.granted
    assert paused.wait == pytest.approx(1.5)
    assert paused.resume_at == pytest.approx(T0 + 2.0)
    # A retry has waited on its own: it skips the pause but not the window (2 in flight).
    assert not (await two.acquire("x", wait_pause=False, now=T0 + 0.5)).granted
    await one.release("c", outcome="other", round=0, now=T0 + 0.5)
    assert (await two.acquire("x", wait_pause=False, now=T0 + 0.5)).granted
    snapshot = await two.snapshot()
    assert (snapshot.round, snapshot.limited) == (1, 2)


async def test_a_new_round_cuts_again_down_to_one(client: redis_asyncio.Redis, key: str) -> None:
    """429s of attempts sent after a cut cut again, never below one slot."""
    state = make_state(client, key)
    for round_ in range(4):
        await state.acquire(f"l{round_}", wait_pause=False, now=T0)
        await state.release(f"l{round_}", outcome="limited", round=round_, pause=0.0, now=T0)
    snapshot = await state.snapshot()
    assert (snapshot.window, snapshot.round) == (1.0, 4)


async def test_leases_of_a_dead_process_expire(client: redis_asyncio.Redis, key: str) -> None:
    """Slots never released come back once their lease_ttl has passed."""
    dead, alive = make_state(client, key), make_state(client, key)
    await dead.acquire("a", wait_pause=True, now=T0)
    await dead.acquire("b", wait_pause=True, now=T0)
    assert not (await alive.acquire("c", wait_pause=True, now=T0 + 4.9)).granted
    assert (await alive.acquire("c", wait_pause=True, now=T0 + 5.1)).granted
    assert (await alive.snapshot()).in_flight == 1


async def test_max_rate_spaces_the_calls(client: redis_asyncio.Redis, key: str) -> None:
    """With max_rate=10 the grants come with delays 0, 0.1, 0.2 s; later ones start fresh."""
    state = make_state(client, key, initial_window=8.0, max_rate=10.0)
    delays = [(await state.acquire(f"l{i}", wait_pause=True, now=T0)).wait for i in range(3)]
    assert delays == pytest.approx([0.0, 0.1, 0.2])
    assert (await state.acquire("late", wait_pause=True, now=T0 + 10)).wait == 0.0


async def test_every_key_expires_on_its_own(client: redis_asyncio.Redis, key: str) -> None:
    """Both keys carry a TTL: the state's state_ttl, the leases' the last lease's expiry."""
    state = make_state(client, key, lease_ttl=5.0, state_ttl=30.0)
    await state.acquire("a", wait_pause=True)  # the server's clock
    state_key, leases_key = state.keys
    assert 0 < await client.pttl(state_key) <= 30_000
    assert 0 < await client.pttl(leases_key) <= 5_002
    await state.release("a", outcome="ok", round=0)
    assert 0 < await client.pttl(state_key) <= 30_000


async def cut(state: SharedState, now: float, round_: int, pause: float = 1.0) -> None:
    """One call refused with a 429 that cuts the window (the first of round ``round_``)."""
    lease = f"cut-{now}"
    assert (await state.acquire(lease, wait_pause=False, now=now)).granted
    await state.release(lease, outcome="limited", round=round_, pause=pause, now=now)


async def grant_many(state: SharedState, n: int, now: float) -> list[float]:
    """``n`` calls let through at ``now``; their delays under the pace."""
    delays = []
    for i in range(n):
        grant = await state.acquire(f"g-{now}-{i}", wait_pause=False, now=now)
        assert grant.granted
        delays.append(grant.wait)
        await state.release(f"g-{now}-{i}", outcome="other", round=-1, now=now)
    return delays


async def test_rounds_back_to_back_pace_the_calls(client: redis_asyncio.Redis, key: str) -> None:
    """Two cuts 2 s apart with 40 calls between: pace at 0.95 x 20/s, growing 2 % a second."""
    state = make_state(client, key)
    await cut(state, T0, 0)
    await grant_many(state, 39, T0 + 1.5)  # + the cutting call below: 40 in the cycle
    await cut(state, T0 + 2.0, 1)  # pause until T0 + 3
    delays = await grant_many(state, 3, T0 + 3.0)
    assert delays == pytest.approx([0.0, 1 / 19, 2 / 19], rel=1e-5)
    later = await grant_many(state, 2, T0 + 13.0)  # 10 s on: 19/s x 1.2
    assert later == pytest.approx([0.0, 1 / (19 * 1.2)], rel=1e-5)


async def test_rounds_far_apart_do_not_pace(client: redis_asyncio.Redis, key: str) -> None:
    """A cycle longer than 15 s (idle time, long pauses) says nothing about the limit."""
    state = make_state(client, key)
    await cut(state, T0, 0)
    await grant_many(state, 50, T0 + 1.0)
    await cut(state, T0 + 16.0, 1)
    assert await grant_many(state, 3, T0 + 17.0) == [0.0, 0.0, 0.0]

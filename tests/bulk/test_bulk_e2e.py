"""create/update/delete/get_many end to end: the local server over real sockets, with faults."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from modelgates_async import (
    APIConnectionError,
    AsyncModelGates,
    BulkError,
    CreatedKey,
    InternalServerError,
    InvalidRequestError,
    KeySpec,
    KeyUpdate,
    LimitReset,
    NotFoundError,
)
from modelgates_async._limiter import AdaptiveLimiter
from modelgates_async.server import AsyncLocalServer, LocalServer
from modelgates_async.server.ratelimit import RateLimiter
from modelgates_async.testing import no_backoff
from tests.bulk.helpers import FakeTime
from tests.helpers import names_on_server

RETRY_NOW = {"Retry-After": "0"}


def specs(n: int, prefix: str = "tenant") -> list[KeySpec]:
    return [KeySpec(f"{prefix}-{i:03d}", limit=float(i), limit_reset="monthly") for i in range(n)]


async def test_create_many_creates_each_spec_once_in_input_order(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """Every spec gets exactly one key; the result lists them in input order with secrets."""
    result = await async_modelgates_client.api_keys.create_many(specs(25), concurrency=8)
    assert result.ok
    assert [created.data.name for created in result.values] == [
        f"tenant-{i:03d}" for i in range(25)
    ]
    assert all(created.key.startswith("sk-mg-v1-") for created in result.values)
    assert result[7].value is not None
    assert result[7].value.data.limit == 7.0
    assert result[7].value.data.limit_reset is LimitReset.MONTHLY
    assert await names_on_server(async_modelgates_client) == Counter(
        f"tenant-{i:03d}" for i in range(25)
    )


async def test_create_many_accepts_mappings_with_create_keywords(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """Plain dicts with create()'s keyword names work as specs."""
    result = await async_modelgates_client.api_keys.create_many(
        [{"name": "a", "limit": 5, "include_byok_in_limit": True}, {"name": "b"}]
    )
    assert result.ok
    first, second = result.values
    assert (first.data.limit, first.data.include_byok_in_limit) == (5.0, True)
    assert second.data.limit is None


async def test_invalid_specs_fail_alone_and_are_never_sent(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """A bad spec fails with InvalidRequestError; the valid ones around it are created."""
    result = await async_modelgates_client.api_keys.create_many(
        [KeySpec("ok-1"), KeySpec(""), {"name": "ok-2", "limit": -1}, {"nme": "x"}, KeySpec("ok-3")]
    )
    assert [item.ok for item in result] == [True, False, False, False, True]
    assert all(isinstance(item.error, InvalidRequestError) for item in result.errors)
    assert await names_on_server(async_modelgates_client) == Counter(["ok-1", "ok-3"])


async def test_create_many_retries_429s_without_duplicates(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """Creates refused with 429 are sent again; each spec still ends up as one key."""
    modelgates_server.inject_fault("/keys", method="POST", status=429, headers=RETRY_NOW, times=12)
    result = await async_modelgates_client.api_keys.create_many(specs(20), concurrency=6)
    assert result.ok
    names = await names_on_server(async_modelgates_client)
    assert len(names) == 20
    assert set(names.values()) == {1}


async def test_create_many_never_resends_a_create_that_hit_a_5xx(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A 500 on a create fails that spec alone (no retry, no second key); the rest succeed."""
    modelgates_server.inject_fault("/keys", method="POST", status=500, times=3)
    result = await async_modelgates_client.api_keys.create_many(specs(10), concurrency=1)
    assert (result.succeeded, result.failed) == (7, 3)
    assert [item.index for item in result.errors] == [0, 1, 2]
    assert all(isinstance(item.error, InternalServerError) for item in result.errors)
    names = await names_on_server(async_modelgates_client)
    assert sorted(names) == [f"tenant-{i:03d}" for i in range(3, 10)]
    assert set(names.values()) == {1}


async def test_create_many_reports_a_dropped_connection_without_resending(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A create whose connection drops after sending fails alone and is not sent again."""
    modelgates_server.inject_fault("/keys", method="POST", drop=True, times=1)
    result = await async_modelgates_client.api_keys.create_many(specs(4), concurrency=1)
    assert [item.ok for item in result] == [False, True, True, True]
    assert isinstance(result[0].error, APIConnectionError)
    names = await names_on_server(async_modelgates_client)
    assert set(names.values()) == {1}
    assert len(names) == 3


async def test_create_many_reports_progress(async_modelgates_client: AsyncModelGates) -> None:
    """on_progress sees the start, then each spec, ending at (total, total, failed)."""
    reports: list[tuple[int, int, int]] = []
    await async_modelgates_client.api_keys.create_many(
        [KeySpec("a"), KeySpec(""), KeySpec("b")],
        concurrency=2,
        on_progress=lambda *report: reports.append(report),
    )
    assert reports[0] == (0, 3, 0)
    assert reports[-1] == (3, 3, 1)
    assert [done for done, _, _ in reports] == [0, 1, 2, 3]


async def test_create_many_iter_yields_items_as_they_finish(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """create_many_iter yields one BulkItem per spec, each naming its input's index."""
    seen: dict[int, CreatedKey] = {}
    async for item in async_modelgates_client.api_keys.create_many_iter(specs(6), concurrency=3):
        seen[item.index] = item.unwrap()
    assert sorted(seen) == list(range(6))
    assert all(seen[i].data.name == f"tenant-{i:03d}" for i in seen)


async def test_breaking_out_of_create_many_iter_loses_no_reported_key(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """Closing the iterator early stops the run; every key it reported exists on the server."""
    reported: list[str] = []
    items = async_modelgates_client.api_keys.create_many_iter(specs(30), concurrency=2)
    async with contextlib.aclosing(items):
        async for item in items:
            assert item.value is not None
            reported.append(item.value.data.name)
            if len(reported) == 3:
                break
    names = await names_on_server(async_modelgates_client)
    assert set(reported) <= set(names)
    assert len(names) < 30


async def test_create_many_secrets_stay_out_of_reprs(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """Neither the result, its items nor a BulkError show a created key's secret."""
    result = await async_modelgates_client.api_keys.create_many([KeySpec("a"), KeySpec("")])
    secret = result.values[0].key
    with pytest.raises(BulkError) as info:
        result.raise_for_errors()
    for text in (repr(result), repr(list(result)), str(info.value), repr(info.value)):
        assert secret not in text


async def test_update_many_applies_every_change_despite_5xx(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """Updates are idempotent: injected 503s are retried and every change lands."""
    created = (await async_modelgates_client.api_keys.create_many(specs(6))).values
    modelgates_server.inject_fault("/keys/*", method="PATCH", status=503, times=4)
    changes: list[KeyUpdate | tuple[str, Mapping[str, Any]] | Mapping[str, Any]] = [
        KeyUpdate(created[0].data.hash, disabled=True),
        (created[1].data.hash, {"limit": None}),
        {"hash": created[2].data.hash, "name": "renamed", "limit_reset": LimitReset.DAILY},
        KeyUpdate(created[3].data.hash, include_byok_in_limit=True),
        (created[4].data.hash, {"limit": 99}),
        KeyUpdate(created[5].data.hash, limit_reset=None),
    ]
    result = await async_modelgates_client.api_keys.update_many(changes, concurrency=3)
    assert result.ok
    first, second, third, fourth, fifth, sixth = result.values
    assert first.disabled
    assert second.limit is None
    assert (third.name, third.limit_reset) == ("renamed", LimitReset.DAILY)
    assert fourth.include_byok_in_limit
    assert fifth.limit == 99.0
    assert sixth.limit_reset is None


async def test_update_many_isolates_bad_changes_and_unknown_keys(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """An empty change or a bad hash fails before sending; an unknown key fails with 404."""
    [created] = (await async_modelgates_client.api_keys.create_many([KeySpec("x")])).values
    result = await async_modelgates_client.api_keys.update_many(
        [
            (created.data.hash, {}),
            ("../etc", {"disabled": True}),
            ("0" * 64, {"disabled": True}),
            (created.data.hash, {"disabled": True}),
        ]
    )
    assert [item.ok for item in result] == [False, False, False, True]
    assert isinstance(result[0].error, InvalidRequestError)
    assert isinstance(result[1].error, InvalidRequestError)
    assert isinstance(result[2].error, NotFoundError)


async def test_delete_many_deletes_and_reports_missing_keys(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """delete_many removes every key; a hash deleted twice fails alone with 404."""
    hashes = [
        c.data.hash for c in (await async_modelgates_client.api_keys.create_many(specs(5))).values
    ]
    modelgates_server.inject_fault("/keys/*", method="DELETE", status=500, times=2)
    result = await async_modelgates_client.api_keys.delete_many([*hashes, hashes[0]], concurrency=1)
    assert result.values == [True] * 5
    assert isinstance(result[5].error, NotFoundError)
    assert await names_on_server(async_modelgates_client) == Counter()


async def test_get_many_returns_records_in_input_order(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """get_many keeps input order, survives injected 429s and reports unknown hashes alone."""
    created = (await async_modelgates_client.api_keys.create_many(specs(8))).values
    hashes = [c.data.hash for c in reversed(created)]
    modelgates_server.inject_fault("/keys/*", method="GET", status=429, headers=RETRY_NOW, times=5)
    result = await async_modelgates_client.api_keys.get_many([*hashes, "f" * 64], concurrency=4)
    assert [key.hash for key in result.values] == hashes
    assert isinstance(result[8].error, NotFoundError)


async def test_a_429_pauses_the_clients_later_calls(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After one call's 429 with Retry-After 1, the client's next call waits out the pause."""
    [key] = (await async_modelgates_client.api_keys.create_many([KeySpec("k")])).values
    limiter = async_modelgates_client._transport.limiter
    monkeypatch.setattr(limiter, "_clock", lambda: 500.0)  # time stands still
    modelgates_server.inject_fault(
        "/keys/*", method="GET", status=429, headers={"Retry-After": "1"}
    )
    await async_modelgates_client.api_keys.get(key.data.hash)  # 429, sleeps 1 s, succeeds
    assert waits == [1.0]  # the retry's own wait only: no second wait for the pause
    await async_modelgates_client.api_keys.get(key.data.hash)  # the pause holds it too
    assert waits == [1.0, 1.0]
    assert limiter.engaged
    assert limiter.rate_limited == 1


async def test_plain_calls_leave_the_limiter_idle(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """Without a 429 the limiter stays idle and holds no slot after the calls."""
    [key] = (await async_modelgates_client.api_keys.create_many([KeySpec("k")])).values
    await async_modelgates_client.api_keys.get(key.data.hash)
    await async_modelgates_client.api_keys.get_many([key.data.hash] * 5)
    limiter = async_modelgates_client._transport.limiter
    assert not limiter.engaged
    assert limiter.in_flight == 0


async def test_bulk_create_against_a_rate_limited_server_fails_nothing() -> None:
    """With the server at 40 requests/s, 120 creates all succeed, each key made once."""
    fake_time = FakeTime()
    async with (
        AsyncLocalServer(rate_limit=40) as server,
        AsyncModelGates(api_key=server.management_key, base_url=server.base_url) as client,
    ):
        # One fake second for the server's token buckets and the client's limiter, moved on
        # by each wait the client would have slept.
        server.state.limiter = RateLimiter(40, monotonic=fake_time.clock)
        limiter = client._transport.limiter
        assert isinstance(limiter, AdaptiveLimiter)  # the default, in-process limiter
        limiter._clock = fake_time.clock
        with no_backoff(on_wait=fake_time.sleep) as waits:
            names = [f"rl-{i:03d}" for i in range(120)]
            result = await client.api_keys.create_many(
                [KeySpec(name) for name in names], concurrency=32
            )
            on_server = await names_on_server(client)
        assert (result.succeeded, result.failed) == (120, 0)
        assert waits  # the server's Retry-After was waited out (in fake time)
        assert client._transport.limiter.rate_limited > 0  # the limit was really hit
        assert on_server == Counter(names)


async def test_created_secrets_never_reach_the_log(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With DEBUG logging and retried 429s, no created key's secret is logged."""
    modelgates_server.inject_fault("/keys", method="POST", status=429, headers=RETRY_NOW, times=3)
    with caplog.at_level(logging.DEBUG, logger="modelgates_async"):
        result = await async_modelgates_client.api_keys.create_many(specs(6), concurrency=3)
    assert result.ok
    assert "429" in caplog.text  # the retries were logged
    for created in result.values:
        assert created.key not in caplog.text

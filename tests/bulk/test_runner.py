"""The bulk runner, BulkResult and the spec records, with fake calls (no network)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import Any, cast

import pytest

from modelgates_async import (
    NOT_GIVEN,
    BulkError,
    BulkResult,
    InvalidRequestError,
    KeySpec,
    KeyUpdate,
    NotFoundError,
    RateLimitError,
    RetryConfig,
)
from modelgates_async._bulk import (
    BulkItem,
    collect,
    iter_bulk,
    requeue_rate_limited,
    spec_arguments,
    update_arguments,
)


def rate_limited(retry_after: float | None = 0.0) -> RateLimitError:
    return RateLimitError("slow down", status=429, retry_after=retry_after)


def not_found() -> NotFoundError:
    return NotFoundError("API key not found", status=404)


def identity(value: Any) -> Any:
    return value


async def run(inputs: list[Any], call: Any, **options: Any) -> BulkResult[Any]:
    options.setdefault("concurrency", 4)
    return await collect(iter_bulk(inputs, identity, call, **options))


async def test_results_come_back_in_input_order() -> None:
    """Items finishing in reverse order are still reported in input order."""

    async def call(n: int) -> int:
        for _ in range(5 - n):  # the later the input, the sooner it finishes
            await asyncio.sleep(0)
        return n * 10

    result = await run([0, 1, 2, 3, 4], call, concurrency=5)
    assert [item.index for item in result] == [0, 1, 2, 3, 4]
    assert result.values == [0, 10, 20, 30, 40]


async def test_one_failure_neither_stops_nor_loses_the_rest() -> None:
    """A failing item is recorded with its exception; every other item still runs."""

    async def call(n: int) -> int:
        if n == 2:
            raise not_found()
        return n

    result = await run(list(range(6)), call)
    assert (result.total, result.succeeded, result.failed, result.ok) == (6, 5, 1, False)
    assert result.values == [0, 1, 3, 4, 5]
    [failed] = result.errors
    assert failed.index == 2
    assert isinstance(failed.error, NotFoundError)
    assert result[2].input == 2
    assert not result[2].ok


async def test_invalid_inputs_fail_alone_before_any_call() -> None:
    """An input that prepare() refuses fails without being sent; the others are sent."""
    sent: list[int] = []

    def prepare(n: int) -> int:
        if n < 0:
            raise InvalidRequestError("negative", argument="n")
        return n

    async def call(n: int) -> int:
        sent.append(n)
        return n

    result = await collect(iter_bulk([1, -1, 2, -2], prepare, call, concurrency=2))
    assert sorted(sent) == [1, 2]
    assert [item.ok for item in result] == [True, False, True, False]
    assert isinstance(result[1].error, InvalidRequestError)


async def test_concurrency_bounds_calls_in_flight() -> None:
    """Never more than `concurrency` calls run at once."""
    running = peak = 0

    async def call(n: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        running -= 1
        return n

    result = await run(list(range(50)), call, concurrency=3)
    assert result.ok
    assert peak == 3


async def test_progress_reports_start_each_item_and_failures() -> None:
    """on_progress gets (0, total, 0) first, then one call per item with running counts."""
    reports: list[tuple[int, int, int]] = []

    async def call(n: int) -> int:
        if n % 2:
            raise not_found()
        return n

    await run([0, 1, 2, 3], call, concurrency=1, on_progress=lambda *a: reports.append(a))
    assert reports == [(0, 4, 0), (1, 4, 0), (2, 4, 1), (3, 4, 1), (4, 4, 2)]


async def test_a_raising_progress_callback_costs_no_result(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A progress callback that raises is logged and dropped; the run completes."""
    calls = 0

    def broken(done: int, total: int, failed: int) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("display broke")

    async def call(n: int) -> int:
        return n

    with caplog.at_level(logging.ERROR, logger="modelgates_async"):
        result = await run([1, 2, 3], call, on_progress=broken)
    assert result.values == [1, 2, 3]
    assert calls == 1
    assert "on_progress raised" in caplog.text


async def test_rate_limited_items_go_back_in_the_queue() -> None:
    """An item refused with 429 is sent again later instead of being reported failed."""
    attempts: dict[int, int] = {}

    async def call(n: int) -> int:
        attempts[n] = attempts.get(n, 0) + 1
        if n == 1 and attempts[n] < 3:
            raise rate_limited()
        return n

    result = await run([0, 1, 2], call, requeue=requeue_rate_limited(RetryConfig()))
    assert result.ok
    assert attempts == {0: 1, 1: 3, 2: 1}


async def test_requeues_are_bounded() -> None:
    """An item refused more often than max_requeues allows fails with its last 429."""
    attempts = 0

    async def call(n: int) -> int:
        nonlocal attempts
        attempts += 1
        raise rate_limited()

    result = await run([0], call, requeue=requeue_rate_limited(RetryConfig()), max_requeues=2)
    assert attempts == 3
    assert isinstance(result[0].error, RateLimitError)


def test_a_config_that_does_not_retry_429_requeues_nothing() -> None:
    """RetryConfig.disabled(), or 429 left out of statuses, turns the requeue off too."""
    assert not requeue_rate_limited(RetryConfig.disabled())(rate_limited())
    assert not requeue_rate_limited(RetryConfig(statuses={500, 503}))(rate_limited())


def test_only_a_short_429_is_requeued() -> None:
    """A 429 asking for longer than max_retry_after, or another error, is not requeued."""
    requeue = requeue_rate_limited(RetryConfig(max_retry_after=10))
    assert requeue(rate_limited(None))
    assert requeue(rate_limited(10))
    assert not requeue(rate_limited(11))
    assert not requeue(not_found())


async def test_closing_the_iterator_early_cancels_calls_in_flight() -> None:
    """Breaking out of iter_bulk cancels the workers still waiting on calls."""
    cancelled = 0
    release = asyncio.Event()

    async def call(n: int) -> int:
        nonlocal cancelled
        if n == 0:
            return n
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled += 1
            raise
        return n

    # iter_bulk is an async generator, typed as the iterator callers need.
    items = cast(
        AsyncGenerator[BulkItem[int], None], iter_bulk([0, 1, 2, 3], identity, call, concurrency=4)
    )
    async with contextlib.aclosing(items):
        async for item in items:
            assert item.index == 0
            break
    assert cancelled == 3


async def test_a_fatal_worker_error_reaches_the_caller() -> None:
    """A BaseException in a call (not an Exception) ends the run instead of hanging it."""

    class Fatal(BaseException):
        pass

    async def call(n: int) -> int:
        raise Fatal

    with pytest.raises(Fatal):
        await run([1, 2], call)


@pytest.mark.parametrize("inputs", ["abc", b"abc", {"name": "x"}, 42])
async def test_a_non_list_input_is_refused(inputs: Any) -> None:
    """A string, bytes, a single mapping or a non-iterable is refused as a whole."""

    async def call(n: Any) -> Any:
        return n

    with pytest.raises(InvalidRequestError):
        await run(inputs, call)


@pytest.mark.parametrize("concurrency", [0, -1, 1.5, True, "4"])
async def test_a_bad_concurrency_is_refused(concurrency: Any) -> None:
    """concurrency must be an integer >= 1."""

    async def call(n: Any) -> Any:
        return n

    with pytest.raises(InvalidRequestError, match="concurrency"):
        await run([1], call, concurrency=concurrency)


async def test_an_empty_input_gives_an_empty_result() -> None:
    """No inputs: an empty, successful result and a single progress report."""
    reports: list[tuple[int, int, int]] = []

    async def call(n: Any) -> Any:
        raise AssertionError("not called")

    result = await run([], call, on_progress=lambda *a: reports.append(a))
    assert (result.total, result.ok, result.values) == (0, True, [])
    assert reports == [(0, 0, 0)]


def test_raise_for_errors_keeps_every_outcome() -> None:
    """BulkError names the failures and carries the whole result, successes included."""
    result: BulkResult[int] = BulkResult(
        [BulkItem(0, "a", value=1), BulkItem(1, "b", error=not_found())]
    )
    with pytest.raises(BulkError) as info:
        result.raise_for_errors()
    assert info.value.result is result
    assert "1 of 2 failed (1 × NotFoundError)" in str(info.value)
    assert info.value.result.values == [1]


def test_raise_for_errors_returns_a_clean_result() -> None:
    """A result without failures is returned by raise_for_errors, for chaining."""
    result: BulkResult[int] = BulkResult([BulkItem(0, "a", value=1)])
    assert result.raise_for_errors() is result


def test_bulk_result_repr_shows_counts_only() -> None:
    """repr(BulkResult) shows counts, never the values (created keys hold secrets)."""
    result: BulkResult[str] = BulkResult([BulkItem(0, "a", value="sk-mg-v1-secret-value")])
    assert repr(result) == "BulkResult(total=1, succeeded=1, failed=0)"


def test_unwrap_raises_the_items_error() -> None:
    """BulkItem.unwrap() returns the value or raises the item's exception."""
    assert BulkItem(0, "a", value=3).unwrap() == 3
    with pytest.raises(NotFoundError):
        BulkItem(0, "a", error=not_found()).unwrap()


def test_key_spec_sends_only_given_fields() -> None:
    """KeySpec.arguments() leaves out NOT_GIVEN fields and keeps explicit None."""
    spec = KeySpec("Tenant", limit=None, limit_reset="daily")
    assert spec.arguments() == {"name": "Tenant", "limit": None, "limit_reset": "daily"}
    assert KeySpec("x").include_byok_in_limit is NOT_GIVEN


def test_mapping_specs_use_create_keyword_names() -> None:
    """A mapping spec is taken as create() keywords; an unknown or missing name fails."""
    assert spec_arguments({"name": "a", "limit": 5}) == {"name": "a", "limit": 5}
    with pytest.raises(InvalidRequestError, match="'limt'"):
        spec_arguments({"name": "a", "limt": 5})
    with pytest.raises(InvalidRequestError, match="no 'name'"):
        spec_arguments({"limit": 5})
    with pytest.raises(InvalidRequestError, match="KeySpec"):
        spec_arguments("a")


def test_update_inputs_take_three_shapes() -> None:
    """A change is a KeyUpdate, a (hash, changes) pair or a mapping with a hash."""
    expected = ("abc", {"disabled": True})
    assert update_arguments(KeyUpdate("abc", disabled=True)) == expected
    assert update_arguments(("abc", {"disabled": True})) == expected
    assert update_arguments({"hash": "abc", "disabled": True}) == expected
    with pytest.raises(InvalidRequestError, match="'disable'"):
        update_arguments(("abc", {"disable": True}))
    with pytest.raises(InvalidRequestError, match="no 'hash'"):
        update_arguments({"disabled": True})
    with pytest.raises(InvalidRequestError, match="KeyUpdate"):
        update_arguments(["abc", {"disabled": True}])


def test_bulk_item_repr_masks_a_mapping_specs_external_api_key() -> None:
    """repr(BulkItem) of a plain-mapping spec masks external_api_key (any shape) and sk- values."""
    external = "ext-" + "q" * 40  # not sk-shaped: masked by its field's name
    spec = {"name": "t", "external_user": "u", "external_api_key": external}
    wire = {"name": "t", "external": {"user": "u", "api_key": external}}
    secret = "sk-mg-v1-" + "ab" * 32
    for given in (spec, wire, ("hash", spec), [secret]):
        shown = repr(BulkItem(index=0, input=given, error=ValueError("no")))
        assert external not in shown
        assert secret not in shown
    assert "'external_user': 'u'" in repr(BulkItem(index=0, input=spec))

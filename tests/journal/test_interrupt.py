"""Interrupting a bulk call keeps every outcome: cancel, asyncio.timeout, wait_for, TaskGroup."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from modelgates_async import (
    AsyncModelGates,
    BulkResult,
    NotStartedError,
    OutcomeUnknownError,
    partial_result_of,
    read_journal,
)
from modelgates_async._bulk import collect, iter_bulk
from modelgates_async.server import LocalServer
from tests.journal.helpers import (
    assert_created_are_on_server,
    assert_journal_invariant,
    spec_list,
)

COUNT = 60
STOP_AT = 10


def cancel_at(done_count: int, cancel: Callable[[], object]) -> Callable[[int, int, int], None]:
    """An on_progress that calls ``cancel`` once ``done_count`` items are done."""

    def on_progress(done: int, total: int, failed: int) -> None:
        if done == done_count:
            cancel()

    return on_progress


def assert_every_input_accounted(result: BulkResult[Any], total: int) -> None:
    """The partial result lists every input once, in order; calls in flight finished."""
    assert [item.index for item in result] == list(range(total))
    assert not any(isinstance(item.error, OutcomeUnknownError) for item in result)
    not_started = [item for item in result if isinstance(item.error, NotStartedError)]
    assert not_started, "the run was interrupted before the end"
    assert result.succeeded >= STOP_AT
    assert result.succeeded + len(not_started) == total


async def test_cancelling_create_many_keeps_every_secret_made(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """task.cancel(): CancelledError with .partial_result holding every key on the server."""
    task: asyncio.Task[Any] | None = None
    task = asyncio.ensure_future(
        async_modelgates_client.api_keys.create_many(
            spec_list(COUNT),
            concurrency=8,
            on_progress=cancel_at(STOP_AT, lambda: task.cancel()),  # type: ignore[union-attr]
        )
    )
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    assert task.cancelled()
    result = caught.value.partial_result  # type: ignore[attr-defined]
    assert_every_input_accounted(result, COUNT)
    await assert_created_are_on_server(async_modelgates_client, result)


if sys.version_info >= (3, 11):  # asyncio.timeout is 3.11+ (mypy checks against 3.10)

    async def test_asyncio_timeout_raises_timeouterror_from_the_cancellation(
        async_modelgates_client: AsyncModelGates,
    ) -> None:
        """asyncio.timeout: TimeoutError whose cause carries .partial_result; cancel count 0."""
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError) as caught:
            async with asyncio.timeout(None) as deadline:
                await async_modelgates_client.api_keys.create_many(
                    spec_list(COUNT),
                    concurrency=8,
                    on_progress=cancel_at(STOP_AT, lambda: deadline.reschedule(loop.time())),
                )
        assert isinstance(caught.value.__cause__, asyncio.CancelledError)
        result = partial_result_of(caught.value)
        assert result is caught.value.__cause__.partial_result  # type: ignore[attr-defined]
        assert result is not None
        assert_every_input_accounted(result, COUNT)
        current = asyncio.current_task()
        assert current is not None
        assert current.cancelling() == 0  # the timeout's cancellation was taken back
        await assert_created_are_on_server(async_modelgates_client, result)


async def test_wait_for_timeout_keeps_the_outcomes(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """asyncio.wait_for: its TimeoutError leads to the partial result; no secret is lost."""
    modelgates_server.inject_fault("/keys", method="POST", delay=0.02, times=10_000)
    with pytest.raises(TimeoutError) as caught:
        await asyncio.wait_for(
            async_modelgates_client.api_keys.create_many(spec_list(400), concurrency=4), 0.3
        )
    result = partial_result_of(caught.value)
    assert result is not None
    assert [item.index for item in result] == list(range(400))
    assert any(isinstance(item.error, NotStartedError) for item in result)
    modelgates_server.state.faults.clear()
    await assert_created_are_on_server(async_modelgates_client, result)


if sys.version_info >= (3, 11):  # TaskGroup is 3.11+ (mypy checks against 3.10)

    async def test_a_taskgroup_sibling_failure_cancels_the_bulk_and_propagates(
        async_modelgates_client: AsyncModelGates,
    ) -> None:
        """In a TaskGroup, a failing sibling still ends the group with its error; the bulk
        task ends cancelled (the cancellation is not swallowed) with its outcomes attached."""
        seen: list[BaseException] = []
        started = asyncio.Event()

        async def provision() -> None:
            try:
                await async_modelgates_client.api_keys.create_many(
                    spec_list(COUNT),
                    concurrency=4,
                    on_progress=cancel_at(STOP_AT, started.set),
                )
            except asyncio.CancelledError as exc:
                seen.append(exc)
                raise

        async def failing() -> None:
            await started.wait()
            raise LookupError("sibling failed")

        async def group() -> None:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(provision())
                tasks.create_task(failing())

        with pytest.raises(Exception) as caught:  # noqa: PT011 - ExceptionGroup, a 3.11 name
            await group()
        assert type(caught.value).__name__ == "ExceptionGroup"
        assert [type(e) for e in caught.value.exceptions] == [LookupError]  # type: ignore[attr-defined]
        assert len(seen) == 1
        result = partial_result_of(seen[0])
        assert result is not None
        await assert_created_are_on_server(async_modelgates_client, result)


Operation = Callable[[AsyncModelGates, list[str], Any], Awaitable[Any]]

OPERATIONS: dict[str, Operation] = {
    "update_many": lambda c, h, p: c.api_keys.update_many(
        [(x, {"disabled": True}) for x in h], concurrency=4, on_progress=p
    ),
    "delete_many": lambda c, h, p: c.api_keys.delete_many(h, concurrency=4, on_progress=p),
    "get_many": lambda c, h, p: c.api_keys.get_many(h, concurrency=4, on_progress=p),
    "rotate_many": lambda c, h, p: c.api_keys.rotate_many(h, concurrency=4, on_progress=p),
    "disable_over_limit": lambda c, h, p: c.api_keys.disable_over_limit(
        0.0001, concurrency=4, on_progress=p
    ),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_every_bulk_method_keeps_its_outcomes_when_cancelled(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    operation: str,
) -> None:
    """update/delete/get/rotate_many and disable_over_limit: cancelled mid-run, the error
    carries every input's outcome, those not sent marked NotStartedError."""
    made = await async_modelgates_client.api_keys.create_many(spec_list(COUNT), concurrency=8)
    hashes = [created.data.hash for created in made.values]
    for key_hash in hashes:
        modelgates_server.record_usage(key_hash, 1.0)
    task: asyncio.Task[Any] | None = None
    progress = cancel_at(STOP_AT, lambda: task.cancel())  # type: ignore[union-attr]
    task = asyncio.ensure_future(OPERATIONS[operation](async_modelgates_client, hashes, progress))
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    result = partial_result_of(caught.value)
    assert result is not None
    assert_every_input_accounted(result, COUNT)
    assert all(item.ok for item in result if not isinstance(item.error, NotStartedError))


async def test_a_second_cancel_abandons_the_calls_in_flight() -> None:
    """Cancelled again while winding down: the calls in flight are cancelled and marked
    OutcomeUnknownError; the first CancelledError is raised with every outcome."""
    release = asyncio.Event()
    all_sent = asyncio.Event()
    sent = 0

    async def call(n: int) -> int:
        nonlocal sent
        sent += 1
        if sent == 4:
            all_sent.set()
        await release.wait()  # never set: these calls only end by being cancelled
        return n

    task = asyncio.ensure_future(collect(iter_bulk(range(8), lambda n: n, call, concurrency=4)))
    await all_sent.wait()
    task.cancel()
    for _ in range(5):  # let the first cancellation reach the wind-down
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    result = partial_result_of(caught.value)
    assert result is not None
    assert [type(item.error) for item in result] == [OutcomeUnknownError] * 4 + [
        NotStartedError
    ] * 4


async def test_a_cancelled_journal_run_resumes_to_one_key_per_spec(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, journal_path: str
) -> None:
    """Cancelled with a journal: the partial result matches the journal, and running again
    finishes the job with exactly one key per spec."""
    # Items are reported once their outcome is fsynced, while the workers go on creating:
    # slow creates keep a slow disk from letting the whole run finish before the cancel.
    modelgates_server.inject_fault("/keys", method="POST", delay=0.1, times=10_000)
    specs = spec_list(COUNT)
    task: asyncio.Task[Any] | None = None
    task = asyncio.ensure_future(
        async_modelgates_client.api_keys.create_many(
            specs,
            concurrency=8,
            journal=journal_path,
            on_progress=cancel_at(STOP_AT, lambda: task.cancel()),  # type: ignore[union-attr]
        )
    )
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    result = partial_result_of(caught.value)
    assert result is not None
    assert_every_input_accounted(result, COUNT)
    done = {e.index: e.key for e in read_journal(journal_path) if e.state == "done"}
    assert done == {item.index: item.value.key for item in result if item.value is not None}
    modelgates_server.state.faults.clear()
    finished = await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)
    assert finished.ok
    assert [finished[i].value.key for i in done] == list(done.values())  # type: ignore[union-attr]
    await assert_journal_invariant(
        async_modelgates_client, modelgates_server.base_url, specs, journal_path
    )

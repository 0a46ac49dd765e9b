"""The public test mode, ``modelgates_async.testing.no_backoff``: waits skipped, not lost."""

from __future__ import annotations

from modelgates_async import AsyncModelGates, KeySpec, ModelGates
from modelgates_async.server import LocalServer
from modelgates_async.testing import no_backoff


async def test_async_retry_waits_are_recorded_not_slept(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A Retry-After of 30 s inside no_backoff() is recorded and the call succeeds at once."""
    created = await async_modelgates_client.api_keys.create("k")
    modelgates_server.inject_fault(
        "/keys/*", method="GET", status=429, headers={"Retry-After": "30"}
    )
    with no_backoff() as waits:
        key = await async_modelgates_client.api_keys.get(created.data.hash)
    assert key.hash == created.data.hash
    assert waits == [30.0]


def test_the_sync_facade_is_in_test_mode_too(
    modelgates_client: ModelGates, modelgates_server: LocalServer
) -> None:
    """The sync facade's event-loop thread sees the switch: its wait is recorded, not slept."""
    created = modelgates_client.api_keys.create("k")
    modelgates_server.inject_fault(
        "/keys/*", method="GET", status=503, headers={"Retry-After": "30"}
    )
    with no_backoff() as waits:
        modelgates_client.api_keys.get(created.data.hash)
    assert waits == [30.0]


async def test_on_wait_sees_each_wait_and_nesting_restores_the_outer_mode(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """on_wait gets every skipped wait; leaving an inner block hands waits back to the outer."""
    [key] = (await async_modelgates_client.api_keys.create_many([KeySpec("k")])).values
    seen: list[float] = []
    with no_backoff() as outer:
        with no_backoff(on_wait=seen.append) as inner:
            modelgates_server.inject_fault("/keys/*", status=503, headers={"Retry-After": "2"})
            await async_modelgates_client.api_keys.get(key.data.hash)
        modelgates_server.inject_fault("/keys/*", status=503, headers={"Retry-After": "3"})
        await async_modelgates_client.api_keys.get(key.data.hash)
    assert (inner, seen) == ([2.0], [2.0])
    assert outer == [3.0]


def test_the_fixture_records_the_waits(
    modelgates_no_backoff: list[float],
    modelgates_client: ModelGates,
    modelgates_server: LocalServer,
) -> None:
    """The modelgates_no_backoff fixture is test mode for the whole test."""
    created = modelgates_client.api_keys.create("k")
    modelgates_server.inject_fault("/keys/*", status=500, times=2)
    modelgates_client.api_keys.get(created.data.hash)
    assert len(modelgates_no_backoff) == 2

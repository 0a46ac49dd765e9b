"""Every endpoint through the sync facade, end to end against the local server."""

from __future__ import annotations

import asyncio
import gc
import signal
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from modelgates_async import (
    APIKey,
    BulkItem,
    BulkResult,
    CreatedKey,
    CurrentKey,
    InvalidRequestError,
    KeySpec,
    KeyUpdate,
    ModelGates,
    ModelGatesError,
    NotFoundError,
    RateLimitError,
    RetryConfig,
)
from modelgates_async import _loop as loop_module
from modelgates_async.server import LocalServer
from tests.helpers import ctrl_c_once

pytestmark = pytest.mark.filterwarnings("error")


def test_single_key_endpoints(modelgates_client: ModelGates) -> None:
    """create, get, list, iter, update, get_current_key_metadata and delete work as async."""
    keys = modelgates_client.api_keys
    created = keys.create("tenant-1", limit=5, limit_reset="monthly")
    assert isinstance(created, CreatedKey)
    key_hash = created.data.hash
    assert keys.get(key_hash) == created.data
    assert [k.hash for k in keys.list()] == [key_hash]
    assert [k.hash for k in keys.iter(include_disabled=True)] == [key_hash]
    updated = keys.update(key_hash, disabled=True, limit=None)
    assert isinstance(updated, APIKey)
    assert updated.disabled
    assert updated.limit is None
    assert keys.list() == []
    me = keys.get_current_key_metadata()
    assert isinstance(me, CurrentKey)
    assert me.is_management_key
    assert keys.delete(key_hash) is True
    with pytest.raises(NotFoundError):
        keys.get(key_hash)


def test_bulk_endpoints(modelgates_client: ModelGates, modelgates_server: LocalServer) -> None:
    """create/get/update/delete_many (and their _iter forms), rotate(_many), over_limit and
    disable_over_limit run through the facade; progress callbacks are called."""
    keys = modelgates_client.api_keys
    progress: list[tuple[int, int, int]] = []
    created = keys.create_many(
        [KeySpec(f"bulk-{i}", limit=1.0) for i in range(4)],
        on_progress=lambda *counts: progress.append(counts),
    )
    assert isinstance(created, BulkResult)
    assert created.ok
    assert progress[-1] == (4, 4, 0)
    hashes = [c.data.hash for c in created.values]
    assert [k.hash for k in keys.get_many(hashes).values] == hashes
    assert sorted(item.index for item in keys.get_many_iter(hashes)) == [0, 1, 2, 3]
    extra = [item.unwrap() for item in keys.create_many_iter([KeySpec("bulk-x")])]
    assert [k.data.name for k in extra] == ["bulk-x"]
    renamed = keys.update_many([KeyUpdate(h, name="renamed") for h in hashes[:2]])
    assert {k.name for k in renamed.values} == {"renamed"}
    items = list(keys.update_many_iter([(hashes[2], {"name": "again"})]))
    assert isinstance(items[0], BulkItem)
    assert items[0].unwrap().name == "again"
    rotated = keys.rotate(hashes[0])
    assert rotated.data.name == "renamed"
    assert keys.get(hashes[0]).disabled
    rotated_many = keys.rotate_many([hashes[1]], retire="delete")
    assert rotated_many.ok
    modelgates_server.record_usage(hashes[3], 2.0)
    assert [k.hash for k in keys.over_limit()] == [hashes[3]]
    disabled = keys.disable_over_limit()
    assert [k.hash for k in disabled.values] == [hashes[3]]
    remaining = [k.hash for k in keys.iter(include_disabled=True)]
    assert keys.delete_many(remaining[:1]).ok
    assert all(item.ok for item in keys.delete_many_iter(remaining[1:]))
    assert keys.list(include_disabled=True) == []


def test_errors_are_the_async_clients_classes(modelgates_client: ModelGates) -> None:
    """Bad arguments raise InvalidRequestError before sending; HTTP errors map the same way,
    with the test's own line at the top of the traceback."""
    with pytest.raises(InvalidRequestError):
        modelgates_client.api_keys.get("../x")
    with pytest.raises(NotFoundError) as info:
        modelgates_client.api_keys.get("0" * 64)
    top = traceback.extract_tb(info.value.__traceback__)[0]
    assert top.name == "test_errors_are_the_async_clients_classes"


def test_retries_and_faults_behave_as_in_async(
    modelgates_client: ModelGates, modelgates_server: LocalServer
) -> None:
    """An injected 429 is retried by the same policy; with retries off it surfaces."""
    modelgates_server.inject_fault("/keys*", status=429, headers={"Retry-After": "0"})
    assert modelgates_client.api_keys.list() == []
    modelgates_server.inject_fault("/keys*", status=429, headers={"Retry-After": "0"})
    with pytest.raises(RateLimitError):
        modelgates_client.api_keys.list(retries=RetryConfig.disabled())


def test_eight_threads_share_one_client(modelgates_client: ModelGates) -> None:
    """8 threads × 100 calls on one client all succeed on the one loop and session."""
    key_hash = modelgates_client.api_keys.create("shared").data.hash

    def work(_: int) -> set[str]:
        return {modelgates_client.api_keys.get(key_hash).hash for _ in range(100)}

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert results == [{key_hash}] * 8


async def test_call_from_inside_a_running_loop(modelgates_client: ModelGates) -> None:
    """Sync calls made by a coroutine (a notebook cell, an async app) complete."""
    assert asyncio.get_running_loop() is not None
    created = modelgates_client.api_keys.create("from-async")
    assert modelgates_client.api_keys.get(created.data.hash).name == "from-async"


def test_abandoned_generator_is_closed_on_the_loop(modelgates_client: ModelGates) -> None:
    """An iter() generator closed or dropped after one page leaves no async generator or
    task behind on the loop, and no warning."""
    keys = modelgates_client.api_keys
    assert keys.create_many([KeySpec(f"page-{i}") for i in range(150)]).ok
    closed = keys.iter()
    assert next(closed).name.startswith("page-")
    closed.close()
    dropped = keys.iter()
    next(dropped)
    del dropped
    gc.collect()
    assert len(list(keys.iter())) == 150
    assert loop_module.run(_pending_tasks()) == 0


async def _pending_tasks() -> int:
    current = asyncio.current_task()
    return len([t for t in asyncio.all_tasks() if t is not current])


def test_close_and_reuse_after_close(modelgates_server: LocalServer) -> None:
    """close() frees the session; any later call raises a clear ModelGatesError."""
    mg = ModelGates(api_key=modelgates_server.management_key, base_url=modelgates_server.base_url)
    assert mg.api_keys.list() == []
    mg.close()
    assert mg.closed
    with pytest.raises(ModelGatesError, match="This ModelGates client is closed"):
        mg.api_keys.list()
    with pytest.raises(ModelGatesError, match="closed"), mg:
        pass
    with ModelGates(
        api_key=modelgates_server.management_key, base_url=modelgates_server.base_url
    ) as other:
        assert other.api_keys.list() == []
    assert other.closed


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
def test_ctrl_c_during_a_request_in_flight(blocking_server: Any) -> None:
    """Ctrl-C while a request waits for the server cancels it (no task left on the loop)
    and re-raises KeyboardInterrupt; the client keeps working."""
    with ModelGates(api_key="sk-test", base_url=blocking_server.base_url) as mg:
        with ctrl_c_once(blocking_server.entered), pytest.raises(KeyboardInterrupt):
            mg.api_keys.get_current_key_metadata(retries=RetryConfig.disabled())
        assert loop_module.run(_pending_tasks()) == 0
        with pytest.raises(InvalidRequestError):
            mg.api_keys.get("")  # still usable

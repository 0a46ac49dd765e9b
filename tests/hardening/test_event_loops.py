"""The client's own session follows the event loop it is used from; timeouts are not hoarded."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator

import pytest
from aioresponses import aioresponses

from modelgates_async import AsyncModelGates, NotFoundError, RetryConfig, UsageError
from modelgates_async._transport import _TIMEOUTS
from modelgates_async.server import LocalServer
from tests.helpers import mocked_aiohttp

HASH = "f" * 64


def test_one_client_in_two_asyncio_runs(modelgates_server: LocalServer) -> None:
    """Two asyncio.run() calls with one client both work; the first loop's session is closed
    when that loop ends (no "Event loop is closed", nothing left open)."""
    mg = AsyncModelGates(modelgates_server.management_key, base_url=modelgates_server.base_url)
    assert asyncio.run(mg.api_keys.list()) == []
    first_session = mg._session
    assert first_session is not None
    assert first_session.closed
    created = asyncio.run(mg.api_keys.create("second loop"))
    assert created.data.name == "second loop"
    assert mg._session is not first_session
    asyncio.run(mg.aclose())
    assert mg._session is None
    assert mg.closed


def test_one_loop_reuses_the_session_until_it_shuts_down(modelgates_server: LocalServer) -> None:
    """Within one loop the session is made once; the loop's shutdown_asyncgens() closes it.

    (What asyncio.Runner's close() and asyncio.run() do before closing their loop.)
    """
    mg = AsyncModelGates(modelgates_server.management_key, base_url=modelgates_server.base_url)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(mg.api_keys.list())
        session = mg._session
        loop.run_until_complete(mg.api_keys.list())
        assert mg._session is session
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
    assert session is not None
    assert session.closed
    asyncio.run(mg.aclose())


def test_two_asyncio_runs_leave_no_warning_in_a_fresh_process(
    modelgates_server: LocalServer,
) -> None:
    """In a process run with -X dev -W error: no ResourceWarning, no unraisable exception."""
    script = textwrap.dedent(
        f"""
        import asyncio, gc
        from modelgates_async import AsyncModelGates
        mg = AsyncModelGates({modelgates_server.management_key!r},
                             base_url={modelgates_server.base_url!r})
        print(len(asyncio.run(mg.api_keys.list())))
        print(asyncio.run(mg.api_keys.create("from a second loop")).data.name)
        print(len(asyncio.run(mg.api_keys.list())))
        del mg
        gc.collect()
        """
    )
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["0", "from a second loop", "1"]
    assert done.stderr == ""


def test_use_from_a_second_loop_that_is_still_open_is_refused(
    modelgates_server: LocalServer,
) -> None:
    """While the session's loop still runs elsewhere, another loop gets a clear UsageError."""
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()
    mg = AsyncModelGates(modelgates_server.management_key, base_url=modelgates_server.base_url)
    try:
        asyncio.run_coroutine_threadsafe(mg.api_keys.list(), other).result(10)
        with pytest.raises(UsageError, match="another event loop"):
            asyncio.run(mg.api_keys.list())
    finally:
        asyncio.run_coroutine_threadsafe(mg.aclose(), other).result(10)
        other.call_soon_threadsafe(other.stop)
        thread.join(10)
        other.close()


@pytest.fixture
def mock() -> Iterator[aioresponses]:
    """aiohttp answered by aioresponses."""
    with mocked_aiohttp() as m:
        yield m


async def test_distinct_timeouts_do_not_accumulate(mock: aioresponses) -> None:
    """Computed per-call deadlines (200 distinct values) keep at most 32 ClientTimeouts."""
    async with AsyncModelGates("k" * 20, base_url="https://api.test/api/v1") as mg:
        for i in range(200):
            mock.get(f"https://api.test/api/v1/keys/{HASH}", status=404)
            with pytest.raises(NotFoundError):
                await mg.api_keys.get(HASH, timeout=10 + i / 1000, retries=RetryConfig.disabled())
    assert len(_TIMEOUTS) <= 32
    assert not hasattr(mg._transport, "_timeouts")

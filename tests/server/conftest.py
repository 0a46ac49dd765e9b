"""Fixtures for the server's tests: a private server per test, a raw aiohttp client, and each
store implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from modelgates_async.server import AsyncLocalServer, MemoryStore, ServerState, SQLiteStore, Store

from .helpers import MANAGEMENT_KEY, Api


@pytest.fixture
def state_options() -> dict[str, Any]:
    """Options of the test's server state; override in a module to change them."""
    return {}


@pytest.fixture
async def server(state_options: dict[str, Any]) -> AsyncIterator[AsyncLocalServer]:
    """A private server on 127.0.0.1 in the test's event loop."""
    state = ServerState(management_key=MANAGEMENT_KEY, **state_options)
    async with AsyncLocalServer(state) as running:
        yield running
    state.close()


@pytest.fixture
async def api(server: AsyncLocalServer) -> AsyncIterator[Api]:
    """Raw calls to ``server`` through a real aiohttp client session."""
    async with aiohttp.ClientSession() as session:
        yield Api(server, session)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store implementation, empty."""
    made: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "k.db")
    yield made
    made.close()

"""Fixtures of the sync facade's tests: the generator as a module, a generated fake facade."""

from __future__ import annotations

import asyncio
import threading
import types
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from tests.helpers import ThreadedServer, load_generator


@pytest.fixture(scope="session")
def gen_sync() -> types.ModuleType:
    """The generator module."""
    return load_generator()


@pytest.fixture(scope="session")
def fake_sync(gen_sync: Any) -> types.ModuleType:
    """The facade the generator writes for ``tests.sync.fake_async.AsyncFake``."""
    source = gen_sync.generate(("tests.sync.fake_async", "AsyncFake"))
    module = types.ModuleType("tests.sync.fake_sync")
    module.__file__ = "<generated fake_sync>"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


@pytest.fixture
def fake(fake_sync: Any) -> Iterator[Any]:
    """A generated ``Fake`` sync client, closed after the test."""
    with fake_sync.Fake() as client:
        yield client


class BlockingServer(ThreadedServer):
    """An HTTP server in a thread whose every request waits until the test ends.

    ``entered`` is set once a request has reached the handler, so a test knows its call
    is in flight without sleeping.
    """

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self._release: asyncio.Event | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        assert self._release is not None
        self.entered.set()
        await self._release.wait()
        return web.json_response({"data": {}})

    def routes(self, app: web.Application) -> None:
        self._release = asyncio.Event()
        app.router.add_route("*", "/{tail:.*}", self._handle)

    async def release(self) -> None:
        assert self._release is not None
        self._release.set()


@pytest.fixture
def blocking_server() -> Iterator[BlockingServer]:
    """A server that holds every request until the test ends."""
    with BlockingServer() as server:
        yield server

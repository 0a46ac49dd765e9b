"""Fixtures of the sync facade's tests: the generator as a module, a generated fake facade."""

from __future__ import annotations

import asyncio
import threading
import types
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from tests.helpers import load_generator


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


class BlockingServer:
    """An HTTP server in a thread whose every request waits until the test ends.

    ``entered`` is set once a request has reached the handler, so a test knows its call
    is in flight without sleeping.
    """

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._release: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        assert self._release is not None
        self.entered.set()
        await self._release.wait()
        return web.json_response({"data": {}})

    async def _start(self) -> None:
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/api/v1"

    async def _stop(self) -> None:
        assert self._release is not None
        assert self._runner is not None
        self._release.set()
        await self._runner.cleanup()

    def __enter__(self) -> BlockingServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def blocking_server() -> Iterator[BlockingServer]:
    """A server that holds every request until the test ends."""
    with BlockingServer() as server:
        yield server

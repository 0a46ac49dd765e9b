"""Helpers shared by the tests: plain functions and constants, imported by name.

(Fixtures stay in the conftest files; nothing is imported from a conftest.)

- A mocked HTTP API: ``BASE``, ``API_KEY``, ``HASH``, ``SECRET``, ``key_record()``,
  ``current_key_record()``, ``mocked_aiohttp()``, ``sent()``, ``sent_json()``,
  ``connector_error()``.
- The local server: ``names_on_server()``.
- ``serving()``: an aiohttp app of a test's own on 127.0.0.1, in the test's loop.
- ``ThreadedServer``: an aiohttp app of a test's own, served from a thread (for sync code).
- The sync facade and its generator: ``ROOT``, ``load_generator()``, ``ctrl_c_once()``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import signal
import sys
import threading
import types
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from aiohttp import ClientResponse, web
from aiohttp.client_reqrep import ConnectionKey
from aioresponses import aioresponses
from aioresponses import core as aioresponses_core
from aioresponses.core import normalize_url  # type: ignore[attr-defined]  # not re-exported
from yarl import URL

from modelgates_async import AsyncModelGates

# --- a mocked HTTP API -----------------------------------------------------------------------

BASE = "https://api.test/api/v1"
API_KEY = "sk-mg-v1-" + "5ec7e7" * 10 + "abcd"
HASH = "f01d52606dc8f0a8303a7b5cc3fa07109c2e346cec7c0a16b40de462992ce943"
SECRET = "sk-mg-v1-" + "c0ffee" * 10 + "1234"


def key_record(**overrides: Any) -> dict[str, Any]:
    """A complete APIKey record as the API sends it."""
    record: dict[str, Any] = {
        "created_at": "2025-02-19T20:52:27.363244+00:00",
        "updated_at": "2025-02-19T21:24:11.708154+00:00",
        "hash": HASH,
        "label": "sk-mg-v1-c0f...234",
        "name": "Customer Key",
        "disabled": False,
        "limit": 10,
        "limit_remaining": 7.5,
        "limit_reset": "monthly",
        "include_byok_in_limit": False,
        "usage": 2.5,
        "usage_daily": 0.5,
        "usage_weekly": 1.5,
        "usage_monthly": 2.5,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        "creator_user_id": "user_1",
        "workspace_id": "00000000-0000-4000-8000-000000000000",
        "expires_at": None,
        "external_user": None,
        "last_used_at": None,
    }
    record.update(overrides)
    return record


def current_key_record(**overrides: Any) -> dict[str, Any]:
    """A complete CurrentKey record (``GET /key``)."""
    record: dict[str, Any] = {
        "label": "sk-mg-v1-5ec...bcd",
        "limit": None,
        "limit_remaining": None,
        "limit_reset": None,
        "include_byok_in_limit": False,
        "usage": 0,
        "usage_daily": 0,
        "usage_weekly": 0,
        "usage_monthly": 0,
        "byok_usage": 0,
        "byok_usage_daily": 0,
        "byok_usage_weekly": 0,
        "byok_usage_monthly": 0,
        "is_free_tier": False,
        "is_management_key": True,
        "is_provisioning_key": True,
        "creator_user_id": None,
        "organization_id": None,
        "workspace_id": "00000000-0000-4000-8000-000000000000",
        "expires_at": None,
        "allowed_data_regions": ["global"],
        "budgets": [],
        "effective_budget": None,
        "free_model_daily_requests": {"limit": 50, "remaining": 50, "used": 0},
        "rate_limit": {"interval": "10s", "note": "deprecated", "requests": 100},
    }
    record.update(overrides)
    return record


def sent(mock: aioresponses, method: str, url: str) -> list[Any]:
    """The calls aiohttp received for ``method url`` (URL with its query)."""
    return mock.requests.get((method, normalize_url(URL(url))), [])


def sent_json(call: Any) -> Any:
    """The JSON body of a recorded call."""
    return json.loads(call.kwargs["data"])


def connector_error() -> aiohttp.ClientConnectorError:
    """The error aiohttp raises when a TCP connection cannot be opened."""
    key = ConnectionKey("api.test", 443, True, True, None, None, None)
    return aiohttp.ClientConnectorError(key, OSError(111, "Connection refused"))


# aioresponses 0.7.9 builds ``ClientResponse`` without the ``stream_writer`` that aiohttp 3.14
# requires; a null writer makes the mock work on every aiohttp we support.
class _CompatResponse(ClientResponse):
    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", types.SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


_NEEDS_WRITER = "stream_writer" in inspect.signature(ClientResponse.__init__).parameters


@contextmanager
def mocked_aiohttp() -> Iterator[aioresponses]:
    """``aioresponses()`` that works on aiohttp 3.9 … 3.14+."""
    # aioresponses.core uses aiohttp's ClientResponse without re-exporting it.
    original = aioresponses_core.ClientResponse  # type: ignore[attr-defined]
    if _NEEDS_WRITER:
        aioresponses_core.ClientResponse = _CompatResponse  # type: ignore[attr-defined]
    try:
        with aioresponses() as mock:
            yield mock
    finally:
        aioresponses_core.ClientResponse = original  # type: ignore[attr-defined]


# --- the local server --------------------------------------------------------------------------


async def names_on_server(client: AsyncModelGates) -> Counter[str]:
    """How many keys of each name the server holds, disabled ones included."""
    return Counter([key.name async for key in client.api_keys.iter(include_disabled=True)])


# --- the sync facade and its generator ------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def load_generator() -> types.ModuleType:
    """``tools/gen_sync.py`` imported as a module."""
    name = "gen_sync"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "gen_sync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@contextmanager
def ctrl_c_once(entered: threading.Event) -> Iterator[None]:
    """Press Ctrl-C (SIGINT to the main thread) once ``entered`` is set, as a user would."""
    interrupted = threading.Event()

    def on_sigint(signum: int, frame: object) -> None:
        # Like Python's own handler, once: the helper may send a few more.
        if not interrupted.is_set():
            interrupted.set()
            raise KeyboardInterrupt

    def interrupt() -> None:
        # A signal that lands just before the main thread blocks is only seen when the
        # wait ends (as with any blocking call), so knock until it is taken.
        if entered.wait(10):
            for _ in range(2000):
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
                if interrupted.wait(0.005):
                    return

    previous = signal.signal(signal.SIGINT, on_sigint)
    helper = threading.Thread(target=interrupt)
    helper.start()
    try:
        yield
    finally:
        helper.join()
        signal.signal(signal.SIGINT, previous)


# --- a server of a test's own -------------------------------------------------------------


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """``app`` on 127.0.0.1 (a free port) in the running loop; yields its ``/api/v1`` URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1"
    finally:
        await runner.cleanup()


# --- a server of a test's own, for code that runs its own event loop ----------------------


_Server = TypeVar("_Server", bound="ThreadedServer")


class ThreadedServer:
    """An aiohttp application on 127.0.0.1 (a free port), served from a thread of its own,
    so that synchronous code under test (the sync facade, the CLI runner) can call it.

    Subclasses add their routes in :meth:`routes` (run on the server's loop) and let
    handlers that wait finish in :meth:`release`, called before the server stops.
    """

    def __init__(self) -> None:
        self.base_url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def routes(self, app: web.Application) -> None:
        """Add the routes of this server to ``app``."""
        raise NotImplementedError

    async def release(self) -> None:
        """Let handlers that wait finish (the server is stopping)."""

    async def _start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/api/v1"

    async def _stop(self) -> None:
        await self.release()
        assert self._runner is not None
        await self._runner.cleanup()

    def __enter__(self: _Server) -> _Server:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

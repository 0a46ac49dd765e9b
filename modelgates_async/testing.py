"""pytest plugin: a local ModelGates server and clients bound to it, as fixtures.

Installed with the package (entry point ``pytest11: modelgates``), so it loads in every pytest
session: it imports the server and the client only inside fixtures.

Fixtures:

- ``modelgates_server_options`` (function): the server's options, ``{}``. Override it — a
  plain ``@pytest.fixture`` in a conftest, a module or a class, or any wider scope — with
  ``{"rate_limit": 5}``, ``{"db": ...}``; tests with other options get another server.
- ``modelgates_server_session`` (function): the ``LocalServer`` for those options, in a
  background thread on ``127.0.0.1:<free port>``: started the first time a test asks for
  those options and kept for the session (at most ``MAX_SERVERS`` at once), not reset.
- ``modelgates_server`` (function): the same server, reset before and after each test (no
  keys, no spend, no faults, real time), so tests never see each other's state.
- ``async_modelgates_server`` (function, async): an ``AsyncLocalServer`` of its own in the
  test's event loop, for tests that want a private server.
- ``async_modelgates_client``: ``AsyncModelGates`` with the management key, pointed at
  ``modelgates_server``; retries back off for 0 s (a ``Retry-After`` is still honoured).
- ``modelgates_client``: the same with the sync ``ModelGates`` facade.
- ``modelgates_no_backoff``: test mode for the test's duration (see ``no_backoff()``); the
  fixture's value is the list of waits skipped.

The async fixtures need pytest-asyncio, and async tests need it told to run them
(``asyncio_mode = "auto"``, or ``@pytest.mark.asyncio`` on each). A test that uses our
fixtures without that set-up *fails* with what to do — it is never skipped, which would let a
CI run pass without running it.

Test mode, in the spirit of stamina's ``set_testing``: ``no_backoff()`` skips every pause
between retry attempts and every rate-limiter pause, ``Retry-After`` included, in every
client of the process (the sync facade's loop thread too). Attempts are still counted::

    from modelgates_async.testing import no_backoff

    with no_backoff() as waits:
        mg.api_keys.get(key_hash)   # answered 429 with Retry-After: 1, then 200
    assert waits == [1.0]          # the wait it asked for, recorded, not slept

Control the server from a test::

    def test_overspend(modelgates_server):
        modelgates_server.clock.set(datetime(2025, 1, 5, 23, 0, tzinfo=timezone.utc))
        modelgates_server.record_usage(key_hash, 2.5)             # credits; byok=True for BYOK
        modelgates_server.clock.advance(3600)                      # past midnight UTC
        modelgates_server.inject_fault("/keys*", status=429, headers={"Retry-After": "1"})
        modelgates_server.inject_fault("/keys/*", method="GET", delay=0.05, times=2)
        modelgates_server.inject_fault("/key", drop=True)           # hang up, no answer
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from modelgates_async import AsyncModelGates, ModelGates, RetryConfig
    from modelgates_async.server import AsyncLocalServer, LocalServer
    from modelgates_async.server import LocalServer as ModelGatesServer

__all__ = [
    "AsyncLocalServer",
    "LocalServer",
    "ModelGatesServer",
    "async_modelgates_client",
    "async_modelgates_server",
    "modelgates_client",
    "modelgates_no_backoff",
    "modelgates_server",
    "modelgates_server_options",
    "modelgates_server_session",
    "no_backoff",
]

_LAZY = {"LocalServer", "AsyncLocalServer", "ModelGatesServer"}


def __getattr__(name: str) -> Any:
    # Re-export the runners without importing aiohttp.web when pytest loads the plugin.
    if name in _LAZY:
        from modelgates_async import server

        return server.LocalServer if name == "ModelGatesServer" else getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _test_retries() -> RetryConfig:
    from modelgates_async import RetryConfig

    return RetryConfig(initial_backoff=0.0, max_backoff=0.0, jitter=0.0)


@contextlib.contextmanager
def no_backoff(on_wait: Callable[[float], object] | None = None) -> Iterator[list[float]]:
    """Test mode: skip every retry backoff and rate-limiter pause while the block runs.

    Yields the list of the waits skipped, in seconds, in order. ``on_wait`` is also called
    with each one (to move a fake clock, say). Nests; the previous mode is restored on exit.
    """
    from modelgates_async import _retry

    skipped: list[float] = []

    def skip(seconds: float) -> None:
        skipped.append(seconds)
        if on_wait is not None:
            on_wait(seconds)

    previous = _retry.skip_waits
    _retry.skip_waits = skip
    try:
        yield skipped
    finally:
        _retry.skip_waits = previous


@pytest.fixture
def modelgates_no_backoff() -> Iterator[list[float]]:
    """Test mode for this test (``no_backoff()``): the list of the waits skipped."""
    with no_backoff() as skipped:
        yield skipped


@pytest.fixture
def modelgates_server_options() -> dict[str, Any]:
    """Options of the server behind ``modelgates_server`` (``ServerState`` keywords:
    ``management_key``, ``db``, ``rate_limit``, ``clock``). Override this fixture — in a
    conftest, a module or a class, with any scope — to change them; the server for each set
    of options is started once and kept for the session."""
    return {}


class _ServerPool:
    """The session's servers, one per set of options (compared with ``==``); at most
    :data:`MAX_SERVERS` run at once (the least recently used one is stopped)."""

    def __init__(self) -> None:
        self._servers: list[tuple[dict[str, Any], LocalServer]] = []

    def get(self, options: dict[str, Any]) -> LocalServer:
        from modelgates_async.server import LocalServer

        for position, (known, server) in enumerate(self._servers):
            if known == options:
                self._servers.append(self._servers.pop(position))  # most recently used last
                return server
        if len(self._servers) >= MAX_SERVERS:
            self._servers.pop(0)[1].stop()
        server = LocalServer(**options)
        server.start()
        self._servers.append((dict(options), server))
        return server

    def close(self) -> None:
        while self._servers:
            self._servers.pop()[1].stop()


MAX_SERVERS = 4
"""Servers of different ``modelgates_server_options`` kept running at once in a session."""


@pytest.fixture(scope="session")
def _modelgates_server_pool() -> Iterator[_ServerPool]:
    """The servers of the session, stopped at its end."""
    pool = _ServerPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture
def modelgates_server_session(
    _modelgates_server_pool: _ServerPool, modelgates_server_options: dict[str, Any]
) -> LocalServer:
    """The long-lived server behind ``modelgates_server`` (started once per set of
    ``modelgates_server_options`` and kept for the session), as it is: not reset."""
    return _modelgates_server_pool.get(modelgates_server_options)


@pytest.fixture
def modelgates_server(modelgates_server_session: LocalServer) -> Iterator[LocalServer]:
    """The session's server, with a clean state for this test (reset before and after)."""
    modelgates_server_session.reset()
    yield modelgates_server_session
    modelgates_server_session.reset()


@pytest.fixture
def modelgates_client(modelgates_server: LocalServer) -> Iterator[ModelGates]:
    """A sync ``ModelGates`` client with the management key, bound to ``modelgates_server``."""
    from modelgates_async import ModelGates

    with ModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        retries=_test_retries(),
    ) as client:
        yield client


ASYNC_FIXTURES = ("async_modelgates_client", "async_modelgates_server")
OUR_FIXTURES = (
    *ASYNC_FIXTURES,
    "modelgates_server",
    "modelgates_client",
    "modelgates_server_session",
)
SET_UP_ASYNCIO = (
    "install pytest-asyncio (`pip install pytest-asyncio`; the `test` extra of "
    'modelgates-async brings it), and either set `asyncio_mode = "auto"` in your pytest '
    "configuration or mark each async test `@pytest.mark.asyncio`"
)


def _asyncio_plugin_active(config: pytest.Config) -> bool:
    # By module, not by name: `-p pytest_asyncio.plugin` registers it under another name.
    module = sys.modules.get("pytest_asyncio.plugin")
    return module is not None and config.pluginmanager.is_registered(module)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail — never skip, which would turn a CI run green — a test that needs
    pytest-asyncio for our fixtures when it is missing, disabled or not told to run it."""
    names = getattr(item, "fixturenames", ())
    wanted = [name for name in ASYNC_FIXTURES if name in names]
    if wanted and not _asyncio_plugin_active(item.config):
        pytest.fail(
            f"{item.nodeid} uses {', '.join(wanted)}, which needs pytest-asyncio, and it "
            f"is not installed or not enabled (-p no:asyncio?): {SET_UP_ASYNCIO}.",
            pytrace=False,
        )
    function = getattr(item, "obj", None)
    if (
        any(name in names for name in OUR_FIXTURES)
        and inspect.iscoroutinefunction(function)
        and item.get_closest_marker("asyncio") is None
    ):
        if not _asyncio_plugin_active(item.config):
            pytest.fail(
                f"{item.nodeid} is an async test, and pytest-asyncio is not installed or "
                f"not enabled, so nothing would run it: {SET_UP_ASYNCIO}.",
                pytrace=False,
            )
        if item.config.getini("asyncio_mode") != "auto":
            pytest.fail(
                f"{item.nodeid} is an async test without @pytest.mark.asyncio, and "
                "pytest-asyncio is in strict mode, so nothing would run it: mark it, or set "
                '`asyncio_mode = "auto"` in your pytest configuration.',
                pytrace=False,
            )


def _async_fixture(function: Any) -> Any:
    """``pytest_asyncio.fixture``, or a fixture that fails when pytest-asyncio is missing."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - the test extra brings it

        @pytest.fixture(name=function.__name__)
        def unavailable() -> None:
            pytest.fail(f"{function.__name__} needs pytest-asyncio: {SET_UP_ASYNCIO}.")

        return unavailable
    return pytest_asyncio.fixture(function)


@_async_fixture
async def async_modelgates_client(modelgates_server: LocalServer) -> AsyncIterator[AsyncModelGates]:
    """An ``AsyncModelGates`` with the management key, bound to ``modelgates_server``."""
    from modelgates_async import AsyncModelGates

    async with AsyncModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        retries=_test_retries(),
    ) as client:
        yield client


@_async_fixture
async def async_modelgates_server() -> AsyncIterator[AsyncLocalServer]:
    """A private server in the test's own event loop, closed after the test."""
    from modelgates_async.server import AsyncLocalServer

    async with AsyncLocalServer() as server:
        yield server

"""pytest plugin: a local ModelGates server and clients bound to it, as fixtures.

Installed with the package (entry point ``pytest11: modelgates``), so it loads in every pytest
session: it imports the server and the client only inside fixtures.

Fixtures:

- ``modelgates_server_session`` (session): one ``LocalServer`` in a background thread on
  ``127.0.0.1:<free port>``, stopped at the end of the session. Its options come from the
  ``modelgates_server_options`` fixture (override it: ``{"rate_limit": 5}``, ``{"db": ...}``).
- ``modelgates_server`` (function): the same server, reset before and after each test (no
  keys, no spend, no faults, real time), so tests never see each other's state.
- ``async_modelgates_server`` (function, async): an ``AsyncLocalServer`` of its own in the
  test's event loop, for tests that want a private server.
- ``async_modelgates_client``: ``AsyncModelGates`` with the management key, pointed at
  ``modelgates_server``; retries back off for 0 s (a ``Retry-After`` is still honoured).
- ``modelgates_client``: the same with the sync ``ModelGates`` facade.
- ``modelgates_no_backoff``: test mode for the test's duration (see ``no_backoff()``); the
  fixture's value is the list of waits skipped.

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


@pytest.fixture(scope="session")
def modelgates_server_options() -> dict[str, Any]:
    """Options of the session's server (``ServerState`` keywords: ``management_key``, ``db``,
    ``rate_limit``, ``clock``); override this fixture in a conftest to change them."""
    return {}


@pytest.fixture(scope="session")
def modelgates_server_session(modelgates_server_options: dict[str, Any]) -> Iterator[LocalServer]:
    """One local ModelGates server for the whole session, in a background thread."""
    from modelgates_async.server import LocalServer

    with LocalServer(**modelgates_server_options) as server:
        yield server


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


def _async_fixture(function: Any) -> Any:
    """``pytest_asyncio.fixture``, or a fixture that skips when pytest-asyncio is missing."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - the test extra brings it

        @pytest.fixture(name=function.__name__)
        def unavailable() -> None:
            pytest.skip(f"{function.__name__} needs pytest-asyncio")

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

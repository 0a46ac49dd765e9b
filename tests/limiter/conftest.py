"""A real redis-server on a free 127.0.0.1 port, started and stopped by the tests.

Without the ``redis-server`` binary (Debian package ``redis-server``) or the ``redis``
package the tests that need them skip with the reason — except under ``CI=true``, where a
skipped Redis test would hide a broken setup, so they fail instead.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Iterator
from types import ModuleType

import pytest

from benchmarks.redis_server import RedisServer, free_port
from benchmarks.redis_server import redis_binary as find_redis_binary

__all__ = ["RedisServer", "free_port", "import_or_require", "require"]

_NO_SKIP = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip the test with ``reason`` unless ``condition`` — fail instead when CI=true."""
    if condition:
        return
    if _NO_SKIP:
        pytest.fail(f"{reason} (CI=true: Redis tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def import_or_require(name: str) -> ModuleType:
    """Import ``name`` (a module needing redis-py), or skip the module — fail under CI=true."""
    try:
        return importlib.import_module(name)
    except ImportError:
        reason = f"{name} needs the redis package (pip install '.[redis]')"
        if _NO_SKIP:
            pytest.fail(f"{reason} (CI=true: Redis tests must run, not skip)", pytrace=False)
        pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="session")
def redis_binary() -> str:
    """The redis-server binary and the redis package, or a skip (a failure under CI=true)."""
    import_or_require("redis")
    binary = find_redis_binary()
    require(binary is not None, "redis-server is not installed (apt-get install redis-server)")
    assert binary is not None
    return binary


@pytest.fixture(scope="session")
def redis_server(redis_binary: str) -> Iterator[RedisServer]:
    """One redis-server for the session (tests use their own keys)."""
    server = RedisServer(redis_binary).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session server's URL."""
    return redis_server.url


@pytest.fixture
def own_redis(redis_binary: str) -> Iterator[RedisServer]:
    """A redis-server of this test alone (for tests that stop and restart it)."""
    server = RedisServer(redis_binary).start()
    yield server
    server.stop()


@pytest.fixture
def key(request: pytest.FixtureRequest) -> str:
    """A Redis key prefix of this test alone."""
    return f"t-{request.node.name}-{os.getpid()}-{time.monotonic_ns()}".replace("[", "-").replace(
        "]", ""
    )

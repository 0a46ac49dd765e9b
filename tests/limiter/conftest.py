"""A real redis-server on a free 127.0.0.1 port, started and stopped by the tests.

Without the ``redis-server`` binary (Debian package ``redis-server``) or the ``redis``
package the tests that need them skip with the reason — except under ``CI=true``, where a
skipped Redis test would hide a broken setup, so they fail instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from benchmarks.redis_server import RedisServer
from benchmarks.redis_server import redis_binary as find_redis_binary

from .helpers import import_or_require, require


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

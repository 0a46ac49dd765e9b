"""A real redis-server on a free 127.0.0.1 port, started and stopped by the tests.

Without the ``redis-server`` binary (Debian package ``redis-server``) or the ``redis``
package the tests that need them skip with the reason — except under ``CI=true``, where a
skipped Redis test would hide a broken setup, so they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

_NO_SKIP = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip the test with ``reason`` unless ``condition`` — fail instead when CI=true."""
    if condition:
        return
    if _NO_SKIP:
        pytest.fail(f"{reason} (CI=true: Redis tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def _redis_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.path.exists(p)),
        None,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """``redis-server`` in a child process: no persistence, loopback only."""

    def __init__(self, binary: str, port: int | None = None) -> None:
        self.binary = binary
        self.port = port or _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait (at most 10 s) until it answers PING."""
        self._process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not answer PING within 10 s")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL) and wait for it."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def redis_binary() -> str:
    """The redis-server binary and the redis package, or a skip (a failure under CI=true)."""
    try:
        import redis  # noqa: F401
    except ImportError:
        require(False, "the redis package is not installed (pip install '.[redis]')")
    binary = _redis_binary()
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

"""Every example of README.md and docs/ runs against the local server (see examples.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from benchmarks.redis_server import RedisServer, redis_binary
from tests.docs.examples import Example, collect, run_python, run_subprocess
from tests.limiter.helpers import import_or_require, require

if TYPE_CHECKING:
    from modelgates_async.server import LocalServer

EXAMPLES = list(collect())
REDIS_URL_ENV = "MODELGATES_REDIS_URL"


@pytest.fixture(scope="session")
def examples_redis() -> Iterator[RedisServer]:
    """One redis-server for the examples that need one, started by the first of them; a skip
    without the binary (a failure under CI=true)."""
    binary = redis_binary()
    require(binary is not None, "redis-server is not installed (apt-get install redis-server)")
    assert binary is not None
    with RedisServer(binary) as server:
        yield server


def redis_url_for(request: pytest.FixtureRequest) -> str:
    """The examples' Redis, emptied: no state of an earlier example (a pause) carries over."""
    server: RedisServer = request.getfixturevalue("examples_redis")
    client = import_or_require("redis").Redis.from_url(server.url)
    try:
        client.flushdb()
    finally:
        client.close()
    return server.url


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_example_runs(
    example: Example,
    modelgates_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """The example runs as written against a fresh local server (and a Redis when it uses the
    shared limiter), or says why it cannot."""
    if example.mode == "skip":
        pytest.skip(f"{example.path.name}:{example.line}: {example.reason}")
    env = {
        "MODELGATES_BASE_URL": modelgates_server.base_url,
        "MODELGATES_API_KEY": modelgates_server.management_key,
    }
    monkeypatch.delenv(REDIS_URL_ENV, raising=False)  # never the developer's own Redis
    if example.needs_redis:
        env[REDIS_URL_ENV] = redis_url_for(request)
    if example.language == "python" and example.mode == "run":
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        run_python(example)
    else:
        run_subprocess(example, tmp_path, env)


def test_examples_are_found() -> None:
    """The collector sees the README's and the guides' examples (a broken glob finds none)."""
    pages = {example.path.name for example in EXAMPLES}
    assert {"README.md", "getting-started.md", "testing.md"} <= pages

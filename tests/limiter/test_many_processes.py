"""Several real processes share one account's rate limit (a local server with --rate-limit)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from benchmarks.seed import MANAGEMENT_KEY
from benchmarks.shared_limit import count_duplicates, run_mode
from modelgates_async.server import LocalServer

from .helpers import RedisServer, import_or_require

import_or_require("modelgates_async.redis")

PROCESSES = 3
KEYS = 100  # per process
LIMIT = 100.0  # requests/s: the whole run is a few seconds


def run(limit: float, redis: dict[str, Any] | None) -> dict[str, Any]:
    """One bounded run on a fresh server (a full token bucket), duplicates counted after."""
    with LocalServer(management_key=MANAGEMENT_KEY, rate_limit=limit) as server:
        row = run_mode(server.base_url, processes=PROCESSES, keys=KEYS, concurrency=16, redis=redis)
        row["on_server"], row["duplicates"] = count_duplicates(server.base_url, row["run_id"])
    return row


@pytest.mark.timeout(90)
def test_processes_sharing_redis_stay_under_the_limit(redis_server: RedisServer) -> None:
    """Shared: almost no 429s from the first request on; in-process limiters get many."""
    key = f"many-{uuid.uuid4().hex[:8]}"
    shared = run(LIMIT, {"url": redis_server.url, "options": {"key": key}})
    alone = run(LIMIT, None)
    for row in (shared, alone):
        assert row["failed"] == 0
        assert row["created"] == row["on_server"] == PROCESSES * KEYS
        assert row["duplicates"] == 0
    assert shared["fell_back"] == 0  # Redis was used throughout
    assert shared["rate_limited"] <= 0.05 * shared["requests"]
    assert alone["rate_limited"] >= 30  # each process opened at full concurrency, alone
    assert alone["rate_limited"] > 3 * shared["rate_limited"]

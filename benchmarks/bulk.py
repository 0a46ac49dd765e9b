"""Scenario 6: creating many keys against a rate-limited server.

Each contender gets a fresh server started with ``--rate-limit R`` (a per-key token bucket,
R requests a second, burst R) and creates ``n`` keys named ``<tag>-<i>``, each with its
default retry settings: ``create_many`` (the client-wide adaptive limiter), a plain
``asyncio.gather`` of ``AsyncModelGates.create``, and a plain ``asyncio.gather`` of
openrouter's ``create_async``. After the timed part the worker lists every key on the
server to count the ones made twice (duplicates) and the ones made but reported failed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from benchmarks.contenders import Unavailable
from benchmarks.seed import MANAGEMENT_KEY
from modelgates_async._eventloop import run

__all__ = ["BULK_CONTENDERS", "run_bulk_job"]

BULK_CONTENDERS = ("create_many", "AsyncModelGates gather", "openrouter async gather")


async def _create_many(job: dict[str, Any], names: list[str]) -> tuple[int, int]:
    from modelgates_async import AsyncModelGates
    from modelgates_async.resources.keys import AsyncAPIKeys

    if not hasattr(AsyncAPIKeys, "create_many"):
        raise Unavailable("api_keys.create_many is not available")
    async with AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=job["base_url"]) as mg:
        result = await mg.api_keys.create_many(
            [{"name": name} for name in names], concurrency=job["concurrency"]
        )
        return result.succeeded, result.failed


async def _ours_gather(job: dict[str, Any], names: list[str]) -> tuple[int, int]:
    from modelgates_async import AsyncModelGates

    async with AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=job["base_url"]) as mg:
        outcomes = await asyncio.gather(
            *(mg.api_keys.create(name) for name in names), return_exceptions=True
        )
    failed = sum(isinstance(o, BaseException) for o in outcomes)
    return len(outcomes) - failed, failed


async def _openrouter_gather(job: dict[str, Any], names: list[str]) -> tuple[int, int]:
    from openrouter import OpenRouter

    async with OpenRouter(api_key=MANAGEMENT_KEY, server_url=job["base_url"]) as client:
        outcomes = await asyncio.gather(
            *(client.api_keys.create_async(name=name) for name in names),
            return_exceptions=True,
        )
    failed = sum(isinstance(o, BaseException) for o in outcomes)
    return len(outcomes) - failed, failed


async def _names_on_server(base_url: str, prefix: str) -> Counter[str]:
    """Every key name on the server starting with ``prefix`` (pages fetched politely)."""
    import aiohttp

    names: Counter[str] = Counter()
    headers = {"Authorization": f"Bearer {MANAGEMENT_KEY}"}
    offset = 0
    async with aiohttp.ClientSession(headers=headers) as session:
        while True:
            url = f"{base_url}/keys?offset={offset}&include_disabled=true"
            async with session.get(url) as response:
                if response.status == 429:
                    await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                page = json.loads(await response.read())["data"]
            names.update(k["name"] for k in page if k["name"].startswith(prefix))
            if len(page) < 100:
                return names
            offset += len(page)


async def _bulk(job: dict[str, Any]) -> dict[str, Any]:
    runners = {
        "create_many": _create_many,
        "AsyncModelGates gather": _ours_gather,
        "openrouter async gather": _openrouter_gather,
    }
    prefix = f"{job['tag']}-"
    names = [f"{prefix}{i}" for i in range(job["n"])]
    await asyncio.sleep(1.1)  # a full token bucket for everyone, whatever ran before
    started = time.perf_counter()
    cpu = time.process_time()
    succeeded, failed = await runners[job["contender"]](job, names)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    on_server = await _names_on_server(job["base_url"], prefix)
    return {
        "n": job["n"],
        "succeeded": succeeded,
        "failures": failed,
        "wall": wall,
        "cpu": cpu,
        "on_server": sum(on_server.values()),
        "duplicates": sum(count - 1 for count in on_server.values()),
        "missing": len(names) - len(on_server),
    }


def run_bulk_job(job: dict[str, Any]) -> dict[str, Any]:
    """Create ``job["n"]`` keys with ``job["contender"]`` and count what reached the server."""
    return run(_bulk(job))

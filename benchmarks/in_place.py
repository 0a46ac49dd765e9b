"""Where a get's client CPU goes, measured in place: one client process, pieces interleaved.

    python -m benchmarks.in_place                  # 9 rounds of 6,000 gets, concurrency 64
    python -m benchmarks.in_place --quick          # 3 rounds of 1,000: the harness still works

The scenario benchmark (``python -m benchmarks``) says how far the SDK is from raw aiohttp;
this says where the difference is. Every contender runs in the same client process, against
one benchmark server in another, round after round in rotating order, so that each round's
figures share the machine's moment; a contender's figure is the median over rounds of its
ratio to raw aiohttp's in the same round. The contenders peel the SDK's path in layers:

- ``raw aiohttp``: the floor of the scenario benchmark (``benchmarks.contenders.RawAiohttp``);
- ``raw, sent as the SDK sends``: raw aiohttp with the SDK's session settings and request
  arguments — what aiohttp itself is asked for beyond the floor;
- ``SDK transport``: the client's ``Transport.request`` — limiter, retries, redaction, the
  checks of the answer — giving the decoded JSON, no record;
- ``SDK get``: ``api_keys.get``: the hash check and the typed ``APIKey`` on top.

Pieces of code cost more here than in a microbenchmark of them alone (the code of 64
interleaved calls does not stay in the CPU's caches), which is why they are measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from benchmarks.contenders import RawAiohttp
from benchmarks.seed import MANAGEMENT_KEY, seed_hashes
from benchmarks.server import BenchServer, split_cpus
from modelgates_async._eventloop import run

__all__ = ["main"]

SEEDED = 1000
CONCURRENCY = 64


class RawAsSDK:
    """Raw aiohttp, its session and request arguments as the SDK's (``_session``,
    ``_transport``): the same connector settings, read-only headers, an explicit timeout."""

    def __init__(self, base_url: str) -> None:
        self._base = base_url
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, enable_cleanup_closed=False),
            trust_env=False,
            raise_for_status=False,
        )
        headers = {
            "User-Agent": "modelgates-async/bench",
            "Accept": "application/json",
            "Authorization": f"Bearer {MANAGEMENT_KEY}",
        }
        self._headers = CIMultiDictProxy(CIMultiDict(headers))
        self._timeout = aiohttp.ClientTimeout(total=60.0)

    async def get(self, key_hash: str) -> object:
        url = URL(self._base + "/keys/" + key_hash, encoded=True)
        async with self._session.request(
            "GET",
            url,
            headers=self._headers,
            timeout=self._timeout,
            allow_redirects=False,
            proxy=None,
            ssl=True,
        ) as response:
            raw = await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        return json.loads(raw)["data"]

    async def aclose(self) -> None:
        await self._session.close()


class SDKTransport:
    """The SDK's transport alone: the decoded JSON of a get, no hash check, no record."""

    def __init__(self, base_url: str) -> None:
        from modelgates_async import AsyncModelGates

        self._client = AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=base_url)
        self._request = self._client._transport.request

    async def get(self, key_hash: str) -> object:
        body = await self._request("GET", "/keys/" + key_hash)
        return body["data"]

    async def aclose(self) -> None:
        await self._client.aclose()


class SDKGet:
    """``api_keys.get``: what a user calls."""

    def __init__(self, base_url: str) -> None:
        from modelgates_async import AsyncModelGates

        self._client = AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=base_url)
        self._keys = self._client.api_keys

    async def get(self, key_hash: str) -> object:
        return await self._keys.get(key_hash)

    async def aclose(self) -> None:
        await self._client.aclose()


def _contenders(base_url: str) -> dict[str, Any]:
    return {
        "raw aiohttp": RawAiohttp(base_url, CONCURRENCY),
        "raw, sent as the SDK sends": RawAsSDK(base_url),
        "SDK transport": SDKTransport(base_url),
        "SDK get": SDKGet(base_url),
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _drive(call: Callable[[int], Awaitable[object]], n: int) -> None:
    indices = iter(range(n))  # shared by the workers: each index is taken once

    async def worker() -> None:
        for index in indices:
            await call(index)

    await asyncio.gather(*(worker() for _ in range(min(CONCURRENCY, n))))


def _gets(client: Any, hashes: list[str]) -> Callable[[int], Awaitable[object]]:
    """Call ``i``: a get of the ``i``-th seeded key (round robin)."""

    def call(index: int) -> Awaitable[object]:
        result: Awaitable[object] = client.get(hashes[index % SEEDED])
        return result

    return call


async def _measure(base_url: str, rounds: int, n: int) -> dict[str, list[float]]:
    """Client CPU µs a get, per contender and round."""
    hashes = seed_hashes(SEEDED)
    clients = _contenders(base_url)
    names = list(clients)
    samples: dict[str, list[float]] = {name: [] for name in names}
    try:
        for client in clients.values():  # warm-up: connections, caches, specialisation
            await _drive(_gets(client, hashes), min(n, 1000))
        for number in range(rounds):
            order = names[number % len(names) :] + names[: number % len(names)]
            for name in order:
                client = clients[name]
                gc.collect()
                started = _cpu_seconds()
                await _drive(_gets(client, hashes), n)
                samples[name].append((_cpu_seconds() - started) / n * 1e6)
    finally:
        for client in clients.values():
            await client.aclose()
    return samples


def _render(samples: dict[str, list[float]], rounds: int, n: int) -> str:
    floor = samples["raw aiohttp"]
    lines = [
        f"client CPU a get, {rounds} rounds of {n:,} at concurrency {CONCURRENCY}, one process",
        "",
        "| contender | µs a get (median) | × raw aiohttp, per round (median, min–max) |",
        "|---|---:|---|",
    ]
    for name, values in samples.items():
        ratios = [value / reference for value, reference in zip(values, floor, strict=True)]
        lines.append(
            f"| {name} | {statistics.median(values):.1f} | {statistics.median(ratios):.3f}× "
            f"({min(ratios):.3f}–{max(ratios):.3f}) |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Start the server, measure every contender, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--n", type=int, default=6000, help="gets per contender and round")
    parser.add_argument("--quick", action="store_true", help="3 rounds of 1,000 gets")
    options = parser.parse_args(argv)
    rounds, n = (3, 1000) if options.quick else (options.rounds, options.n)
    cpus = split_cpus()
    with BenchServer(seed=SEEDED, cpus=cpus[0] if cpus else None) as server:
        if cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cpus[1])
        samples = run(_measure(server.base_url, rounds, n))
    print(_render(samples, rounds, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())

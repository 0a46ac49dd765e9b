"""Measure authenticated ``GET /api/v1/keys/{hash}`` throughput of the local server.

Starts ``python -m modelgates_async.server`` in a child process, creates one key, then drives
it from this process with a raw aiohttp client (64 concurrent requests) for a few seconds.
Not a test (no timing asserts in the suite): run it by hand,
``python -m benchmarks.server_throughput [--seconds 5] [--concurrency 64]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time

import aiohttp

from modelgates_async._eventloop import run

__all__ = ["drive", "main"]

KEY = "sk-mg-v1-" + "0" * 64


async def drive(base_url: str, seconds: float, concurrency: int) -> tuple[int, float]:
    """Send authenticated GETs from ``concurrency`` workers for ``seconds``; return how
    many were answered and the seconds measured."""
    headers = {"Authorization": f"Bearer {KEY}"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        async with session.post(f"{base_url}/keys", json={"name": "bench"}) as response:
            key_hash = (await response.json())["data"]["hash"]
        url = f"{base_url}/keys/{key_hash}"
        done = 0
        deadline = 0.0

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                async with session.get(url) as response:
                    await response.read()
                    assert response.status == 200, response.status
                done += 1

        deadline = time.perf_counter() + 1.0  # warm-up
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        done = 0
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done, time.perf_counter() - start


def main() -> None:
    """Start a server process, drive it, print the rate."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server_throughput")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    child = subprocess.Popen(
        [sys.executable, "-m", "modelgates_async.server", "--port", "0", "--management-key", KEY],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stdout is not None
        base_url = ""
        for line in child.stdout:
            match = re.search(r"MODELGATES_BASE_URL=(\S+)", line)
            if match:
                base_url = match.group(1)
                break
        done, elapsed = run(drive(base_url, args.seconds, args.concurrency))
        print(f"{done} requests in {elapsed:.2f}s: {done / elapsed:,.0f} requests/s")
    finally:
        child.terminate()
        child.wait(timeout=10)


if __name__ == "__main__":
    main()

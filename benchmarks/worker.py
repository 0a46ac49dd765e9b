"""One measurement in a fresh client process: ``python -m benchmarks.worker '<job json>'``.

The harness starts one worker per contender and round, so each process's CPU time
(``time.process_time()``, all threads) is that contender's alone. The worker prints one
line, ``RESULT <json>``; a contender that cannot run reports ``{"unavailable": reason}``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks.contenders import Unavailable, open_async, open_sync
from benchmarks.seed import seed_hashes
from modelgates_async._eventloop import run as _run

__all__ = ["main", "run_job"]

Result = dict[str, Any]


async def _drive_async(call: Callable[[int], Awaitable[object]], n: int, concurrency: int) -> int:
    """``n`` calls, ``concurrency`` at a time; returns how many raised."""
    indices = iter(range(n))  # shared by the workers: each index is taken once
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for index in indices:
            try:
                await call(index)
            except Exception:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    return errors


def _measure_start() -> tuple[float, float, float]:
    return time.perf_counter(), time.process_time(), time.time()


def _measure_end(start: tuple[float, float, float], n: int, errors: int) -> Result:
    wall = time.perf_counter() - start[0]
    cpu = time.process_time() - start[1]
    # Wall-clock ends too, so that runs in parallel processes can be put on one time line.
    return {
        "n": n,
        "errors": errors,
        "wall": wall,
        "cpu": cpu,
        "began": start[2],
        "ended": time.time(),
    }


async def _throughput_async(job: dict[str, Any]) -> Result:
    client = open_async(job["contender"], job["base_url"], job["concurrency"])
    try:
        hashes = seed_hashes(job["seeded"])
        prefix = f"bench-{job['tag']}"
        call: Callable[[int], Awaitable[object]]
        if job["op"] == "get":

            def call(i: int) -> Awaitable[object]:
                return client.get(hashes[i % len(hashes)])

        else:

            def call(i: int) -> Awaitable[object]:
                return client.create(f"{prefix}-{i}")

        await _drive_async(call, job["warmup"], job["concurrency"])
        gc.collect()
        if "start_at" in job:  # processes run together start measuring together
            await asyncio.sleep(max(0.0, job["start_at"] - time.time()))
        start = _measure_start()
        errors = await _drive_async(call, job["n"], job["concurrency"])
        return _measure_end(start, job["n"], errors)
    finally:
        await client.aclose()


def _throughput_sync(job: dict[str, Any]) -> Result:
    client = open_sync(job["contender"], job["base_url"])
    try:
        hashes = seed_hashes(job["seeded"])
        prefix = f"bench-{job['tag']}"
        if job["op"] == "get":

            def call(i: int) -> object:
                return client.get(hashes[i % len(hashes)])

        else:

            def call(i: int) -> object:
                return client.create(f"{prefix}-{i}")

        def drive(n: int) -> int:
            errors = 0
            for i in range(n):
                try:
                    call(i)
                except Exception:
                    errors += 1
            return errors

        drive(job["warmup"])
        gc.collect()
        start = _measure_start()
        errors = drive(job["n"])
        return _measure_end(start, job["n"], errors)
    finally:
        client.close()


def main() -> None:
    """Run the job given as the first argument and print its result."""
    job = json.loads(sys.argv[1])
    try:
        result = run_job(job)
    except Unavailable as exc:
        result = {"unavailable": str(exc)}
    print("RESULT " + json.dumps(result), flush=True)


def run_job(job: dict[str, Any]) -> Result:
    """Dispatch a job by its ``kind``."""
    kind = job["kind"]
    if kind == "async":
        return _run(_throughput_async(job))
    if kind == "sync":
        return _throughput_sync(job)
    if kind == "memory":
        from benchmarks.memory import run_memory_job

        return run_memory_job(job)
    if kind == "bulk":
        from benchmarks.bulk import run_bulk_job

        return run_bulk_job(job)
    raise ValueError(f"unknown job kind {kind!r}")


if __name__ == "__main__":
    main()

"""One measurement in a fresh client process: ``python -m benchmarks.worker '<job json>'``.

The harness starts one worker per contender and round, so each process's CPU time
(``getrusage(RUSAGE_SELF)``: user + system, all threads) is that contender's alone. The
worker prints one line, ``RESULT <json>``; a contender that cannot run reports
``{"unavailable": reason}``.

A job may name the CPUs to run on (``cpus``: the harness keeps the server on others) and the
directory its ``modelgates_async`` must come from (``package_dir``: an older commit's SDK,
see ``benchmarks.baseline``). The worker imports nothing of ``modelgates_async`` itself, so
the same worker measures any version of it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from benchmarks.contenders import Unavailable, open_async, open_sync
from benchmarks.seed import seed_hashes

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


def _run(main: Coroutine[Any, Any, Result]) -> Result:
    """``asyncio.run`` on uvloop when it is installed (as ``modelgates_async._eventloop``
    does; not imported from there, since an older SDK under test may not have it)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


Start = tuple[float, float, float, float]


def _measure_start() -> Start:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime, usage.ru_stime, time.time()


def _measure_end(start: Start, n: int, errors: int) -> Result:
    wall = time.perf_counter() - start[0]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    user, system = usage.ru_utime - start[1], usage.ru_stime - start[2]
    # Wall-clock ends too, so that runs in parallel processes can be put on one time line.
    return {
        "n": n,
        "errors": errors,
        "wall": wall,
        "cpu": user + system,
        "cpu_user": user,
        "cpu_system": system,
        "began": start[3],
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


def _check_package(package_dir: str) -> None:
    """Unavailable unless ``modelgates_async`` is imported from ``package_dir``."""
    import modelgates_async

    where = os.path.realpath(os.path.dirname(modelgates_async.__file__ or ""))
    expected = os.path.realpath(os.path.join(package_dir, "modelgates_async"))
    if where != expected:
        raise Unavailable(f"modelgates_async came from {where}, not from {expected}")


def main() -> None:
    """Run the job given as the first argument and print its result."""
    job = json.loads(sys.argv[1])
    if job.get("cpus") and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, job["cpus"])  # before any thread starts: they inherit it
    try:
        if job.get("package_dir"):
            _check_package(job["package_dir"])
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

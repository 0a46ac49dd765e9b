"""Scenario 5: ``iter()`` over every key versus collecting them all in a list.

Runs inside a worker against a server seeded with ``keys`` keys. After a warm-up page, the
worker walks every key either lazily (``iter``: each key is looked at and dropped) or by
collecting the list, and reports the peak memory above the level before the walk:
``rss`` mode reads the process's peak resident size (``ru_maxrss``), ``tracemalloc`` mode
the peak of Python allocations (exact, slower). Each mode runs in its own process.
"""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any

from benchmarks.contenders import Unavailable, sync_facade_class
from benchmarks.seed import MANAGEMENT_KEY
from modelgates_async._eventloop import run

__all__ = ["MEMORY_CONTENDERS", "run_memory_job"]

MEMORY_CONTENDERS = ("AsyncModelGates", "ModelGates (sync)")


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


class _Probe:
    """Peak memory above the level at ``start()``, in bytes."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._base = 0

    def start(self) -> None:
        gc.collect()
        if self.mode == "tracemalloc":
            tracemalloc.start()
            self._base = tracemalloc.get_traced_memory()[0]
        else:
            self._base = _peak_rss_bytes()

    def stop(self) -> int:
        if self.mode == "tracemalloc":
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return peak - self._base
        return _peak_rss_bytes() - self._base


def _walk_result(seen: int, probe: _Probe, started: float) -> dict[str, Any]:
    wall = time.perf_counter() - started
    return {"keys": seen, "growth": probe.stop(), "wall": wall}


async def _async_walk(job: dict[str, Any]) -> dict[str, Any]:
    from modelgates_async import AsyncModelGates

    probe = _Probe(job["measure"])
    async with AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=job["base_url"]) as mg:
        await mg.api_keys.list()  # warm: connection, imports, caches
        probe.start()
        started = time.perf_counter()
        keys: AsyncIterator[Any] = mg.api_keys.iter()
        if job["mode"] == "list":
            collected = [key async for key in keys]
            seen = len(collected)
            result = _walk_result(seen, probe, started)
            del collected
            return result
        seen = 0
        async for _ in keys:
            seen += 1
        return _walk_result(seen, probe, started)


def _sync_walk(job: dict[str, Any]) -> dict[str, Any]:
    facade = sync_facade_class()
    probe = _Probe(job["measure"])
    with facade(api_key=MANAGEMENT_KEY, base_url=job["base_url"]) as mg:
        mg.api_keys.list()
        probe.start()
        started = time.perf_counter()
        keys: Iterator[Any] = mg.api_keys.iter()
        if job["mode"] == "list":
            collected = list(keys)
            return _walk_result(len(collected), probe, started)
        seen = 0
        for _ in keys:
            seen += 1
        return _walk_result(seen, probe, started)


def run_memory_job(job: dict[str, Any]) -> dict[str, Any]:
    """Walk every key with ``job["contender"]`` in ``job["mode"]`` (iter or list)."""
    if job["contender"] == "AsyncModelGates":
        return run(_async_walk(job))
    if job["contender"] == "ModelGates (sync)":
        return _sync_walk(job)
    raise Unavailable(f"no memory scenario for {job['contender']}")

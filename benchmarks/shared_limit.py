"""Many processes, one rate limit: in-process limiters against ``RedisRateLimiter``.

``python -m benchmarks.shared_limit [--quick] [--json]``: a local server with a rate limit
(``python -m benchmarks.serve --rate-limit R``, the server of ``modelgates serve
--rate-limit R``), and P worker processes that each ``create_many`` N keys at once, with the
default retry settings. Reported per limiter: the aggregate rate of keys created as a
fraction of the limit, the 429s received (from the very first request, as a share of all
requests), the keys that failed and the duplicate keys found on the server afterwards.

Targets for the shared limiter: rate ≥ 0.9 × the limit, 429s ≤ 2 %, no failure, no
duplicate. Each worker is one process: ``python -m benchmarks.shared_limit --worker JOB``
prints ``READY``, waits for a line on standard input (so all start together), runs, and
prints ``RESULT <json>``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from typing import Any

from benchmarks.redis_server import RedisServer, redis_binary
from benchmarks.seed import MANAGEMENT_KEY, child_env
from benchmarks.server import BenchServer

__all__ = ["main", "run_mode", "run_worker"]


def modes(rate_limit: float) -> list[tuple[str, dict[str, Any] | None]]:
    """The limiters compared: (label, RedisRateLimiter options, or None: in-process)."""
    return [
        ("in-process", None),
        ("redis", {}),
        # The fixed ceiling, for a limit known in advance: a little under it.
        ("redis+max_rate", {"max_rate": 0.95 * rate_limit}),
    ]


async def _work(job: dict[str, Any]) -> dict[str, Any]:
    from modelgates_async import AsyncModelGates

    limiter = None
    if job["redis"] is not None:
        from modelgates_async.redis import RedisRateLimiter

        limiter = RedisRateLimiter(job["redis"]["url"], **job["redis"]["options"])
    specs = [{"name": f"{job['prefix']}-{i}"} for i in range(job["count"])]
    async with AsyncModelGates(
        api_key=job["api_key"], base_url=job["base_url"], rate_limiter=limiter
    ) as client:
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        start = time.time()
        result = await client.api_keys.create_many(specs, concurrency=job["concurrency"])
        end = time.time()
        used = client._transport.limiter
        return {
            "created": result.succeeded,
            "failed": result.failed,
            "rate_limited": used.rate_limited,
            "start": start,
            "end": end,
            "fell_back": limiter is not None and not limiter.sharing,
        }


def run_worker(job_json: str) -> None:
    """The child side: run one job and print its ``RESULT`` line."""
    print("RESULT " + json.dumps(asyncio.run(_work(json.loads(job_json)))), flush=True)


def run_mode(
    base_url: str,
    *,
    processes: int,
    keys: int,
    concurrency: int,
    redis: dict[str, Any] | None,
) -> dict[str, Any]:
    """Start ``processes`` workers together; return their figures summed (+ the prefixes)."""
    run_id = uuid.uuid4().hex[:8]
    workers = []
    for index in range(processes):
        job = {
            "base_url": base_url,
            "api_key": MANAGEMENT_KEY,
            "count": keys,
            "concurrency": concurrency,
            "prefix": f"{run_id}-w{index}",
            "redis": redis,
        }
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.shared_limit", "--worker", json.dumps(job)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=child_env(),
            )
        )
    results = []
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            if line.strip() != "READY":
                raise RuntimeError(f"a worker did not start: {line!r}")
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            if not line.startswith("RESULT "):
                raise RuntimeError(f"a worker failed: {line!r}")
            results.append(json.loads(line[len("RESULT ") :]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
            for stream in (worker.stdin, worker.stdout):
                if stream is not None:
                    stream.close()
    created = sum(r["created"] for r in results)
    failed = sum(r["failed"] for r in results)
    limited = sum(r["rate_limited"] for r in results)
    seconds = max(r["end"] for r in results) - min(r["start"] for r in results)
    return {
        "run_id": run_id,
        "created": created,
        "failed": failed,
        "rate_limited": limited,
        "requests": created + failed + limited,
        "seconds": seconds,
        "rate": created / seconds if seconds > 0 else 0.0,
        "fell_back": sum(bool(r["fell_back"]) for r in results),
    }


def count_duplicates(base_url: str, run_id: str) -> tuple[int, int]:
    """(keys on the server named for ``run_id``, how many of them repeat a name)."""
    from modelgates_async import AsyncModelGates

    async def names() -> list[str]:
        async with AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=base_url) as client:
            return [k.name async for k in client.api_keys.iter() if k.name.startswith(run_id)]

    found = asyncio.run(names())
    counts = collections.Counter(found)
    return len(found), sum(n - 1 for n in counts.values() if n > 1)


def main(argv: Sequence[str] | None = None) -> None:
    """Run every mode against one rate-limited server and print (or dump) the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shared_limit")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--keys", type=int, default=500, help="keys per process")
    parser.add_argument("--rate-limit", type=float, default=200.0, help="server limit, req/s")
    parser.add_argument("--concurrency", type=int, default=32, help="create_many concurrency")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        run_worker(args.worker)
        return
    if args.quick:
        args.processes, args.keys, args.rate_limit = 2, 60, 50.0
    binary = redis_binary()
    rows: list[dict[str, Any]] = []
    with BenchServer(rate_limit=args.rate_limit) as server:
        redis_server = RedisServer(binary).start() if binary else None
        try:
            for label, options in modes(args.rate_limit):
                if options is not None and redis_server is None:
                    rows.append({"mode": label, "unavailable": "redis-server is not installed"})
                    continue
                time.sleep(1.5)  # the server's token bucket refills: every mode starts alike
                redis = None
                if options is not None and redis_server is not None:
                    key = f"bench-{uuid.uuid4().hex[:8]}"
                    redis = {"url": redis_server.url, "options": {"key": key, **options}}
                row = run_mode(
                    server.base_url,
                    processes=args.processes,
                    keys=args.keys,
                    concurrency=args.concurrency,
                    redis=redis,
                )
                time.sleep(1.5)
                row["on_server"], row["duplicates"] = count_duplicates(
                    server.base_url, row["run_id"]
                )
                rows.append({"mode": label, **row})
        finally:
            if redis_server is not None:
                redis_server.stop()
    if args.json:
        print(json.dumps({"settings": vars(args), "rows": rows}, indent=2))
        return
    print(
        f"{args.processes} processes × create_many of {args.keys} keys "
        f"(concurrency {args.concurrency}) against a limit of {args.rate_limit:g} req/s"
    )
    print(
        f"{'limiter':<15} {'rate/limit':>10} {'429s':>6} {'429 %':>6} "
        f"{'failed':>6} {'dupes':>5} {'seconds':>7}"
    )
    for row in rows:
        if "unavailable" in row:
            print(f"{row['mode']:<15} unavailable: {row['unavailable']}")
            continue
        share = 100.0 * row["rate_limited"] / row["requests"] if row["requests"] else 0.0
        print(
            f"{row['mode']:<15} {row['rate'] / args.rate_limit:>10.2f} {row['rate_limited']:>6} "
            f"{share:>5.1f}% {row['failed']:>6} {row['duplicates']:>5} {row['seconds']:>7.1f}"
            + (f"  ({row['fell_back']} fell back)" if row["fell_back"] else "")
        )


if __name__ == "__main__":
    main()

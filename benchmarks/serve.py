"""Benchmark-only server launcher: the local server, its store seeded directly.

``python -m benchmarks.serve --seed N [--rate-limit R] [--cpus 0]`` inserts ``N`` key records
through the server package's store API (100,000 in about a second, instead of 100,000 HTTP creates),
then serves on a free port and prints ``READY <base_url>``. It stops on SIGTERM or when its
standard input closes, so a crashed harness never leaves it behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from datetime import datetime, timedelta, timezone

from benchmarks.seed import MANAGEMENT_KEY, seed_hash, seed_secret
from modelgates_async._eventloop import run
from modelgates_async.server import AsyncLocalServer, KeyRecord, ServerState, mask_secret

__all__ = ["main", "seed_store"]


def seed_store(state: ServerState, count: int) -> None:
    """Insert ``count`` deterministic keys (see ``benchmarks.seed``), oldest first."""
    start = datetime.now(timezone.utc) - timedelta(days=1)
    insert = state.store.insert
    for index in range(count):
        insert(
            KeyRecord(
                hash=seed_hash(index),
                name=f"seed-{index}",
                label=mask_secret(seed_secret(index)),
                created_at=start + timedelta(microseconds=index),
            )
        )


async def _serve(state: ServerState) -> None:
    async with AsyncLocalServer(state) as server:
        print(f"READY {server.base_url}", flush=True)
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, stopped.set)
        # Standard input closing (the harness went away) stops the server too.
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        eof = asyncio.ensure_future(reader.read())
        waiter = asyncio.ensure_future(stopped.wait())
        await asyncio.wait({eof, waiter}, return_when=asyncio.FIRST_COMPLETED)
        eof.cancel()
        waiter.cancel()


def main() -> None:
    """Parse the command line, seed, serve."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve")
    parser.add_argument("--seed", type=int, default=0, help="keys to insert before serving")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests/s per key")
    parser.add_argument("--cpus", default="", help="comma-separated CPUs to run on")
    args = parser.parse_args()
    if args.cpus and hasattr(os, "sched_setaffinity"):
        # First thing: threads started later (the store's, the loop's) inherit it.
        os.sched_setaffinity(0, [int(c) for c in args.cpus.split(",")])
    state = ServerState(management_key=MANAGEMENT_KEY, rate_limit=args.rate_limit)
    seed_store(state, args.seed)
    run(_serve(state))
    state.close()


if __name__ == "__main__":
    main()

"""What a journal costs: ``create_many`` of 10,000 keys with ``journal=`` and without.

    python -m benchmarks.journal_cost            # 10,000 keys a run, 5 rounds
    python -m benchmarks.journal_cost --quick    # 1,000 keys a run, 3 rounds

The local server runs in a process of its own (``benchmarks.serve``, a fresh one per
round); this process is the client. Each round creates ``--keys`` keys without a journal and
``--keys`` with one, back to back (the order alternates between rounds), so both runs of a
round see the same machine load; the cost is the median over rounds of each round's
throughput ratio. The client's CPU time per key is reported too: unlike throughput, it
hardly moves when other processes share the cores. The journal is written in ``--dir``
(default: a temporary directory under the current one — a real disk, not a tmpfs, so every
fsync is paid for). Target: the journal costs at most 15 % of the throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time

from benchmarks.seed import MANAGEMENT_KEY
from benchmarks.server import BenchServer
from modelgates_async import AsyncModelGates, KeySpec

__all__ = ["main", "measure"]

TARGET = 0.15


async def measure(
    base_url: str, count: int, concurrency: int, journal: str | None
) -> tuple[float, float]:
    """(keys created per second, client CPU µs per key) of one ``create_many``."""
    tag = "journal" if journal else "plain"
    specs = [KeySpec(f"{tag}-{i:05d}", limit=float(i % 50 + 1)) for i in range(count)]
    async with AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=base_url) as client:
        started, cpu = time.perf_counter(), time.process_time()
        result = await client.api_keys.create_many(specs, concurrency=concurrency, journal=journal)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not result.ok:
        raise RuntimeError(f"{result.failed} creates failed; the figures would be wrong")
    return count / elapsed, cpu / count * 1e6


def main(argv: list[str] | None = None) -> None:
    """Run the rounds and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.journal_cost")
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--dir", default=None, help="where the journals go")
    parser.add_argument("--quick", action="store_true", help="1,000 keys, 3 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.keys, args.rounds = 1_000, 3
    directory = tempfile.mkdtemp(prefix="journal-bench-", dir=args.dir or os.getcwd())
    runs: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    ratios: list[float] = []
    try:
        for round_number in range(args.rounds):
            with BenchServer() as server:
                order = [False, True] if round_number % 2 == 0 else [True, False]
                for use_journal in order:
                    path = os.path.join(directory, f"round-{round_number}.journal")
                    runs[use_journal].append(
                        asyncio.run(
                            measure(
                                server.base_url,
                                args.keys,
                                args.concurrency,
                                path if use_journal else None,
                            )
                        )
                    )
            (plain, plain_cpu), (journaled, journal_cpu) = runs[False][-1], runs[True][-1]
            ratios.append(journaled / plain)
            print(
                f"round {round_number + 1}: without journal {plain:6.0f} keys/s "
                f"({plain_cpu:4.0f} µs CPU/key), with journal {journaled:6.0f} keys/s "
                f"({journal_cpu:4.0f} µs CPU/key)",
                flush=True,
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    cost = 1 - statistics.median(ratios)
    print(
        f"\n{args.keys} keys a run, concurrency {args.concurrency}, {args.rounds} round(s), "
        f"journal in {directory}\n"
        f"median without journal: {statistics.median(r for r, _ in runs[False]):6.0f} keys/s, "
        f"{statistics.median(c for _, c in runs[False]):4.0f} µs client CPU/key\n"
        f"median with journal:    {statistics.median(r for r, _ in runs[True]):6.0f} keys/s, "
        f"{statistics.median(c for _, c in runs[True]):4.0f} µs client CPU/key\n"
        f"journal cost (median of per-round ratios): {cost:+.1%} of throughput "
        f"(target <= {TARGET:.0%}: {'met' if cost <= TARGET else 'NOT met'})"
    )


if __name__ == "__main__":
    main()

"""Walk every key of a large local server page by page: does a page cost more further in?

``python -m benchmarks.list_walk [--keys 100000] [--store memory|sqlite|both]`` seeds the
store directly (no HTTP create), then walks ``GET /api/v1/keys?offset=…`` from offset 0 to
the end over real sockets as ``iter()`` does — pages of 100 keys, the offset moving
:data:`STEP` (75) keys a page so that each page shares 25 keys with the one before, the keys
counted once by hash — and reports the cost of the first and the last pages and the walk's
distinct keys/s, for each store. ``--step 100`` walks without overlap (as ``iter()`` did
before issue 12). Only the server package's public names are used,
so the same file measures another checkout: ``PYTHONPATH=/path/to/other/checkout python
benchmarks/list_walk.py`` (how the before/after figures of issue 12 were taken).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp

from modelgates_async._eventloop import run
from modelgates_async.server import AsyncLocalServer, KeyRecord, ServerState

__all__ = ["main", "walk"]

MANAGEMENT_KEY = "sk-mg-v1-" + "be" * 32
PAGE = 100
#: How far ``iter()`` moves the offset a page (``resources/_paging.py``'s STEP, restated so
#: that this file runs against older checkouts; tests/bench pins that they agree).
STEP = 75
#: Pages at each end of the walk whose median is reported (one page alone is noisy).
EDGE_PAGES = 10


def seed(state: ServerState, count: int) -> float:
    """Insert ``count`` keys, oldest first, a microsecond apart; return the seconds taken."""
    start = time.perf_counter()
    created = datetime.now(timezone.utc) - timedelta(days=1)
    insert = state.store.insert
    for index in range(count):
        digest = hashlib.sha256(f"list-walk-{index}".encode()).hexdigest()
        insert(
            KeyRecord(
                hash=digest,
                name=f"walk-{index}",
                label=f"sk-mg-v1-{digest[:3]}...{digest[-3:]}",
                created_at=created + timedelta(microseconds=index),
            )
        )
    return time.perf_counter() - start


async def walk(base_url: str, expected: int, step: int = STEP) -> dict[str, Any]:
    """Fetch every page, the offset moving ``step`` keys a page; return the per-page costs
    and the walk's rate in distinct keys."""
    headers = {"Authorization": f"Bearer {MANAGEMENT_KEY}"}
    costs: list[float] = []
    hashes: set[str] = set()
    async with aiohttp.ClientSession(headers=headers) as session:
        # Warm the connection and the store's caches with one first page, not counted.
        async with session.get(f"{base_url}/keys") as response:
            await response.read()
        started = time.perf_counter()
        offset = 0
        while True:
            page_start = time.perf_counter()
            async with session.get(f"{base_url}/keys", params={"offset": str(offset)}) as response:
                body = await response.json()
            costs.append(time.perf_counter() - page_start)
            if response.status != 200:
                raise RuntimeError(f"GET /keys?offset={offset} answered {response.status}")
            page = body["data"]
            hashes.update(key["hash"] for key in page)
            if len(page) < PAGE:
                break
            offset += step
        elapsed = time.perf_counter() - started
    seen = len(hashes)
    if seen != expected:
        raise RuntimeError(f"walked {seen} keys, expected {expected}")
    full = costs[:-1] if len(costs) > 1 else costs  # the last request is the short/empty one
    first = statistics.median(full[:EDGE_PAGES])
    last = statistics.median(full[-EDGE_PAGES:])
    return {
        "pages": len(costs),
        "first_page_ms": first * 1000,
        "last_page_ms": last * 1000,
        "last_over_first": last / first,
        "walk_s": elapsed,
        "keys_per_s": seen / elapsed,
    }


async def measure(
    store: str, count: int, folder: Path, repeat: int = 1, step: int = STEP
) -> dict[str, Any]:
    """Seed a fresh server of this store kind and walk it ``repeat`` times; return the
    fastest walk (the one least disturbed by other work on the machine)."""
    options: dict[str, Any] = {"db": folder / f"walk-{count}.db"} if store == "sqlite" else {}
    state = ServerState(management_key=MANAGEMENT_KEY, **options)
    try:
        seconds = seed(state, count)
        async with AsyncLocalServer(state) as server:
            walks = [await walk(server.base_url, count, step) for _ in range(repeat)]
        result = min(walks, key=lambda w: w["walk_s"])
    finally:
        state.close()
    return {"store": store, "keys": count, "seed_s": seconds, **result}


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, measure, print one line per store."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.list_walk")
    parser.add_argument("--keys", type=int, default=100_000, help="keys to seed (100000)")
    parser.add_argument("--store", choices=["memory", "sqlite", "both"], default="both")
    parser.add_argument(
        "--repeat", type=int, default=1, help="walks per store; the fastest is reported (1)"
    )
    parser.add_argument(
        "--step", type=int, default=STEP, help=f"offset moved a page (iter()'s: {STEP})"
    )
    args = parser.parse_args(argv)
    stores = ["memory", "sqlite"] if args.store == "both" else [args.store]
    import modelgates_async

    print(f"# list walk of {args.keys:,} keys, code from {Path(modelgates_async.__file__).parent}")
    print(f"# pages of {PAGE} keys, the offset moving {args.step} a page; first/last page: median")
    print(f"# of the first and last {EDGE_PAGES} full pages; keys/s counts distinct keys")
    with tempfile.TemporaryDirectory() as folder:
        for store in stores:
            r = run(measure(store, args.keys, Path(folder), max(1, args.repeat), args.step))
            print(
                f"{r['store']:>6}: {r['pages']} pages, first page {r['first_page_ms']:.2f} ms, "
                f"last page {r['last_page_ms']:.2f} ms (x{r['last_over_first']:.2f}), "
                f"walk {r['walk_s']:.2f} s = {r['keys_per_s']:,.0f} keys/s "
                f"(seeded in {r['seed_s']:.1f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()

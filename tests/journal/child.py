"""A bulk run in a process of its own, for the tests that interrupt or kill it.

    python -m tests.journal.child MODE BASE_URL COUNT [JOURNAL]

MODE is ``journal`` (async create_many with a journal), ``async`` (asyncio.run, no
journal) or ``sync`` (the ModelGates facade, no journal). The management key comes from
MODELGATES_API_KEY. Progress goes to stdout as ``progress N`` lines; an interrupted run
without a journal prints ``result JSON`` (its .partial_result, secrets included: this is a
test) and exits 130; a finished run exits 0 when every spec succeeded, else 3.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from modelgates_async import (
    AsyncModelGates,
    BulkResult,
    KeySpec,
    ModelGates,
    NotStartedError,
    RetryConfig,
    partial_result_of,
)

CONCURRENCY = 16
RETRIES = RetryConfig(initial_backoff=0.0, max_backoff=0.0, jitter=0.0)


def specs(count: int) -> list[KeySpec]:
    """The same specs as tests.journal.helpers.spec_list."""
    return [KeySpec(f"tenant-{i:05d}", limit=float(i % 50 + 1)) for i in range(count)]


def progress(done: int, total: int, failed: int) -> None:
    print(f"progress {done}", flush=True)


def dump(result: BulkResult[Any]) -> None:
    rows = []
    for item in result:
        if item.ok:
            created = item.unwrap()
            rows.append({"state": "ok", "hash": created.data.hash, "key": created.key})
        elif isinstance(item.error, NotStartedError):
            rows.append({"state": "not_started"})
        else:
            rows.append({"state": type(item.error).__name__})
    print("result " + json.dumps(rows), flush=True)


async def run_async(base_url: str, count: int, journal: str | None) -> BulkResult[Any]:
    async with AsyncModelGates(base_url=base_url, retries=RETRIES) as client:
        try:
            return await client.api_keys.create_many(
                specs(count), concurrency=CONCURRENCY, on_progress=progress, journal=journal
            )
        except asyncio.CancelledError as exc:  # asyncio.run turned Ctrl-C into this
            result = partial_result_of(exc)
            if result is not None and journal is None:
                dump(result)
            raise


def main(argv: list[str]) -> int:
    mode, base_url, count = argv[0], argv[1], int(argv[2])
    try:
        if mode == "sync":
            with ModelGates(base_url=base_url, retries=RETRIES) as client:
                try:
                    result = client.api_keys.create_many(
                        specs(count), concurrency=CONCURRENCY, on_progress=progress
                    )
                except KeyboardInterrupt as exc:
                    partial = partial_result_of(exc)
                    print(f"interrupted partial={partial is not None}", flush=True)
                    if partial is not None:
                        dump(partial)
                    return 130
        else:
            journal = argv[3] if mode == "journal" else None
            result = asyncio.run(run_async(base_url, count, journal))
    except KeyboardInterrupt:
        return 130
    print(f"finished ok={result.ok}", flush=True)
    return 0 if result.ok else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

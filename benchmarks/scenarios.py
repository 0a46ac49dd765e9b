"""The six scenarios (and the server's own ceiling), each returning rows of the table.

The harness process only orchestrates: every measurement runs in a fresh worker process
(``benchmarks.worker``), one contender at a time, rounds interleaved (the order rotates each
round) so that drift on a noisy machine touches every contender alike. Scenarios 1-3 live in
``benchmarks.throughput``.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.bulk import BULK_CONTENDERS
from benchmarks.contenders import ASYNC_CONTENDERS, SYNC_CONTENDERS
from benchmarks.imports import FIRST_CALL_CASES, IMPORT_CASES, measure_imports
from benchmarks.memory import MEMORY_CONTENDERS
from benchmarks.report import Row
from benchmarks.seed import MANAGEMENT_KEY, child_env, seed_hash
from benchmarks.server import BenchServer
from benchmarks.settings import Settings
from benchmarks.stats import ratio
from benchmarks.throughput import (
    Progress,
    parse_result,
    problem_of,
    run_worker,
    throughput_rows,
    worker_command,
)

__all__ = [
    "S1",
    "S2",
    "S3",
    "S4",
    "S5",
    "S6",
    "SERVER",
    "bulk_rows",
    "ceiling_rows",
    "import_rows",
    "memory_rows",
    "throughput_rows",
]

S1 = "1. get ×{n} c={c}"
S2 = "2. create ×{n} c={c}"
S3 = "3. sequential get ×{n}"
S4 = "4. import"
S5 = "5. walk {n} keys"
S6 = "6. bulk create ×{n} @{r}/s"
SERVER = "server ceiling"

FLOOR_ASYNC = "raw aiohttp"
OURS_ASYNC = "AsyncModelGates"
PEER_ASYNC = "openrouter async"
FLOOR_SYNC = "requests.Session"
PEER_SYNC = "openrouter sync"


def ceiling_rows(server: BenchServer, settings: Settings, floor_rows: Sequence[Row]) -> list[Row]:
    """The server's ceiling: two raw aiohttp client processes at once, and its CPU a request."""
    jobs: list[dict[str, Any]] = [
        {
            "kind": "async",
            "contender": FLOOR_ASYNC,
            "op": "get",
            "n": settings.ceiling_requests,
            "concurrency": settings.ceiling_concurrency,
            "base_url": server.base_url,
            "seeded": settings.seeded,
            "warmup": settings.warmup,
            "tag": f"ceiling-{i}",
            # Both start measuring at once, after their start-up and warm-up.
            "start_at": time.time() + 3.0,
        }
        for i in range(2)
    ]
    server_cpu = server.cpu_seconds()
    processes = [
        subprocess.Popen(
            worker_command(job),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
            text=True,
        )
        for job in jobs
    ]
    outputs = [p.communicate() for p in processes]
    used = None if server_cpu is None else (server.cpu_seconds() or server_cpu) - server_cpu
    results = [parse_result(out, err) for out, err in outputs]
    if any("wall" not in r for r in results):
        return [Row(SERVER, "raw aiohttp ×2 processes", unavailable=str(results))]
    total = sum(r["n"] for r in results)
    # From the first measured request of either process to the last one of both: a lower
    # bound of the rate, right even if the two measured parts overlap only in part.
    window = max(r["ended"] for r in results) - min(r["began"] for r in results)
    rate = total / window
    overlap = min(r["ended"] for r in results) - max(r["began"] for r in results)
    notes = [f"c={settings.ceiling_concurrency} each, {max(overlap, 0) / window:.0%} overlap"]
    if used is not None:
        served = total + sum(job["warmup"] for job in jobs)
        notes.append(f"server CPU {used / served * 1e6:.0f} µs/req")
    # The server's own cost is clearest in the quietest round of the raw floor.
    per_request_known = [
        p for r in floor_rows for p in r.extra.get("server_cpu_per_request_samples", []) if p
    ]
    row = Row(
        SERVER, "raw aiohttp ×2 processes", n=total, value=rate, unit="req/s", note=", ".join(notes)
    )
    rows = [row]
    if per_request_known:
        best = min(per_request_known)
        rows.append(
            Row(
                SERVER,
                "server CPU/request → one free core",
                value=1.0 / best,
                unit="req/s",
                note=f"{best * 1e6:.0f} µs server CPU a request in the best raw-floor round",
            )
        )
    return rows


def import_rows(server: BenchServer, settings: Settings, progress: Progress) -> list[Row]:
    """Import times and import + first call, medians of fresh interpreters."""
    progress(f"{S4}: {settings.import_runs} fresh interpreters per case")
    imports = measure_imports(IMPORT_CASES, settings.import_runs)
    values = {
        name: code.format(base_url=server.base_url, key=MANAGEMENT_KEY, hash=seed_hash(0))
        for name, code in FIRST_CALL_CASES.items()
    }
    first_calls = measure_imports(values, settings.import_runs)
    rows: list[Row] = []
    floor = imports["import aiohttp"][0]
    peer = imports["import openrouter"][0]
    for name, (seconds, samples, problem) in imports.items():
        rows.append(
            _import_row(
                name, seconds, samples, problem, ratio(seconds, floor), ratio(seconds, peer)
            )
        )
    peers = {
        "AsyncModelGates: import + first get": "openrouter async: import + first get",
        "ModelGates (sync): import + first get": "openrouter sync: import + first get",
    }
    for name, (seconds, samples, problem) in first_calls.items():
        peer_seconds = first_calls[peers.get(name, name)][0]
        rows.append(
            _import_row(name, seconds, samples, problem, None, ratio(seconds, peer_seconds))
        )
    return rows


def _import_row(
    name: str,
    seconds: float | None,
    samples: Sequence[float],
    problem: str | None,
    vs_floor: float | None,
    vs_peer: float | None,
) -> Row:
    # One row of scenario 4, in milliseconds; a contender with no sample says why.
    if seconds is None:
        return Row(S4, name, unavailable=problem or "no sample")
    return Row(
        S4,
        name,
        n=len(samples),
        value=seconds * 1000,
        unit="ms",
        vs_floor=vs_floor,
        vs_peer=vs_peer,
        samples=[s * 1000 for s in samples],
    )


def memory_rows(settings: Settings, progress: Progress) -> list[Row]:
    """Peak memory growth walking every key: ``iter()`` against collecting the list."""
    title = S5.format(n=f"{settings.iter_keys:,}")
    progress(f"{title}: seeding the server")
    rows: list[Row] = []
    with BenchServer(seed=settings.iter_keys) as server:
        for contender in MEMORY_CONTENDERS:
            results: dict[str, dict[str, dict[str, Any]]] = {}
            for mode in ("iter", "list"):
                results[mode] = {}
                for measure in ("rss", "tracemalloc"):
                    job = {
                        "kind": "memory",
                        "contender": contender,
                        "mode": mode,
                        "measure": measure,
                        "base_url": server.base_url,
                    }
                    results[mode][measure] = run_worker(job)
                    progress(f"{title}: {contender} {mode} ({measure})")
            for mode in ("iter", "list"):
                label = f"{contender} {'iter()' if mode == 'iter' else 'list(iter())'}"
                rss, traced = results[mode]["rss"], results[mode]["tracemalloc"]
                unavailable, failed = problem_of([rss, traced])
                if unavailable is not None or failed is not None:
                    rows.append(Row(title, label, unavailable=unavailable or f"failed: {failed}"))
                    continue
                growth = rss["growth"] / 1e6
                note = (
                    f"{rss['keys']:,} keys seen, {rss['keys'] / rss['wall']:,.0f} keys/s; "
                    f"Python heap peak +{traced['growth'] / 1e6:.2f} MB (tracemalloc)"
                )
                rows.append(
                    Row(
                        title,
                        label,
                        n=rss["keys"],
                        value=growth,
                        unit="MB",
                        note=note,
                        extra={"rss": rss, "tracemalloc": traced},
                    )
                )
        # The ratio column: growth of iter() as a fraction of collecting the list.
        by_label = {row.contender: row for row in rows}
        for contender in MEMORY_CONTENDERS:
            walked = by_label.get(f"{contender} iter()")
            listed = by_label.get(f"{contender} list(iter())")
            if walked is not None and listed is not None:
                walked.vs_floor = ratio(walked.value, listed.value)
    return rows


def bulk_rows(settings: Settings, progress: Progress) -> list[Row]:
    """Bulk creation against a rate-limited server (a fresh one per contender)."""
    title = S6.format(n=f"{settings.bulk_keys:,}", r=f"{settings.rate_limit:g}")
    rows: list[Row] = []
    for contender in BULK_CONTENDERS:
        with BenchServer(rate_limit=settings.rate_limit) as server:
            job = {
                "kind": "bulk",
                "contender": contender,
                "n": settings.bulk_keys,
                "concurrency": settings.concurrency,
                "base_url": server.base_url,
                "tag": f"bulk-{contender.replace(' ', '_')}",
            }
            result = run_worker(job)
        progress(f"{title}: {contender}")
        unavailable, failed = problem_of([result])
        if unavailable is not None or failed is not None:
            rows.append(Row(title, contender, unavailable=unavailable or f"failed: {failed}"))
            continue
        achieved = result["succeeded"] / result["wall"]
        note = (
            f"{result['succeeded']:,} ok, {result['failures']:,} failed, "
            f"{result['duplicates']:,} duplicates, "
            f"{result['n'] - result['missing'] - result['succeeded']:,} made but reported failed; "
            f"{achieved:,.0f} keys/s in {result['wall']:.1f}s"
        )
        rows.append(
            Row(
                title,
                contender,
                n=result["n"],
                value=achieved / settings.rate_limit,
                unit="× limit",
                cpu_per_1k=result["cpu"] / result["n"] * 1000,
                note=note,
                extra=result,
            )
        )
    return rows


def async_contenders() -> list[str]:
    """Names of the async contenders, floor first."""
    return list(ASYNC_CONTENDERS)


def sync_contenders() -> list[str]:
    """Names of the sync contenders, floor first."""
    return list(SYNC_CONTENDERS)

"""Scenarios 1-3: rounds of calls per contender in fresh worker processes, and their figures.

Rounds are interleaved (the order rotates each round) so that drift on a noisy machine
touches every contender alike. The client's CPU a request is the steadiest figure: each
contender's is compared with the raw floor's *of the same round* (the median of those
per-round ratios is the "CPU × floor" column), and its spread across rounds is given as the
interquartile range.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.report import Row
from benchmarks.seed import child_env
from benchmarks.server import BenchServer
from benchmarks.settings import Settings
from benchmarks.stats import median, quartiles, ratio

__all__ = [
    "Progress",
    "WorkerPlace",
    "fill_ratios",
    "paired_cpu_ratios",
    "parse_result",
    "problem_of",
    "run_worker",
    "throughput_rows",
    "worker_command",
]

Progress = Callable[[str], None]


class WorkerPlace:
    """Where a contender's workers run: CPUs, the ``modelgates_async`` to import and the
    ``PYTHONPATH`` that goes with it, or why the contender cannot run at all."""

    def __init__(
        self,
        cpus: list[int] | None = None,
        package_dir: Path | None = None,
        pythonpath: Path | None = None,
        unavailable: str | None = None,
    ) -> None:
        self.cpus = cpus
        self.package_dir = package_dir
        self.pythonpath = pythonpath
        self.unavailable = unavailable


def worker_command(job: dict[str, Any]) -> list[str]:
    """The command line of a worker process running ``job``."""
    return [sys.executable, "-m", "benchmarks.worker", json.dumps(job)]


def parse_result(stdout: str, stderr: str) -> dict[str, Any]:
    """A worker's ``RESULT`` line, or ``{"failed": last line of stderr}``."""
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            return result
    tail = stderr.strip().splitlines()[-1:] or ["no output"]
    return {"failed": tail[0][:200]}


def run_worker(job: dict[str, Any], place: WorkerPlace | None = None) -> dict[str, Any]:
    """Run one job in a fresh process; return its result (``failed`` on a crash)."""
    env = child_env()
    cwd = None
    if place is not None:
        if place.unavailable is not None:
            return {"unavailable": place.unavailable}
        if place.cpus:
            job = {**job, "cpus": place.cpus}
        if place.package_dir is not None:
            # ``python -m`` puts the working directory first on sys.path: the old package
            # shadows the working tree's, which PYTHONPATH keeps reachable for ``benchmarks``.
            cwd = str(place.package_dir)
            job = {**job, "package_dir": cwd}
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(place.pythonpath or ""), env.get("PYTHONPATH", "")) if p
            )
    done = subprocess.run(
        worker_command(job), capture_output=True, text=True, env=env, cwd=cwd, check=False
    )
    return parse_result(done.stdout, done.stderr)


def problem_of(results: Sequence[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(unavailable reason, failure) of a contender's results."""
    for result in results:
        if "unavailable" in result:
            return result["unavailable"], None
    for result in results:
        if "failed" in result:
            return None, result["failed"]
    return None, None


def _cpu_per_1k(result: dict[str, Any]) -> float:
    cpu: float = result["cpu"] / result["n"] * 1000
    return cpu


def throughput_rows(
    server: BenchServer,
    settings: Settings,
    *,
    title: str,
    kind: str,
    op: str,
    contenders: Sequence[str],
    floor: str,
    peer: str,
    n: int,
    n_peer: int,
    concurrency: int,
    progress: Progress,
    places: dict[str, WorkerPlace] | None = None,
) -> list[Row]:
    """Rounds of ``n`` ``op`` calls per contender; rates, CPU and ratios, medians of rounds.

    ``places`` says where each contender's workers run (default: anywhere, this package).
    """
    places = places or {}
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in contenders}
    for round_index in range(settings.rounds):
        shift = round_index % len(contenders)
        for name in [*contenders[shift:], *contenders[:shift]]:
            if samples[name] and any("unavailable" in s for s in samples[name]):
                continue
            count = n_peer if name.startswith("openrouter") else n
            job: dict[str, Any] = {
                "kind": kind,
                "contender": name,
                "op": op,
                "n": count,
                "concurrency": concurrency,
                "base_url": server.base_url,
                "seeded": settings.seeded,
                "warmup": min(settings.warmup, count),
                "tag": f"{op}-{name.replace(' ', '_')}-{round_index}-{time.time_ns()}",
            }
            server_cpu = server.cpu_seconds()
            result = run_worker(job, places.get(name))
            if server_cpu is not None and "wall" in result:
                used = (server.cpu_seconds() or server_cpu) - server_cpu
                result["server_cpu_per_request"] = used / (count + job["warmup"])
            result["round"] = round_index
            samples[name].append(result)
            progress(f"{title} round {round_index + 1}/{settings.rounds}: {name}")
    rows = [_row(title, name, samples[name]) for name in contenders]
    fill_ratios(rows, floor, peer)
    return rows


def _row(title: str, name: str, results: list[dict[str, Any]]) -> Row:
    unavailable, failed = problem_of(results)
    if unavailable is not None or failed is not None:
        return Row(title, name, unavailable=unavailable or f"failed: {failed}")
    rates = [r["n"] / r["wall"] for r in results]
    cpus = [_cpu_per_1k(r) for r in results]
    errors = sum(r["errors"] for r in results)
    server_per_request = median([r.get("server_cpu_per_request", 0.0) for r in results])
    rate = median(rates)
    notes = []
    if errors:
        notes.append(f"{errors} errors")
    if len(rates) > 1:
        low, high = quartiles(cpus)
        notes.append(f"CPU IQR {low * 1000:.0f}–{high * 1000:.0f} µs")
        notes.append(f"rounds {min(rates):,.0f}–{max(rates):,.0f}/s")
    if server_per_request and rate:
        notes.append(f"server {server_per_request * rate:.2f} core busy")
    return Row(
        title,
        name,
        n=results[0]["n"],
        value=rate,
        unit="req/s",
        cpu_per_1k=median(cpus),
        note=", ".join(notes),
        samples=rates,
        extra={
            "best_rate": max(rates),
            "best_cpu_per_1k": min(cpus),
            "cpu_per_1k_samples": cpus,
            "cpu_user_per_1k_samples": [
                r["cpu_user"] / r["n"] * 1000 for r in results if "cpu_user" in r
            ],
            "cpu_per_1k_by_round": {str(r["round"]): _cpu_per_1k(r) for r in results},
            "errors": errors,
            "server_cpu_per_request": server_per_request,
            "server_cpu_per_request_samples": [
                r["server_cpu_per_request"] for r in results if "server_cpu_per_request" in r
            ],
        },
    )


def paired_cpu_ratios(row: Row, reference: Row) -> list[float]:
    """``row``'s CPU a request over ``reference``'s, one ratio per round both ran in."""
    mine: dict[str, float] = row.extra.get("cpu_per_1k_by_round", {})
    theirs: dict[str, float] = reference.extra.get("cpu_per_1k_by_round", {})
    return [mine[r] / theirs[r] for r in mine if r in theirs and theirs[r] > 0]


def fill_ratios(rows: list[Row], floor: str, peer: str) -> None:
    """The ratio columns: rates and CPU against the floor, rates against the peer.

    CPU against the floor is the median of per-round ratios when the rounds are known (a
    busy moment raises both figures of a round alike), else the ratio of the medians.
    """
    by_name = {row.contender: row for row in rows}
    floor_row, peer_row = by_name.get(floor), by_name.get(peer)
    for row in rows:
        if row.unavailable is not None:
            continue
        if floor_row is not None and floor_row.unavailable is None:
            row.vs_floor = ratio(row.value, floor_row.value)
            paired = paired_cpu_ratios(row, floor_row)
            if paired:
                row.cpu_vs_floor = median(paired)
                row.extra["cpu_vs_floor_quartiles"] = list(quartiles(paired))
            else:
                row.cpu_vs_floor = ratio(row.cpu_per_1k, floor_row.cpu_per_1k)
        if peer_row is not None and peer_row.unavailable is None:
            row.vs_peer = ratio(row.value, peer_row.value)

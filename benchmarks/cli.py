"""``python -m benchmarks [--quick] [--no-write] [--only 1,3,...]``: run, print, write."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import scenarios
from benchmarks.baseline import REPOSITORY, Baseline
from benchmarks.contenders import BASELINE_PREFIX
from benchmarks.report import (
    Row,
    Target,
    format_ratio,
    machine_description,
    text_table,
    write_results,
)
from benchmarks.scenarios import (
    FLOOR_ASYNC,
    FLOOR_SYNC,
    OURS_ASYNC,
    PEER_ASYNC,
    PEER_SYNC,
    S1,
    S2,
    S3,
    S4,
    S6,
)
from benchmarks.server import BenchServer, split_cpus
from benchmarks.settings import FULL, QUICK, Settings
from benchmarks.stats import median, quartiles, ratio
from benchmarks.throughput import Progress, WorkerPlace, paired_cpu_ratios
from modelgates_async._eventloop import uvloop_version

__all__ = ["evaluate_targets", "main"]

RESULTS = Path(__file__).resolve().parent / "results"
ALL = ("1", "2", "3", "4", "5", "6", "ceiling")


def _progress(started: float) -> Progress:
    def say(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return say


def _event_loop() -> str:
    version = uvloop_version()
    return (
        "asyncio's default loop (uvloop not installed)" if version is None else f"uvloop {version}"
    )


def run(settings: Settings, only: Sequence[str]) -> list[Row]:
    """Run the selected scenarios; return every row in table order."""
    progress = _progress(time.perf_counter())
    rows: list[Row] = []
    c = settings.concurrency
    split = split_cpus() if settings.pin else None
    server_cpus, client_cpus = split if split is not None else (None, None)
    progress(
        f"{settings.mode} run; starting the server ({settings.seeded} keys)"
        + (f"; server on CPU {server_cpus}, clients on {client_cpus}" if split else "")
    )
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(BenchServer(seed=settings.seeded, cpus=server_cpus))
        async_contenders = scenarios.async_contenders()
        places = {
            name: WorkerPlace(cpus=client_cpus)
            for name in [*async_contenders, *scenarios.sync_contenders()]
        }
        if settings.baseline is not None and ("1" in only or "2" in only):
            baseline = stack.enter_context(Baseline(settings.baseline))
            # Right after the working tree's SDK, so that the two alternate within a round.
            async_contenders.insert(async_contenders.index(OURS_ASYNC) + 1, baseline.contender)
            places[baseline.contender] = WorkerPlace(
                cpus=client_cpus,
                package_dir=baseline.directory,
                pythonpath=REPOSITORY,
                unavailable=baseline.problem,
            )
        floor_rows: list[Row] = []

        def concurrent(title: str, op: str, n: int, n_peer: int) -> None:
            # Scenarios 1 and 2: the async contenders at concurrency c; the raw floor's rows
            # also feed the server-ceiling estimate.
            part = scenarios.throughput_rows(
                server,
                settings,
                title=title,
                kind="async",
                op=op,
                contenders=async_contenders,
                floor=FLOOR_ASYNC,
                peer=PEER_ASYNC,
                n=n,
                n_peer=n_peer,
                concurrency=c,
                progress=progress,
                places=places,
            )
            rows.extend(part)
            floor_rows.extend(r for r in part if r.contender == FLOOR_ASYNC)

        if "1" in only:
            concurrent(
                S1.format(n=f"{settings.gets:,}", c=c), "get", settings.gets, settings.gets_peer
            )
        if "2" in only:
            concurrent(
                S2.format(n=f"{settings.creates:,}", c=c),
                "create",
                settings.creates,
                settings.creates_peer,
            )
        if "3" in only:
            rows += scenarios.throughput_rows(
                server,
                settings,
                title=S3.format(n=f"{settings.sequential:,}"),
                kind="sync",
                op="get",
                contenders=scenarios.sync_contenders(),
                floor=FLOOR_SYNC,
                peer=PEER_SYNC,
                n=settings.sequential,
                n_peer=settings.sequential_peer,
                concurrency=1,
                progress=progress,
                places=places,
            )
        if "4" in only:
            rows += scenarios.import_rows(server, settings, progress)
        if "ceiling" in only:
            progress("server ceiling: two raw aiohttp processes at once")
            rows += scenarios.ceiling_rows(server, settings, floor_rows)
    if "5" in only:
        rows += scenarios.memory_rows(settings, progress)
    if "6" in only:
        rows += scenarios.bulk_rows(settings, progress)
    progress("done")
    return rows


def _find(rows: Sequence[Row], scenario_prefix: str, contender: str) -> Row | None:
    for row in rows:
        if row.scenario.startswith(scenario_prefix) and row.contender == contender:
            return row if row.unavailable is None else None
    return None


def _ratio_target(
    goal: str,
    row: Row | None,
    value: float | None,
    minimum: float | None = None,
    maximum: float | None = None,
    best: float | None = None,
    spread: tuple[float, float] | None = None,
) -> Target:
    """Judge a ratio of medians; ``best`` (the same ratio of best rounds) or ``spread``
    (the interquartile range of per-round ratios) is shown beside it."""
    if row is None or value is None:
        return Target(goal, "not measured", None)
    met = (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    reached = format_ratio(value)
    if best is not None:
        reached += f" (best rounds: {format_ratio(best)})"
    if spread is not None:
        reached += f" (IQR {format_ratio(spread[0])}–{format_ratio(spread[1])})"
    return Target(goal, reached, met)


def _best(row: Row | None, reference: Row | None, key: str) -> float | None:
    if row is None or reference is None:
        return None
    return ratio(row.extra.get(key), reference.extra.get(key))


def evaluate_targets(rows: Sequence[Row]) -> list[Target]:
    """The issue's targets, judged on this run's rows."""
    targets: list[Target] = []
    for prefix, label in (("1.", "gets"), ("2.", "creates")):
        ours = _find(rows, prefix, "AsyncModelGates")
        floor = _find(rows, prefix, FLOOR_ASYNC)
        peer = _find(rows, prefix, PEER_ASYNC)
        number = prefix[0]
        targets.append(
            _ratio_target(
                f"scenario {number} ({label}): AsyncModelGates ≥ 0.85× raw aiohttp throughput",
                ours,
                ours.vs_floor if ours is not None else None,
                minimum=0.85,
                best=_best(ours, floor, "best_rate"),
            )
        )
        targets.append(
            _ratio_target(
                f"scenario {number} ({label}): AsyncModelGates ≥ 20× openrouter async throughput",
                ours,
                ours.vs_peer if ours is not None else None,
                minimum=20,
                best=_best(ours, peer, "best_rate"),
            )
        )
        for limit in (1.3, 1.15):
            targets.append(
                _ratio_target(
                    f"scenario {number} ({label}): client CPU/request ≤ {limit}× raw aiohttp",
                    ours,
                    ours.cpu_vs_floor if ours is not None else None,
                    maximum=limit,
                    best=_best(ours, floor, "best_cpu_per_1k"),
                )
            )
        before = next(
            (
                r
                for r in rows
                if r.scenario.startswith(prefix)
                and r.contender.startswith(BASELINE_PREFIX)
                and r.unavailable is None
            ),
            None,
        )
        if before is not None and ours is not None:
            paired = paired_cpu_ratios(ours, before)
            targets.append(
                _ratio_target(
                    f"scenario {number} ({label}): client CPU/request ≤ {before.contender}'s "
                    "(median of per-round ratios, IQR)",
                    ours,
                    median(paired),
                    maximum=1.0,
                    spread=quartiles(paired) if paired else None,
                )
            )
    facade = _find(rows, "3.", "ModelGates (sync)")
    targets.append(
        _ratio_target(
            "scenario 3: ModelGates (sync) ≥ 1.5× requests.Session",
            facade,
            facade.vs_floor if facade is not None else None,
            minimum=1.5,
        )
    )
    targets.append(
        _ratio_target(
            "scenario 3: ModelGates (sync) ≥ 4× openrouter sync",
            facade,
            facade.vs_peer if facade is not None else None,
            minimum=4,
        )
    )
    ours_import = _find(rows, S4, "import modelgates_async")
    targets.append(
        _ratio_target(
            "scenario 4: import modelgates_async ≤ 1.15× import aiohttp",
            ours_import,
            ours_import.vs_floor if ours_import is not None else None,
            maximum=1.15,
        )
    )
    for name in ("AsyncModelGates: import + first get", "ModelGates (sync): import + first get"):
        row = _find(rows, S4, name)
        targets.append(
            _ratio_target(
                f"scenario 4: {name} ≤ 0.8× openrouter's",
                row,
                row.vs_peer if row is not None else None,
                maximum=0.8,
            )
        )
    for contender in ("AsyncModelGates iter()", "ModelGates (sync) iter()"):
        row = _find(rows, "5.", contender)
        if row is None or row.value is None:
            targets.append(
                Target(f"scenario 5: {contender} grows memory < 20 MB", "not measured", None)
            )
        else:
            targets.append(
                Target(
                    f"scenario 5: {contender} grows memory < 20 MB",
                    f"{row.value:.2f} MB",
                    row.value < 20,
                )
            )
    bulk = _find(rows, S6.split("{")[0], "create_many")
    if bulk is None or bulk.value is None:
        targets.append(
            Target(
                "scenario 6: create_many ≥ 0.9× the limit, no failures, no duplicates",
                "not measured",
                None,
            )
        )
    else:
        extra = bulk.extra
        met = bulk.value >= 0.9 and extra["failures"] == 0 and extra["duplicates"] == 0
        targets.append(
            Target(
                "scenario 6: create_many ≥ 0.9× the limit, no failures, no duplicates",
                f"{bulk.value:.2f}× limit, {extra['failures']} failed, {extra['duplicates']} "
                "duplicates",
                met,
            )
        )
    return targets


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, run, print the table, write the results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="modelgates-async benchmarks side by side with its peers.",
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run (< 1 minute)")
    parser.add_argument("--no-write", action="store_true", help="print only; write no files")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per figure")
    parser.add_argument(
        "--only",
        default=",".join(ALL),
        help=f"comma-separated scenarios to run, of {','.join(ALL)} (default: all)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the results")
    parser.add_argument(
        "--baseline",
        default=None,
        help="a commit whose SDK runs beside this one in scenarios 1 and 2 "
        f"(full run: {FULL.baseline}; 'none' for none)",
    )
    parser.add_argument(
        "--no-pin", action="store_true", help="let the OS place the server and the clients"
    )
    args = parser.parse_args(argv)
    from dataclasses import replace

    settings = QUICK if args.quick else FULL
    if args.rounds is not None:
        settings = replace(settings, rounds=max(1, args.rounds))
    if args.baseline is not None:
        baseline = None if args.baseline.lower() == "none" else args.baseline
        settings = replace(settings, baseline=baseline)
    if args.no_pin:
        settings = replace(settings, pin=False)
    only = [part.strip() for part in args.only.split(",") if part.strip()]
    unknown = sorted(set(only) - set(ALL))
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    rows = run(settings, only)
    targets = evaluate_targets(rows)
    machine = machine_description(settings.mode, _event_loop())
    print(text_table(rows, targets))
    if not args.no_write:
        from dataclasses import asdict

        paths = write_results(args.out, rows, targets, machine, asdict(settings))
        print("\nwritten: " + ", ".join(str(p) for p in paths))
    # A missed target is a finding, not an error; a contender that crashed is a broken harness.
    crashed = [r for r in rows if r.unavailable is not None and r.unavailable.startswith("failed")]
    if crashed:
        names = ", ".join(f"{r.scenario}: {r.contender}" for r in crashed)
        print(f"\nerror: contenders crashed: {names}", file=sys.stderr)
        raise SystemExit(1)

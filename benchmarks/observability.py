"""What hooks and OpenTelemetry cost per call, and what they cost when off (issue #14).

    python -m benchmarks.observability                   # 7 rounds, 2,000 gets + 1,000 creates
    python -m benchmarks.observability --rounds 3 --n 500 --before none   # quick look

Each mode runs in a fresh client process (its ``time.process_time()`` over the measured
calls only, after a warm-up) against one benchmark server process; rounds are interleaved
and the order rotates, and every figure is the median of the rounds. Modes:

- ``before``: the SDK at the commit this branch started from (``git archive`` of
  ``--before``, default the merge base with ``main``), no hooks, no tracing;
- ``off, otel absent``: this SDK, ``opentelemetry`` made unimportable;
- ``off, no provider``: this SDK, the OpenTelemetry API installed but no provider set;
- ``hooks``: a sync request hook, an async response hook, a sync retry hook (no-ops);
- ``otel``: the OpenTelemetry SDK's ``TracerProvider`` with a ``SimpleSpanProcessor`` into an
  ``InMemorySpanExporter`` (the cheapest real pipeline);
- ``hooks + otel``: both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODES = ["before", "off, otel absent", "off, no provider", "hooks", "otel", "hooks + otel"]
SEEDED = 1000


# --- the worker: one mode, one operation, in a fresh process ---------------------------------


def _worker(job: dict[str, Any]) -> dict[str, Any]:
    mode = job["mode"]
    if mode in ("before", "off, otel absent"):
        sys.modules["opentelemetry"] = None  # type: ignore[assignment]  # as if not installed
    if "otel" in mode and "absent" not in mode:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    import modelgates_async

    options: dict[str, Any] = {}
    if mode.startswith("hooks"):

        def on_request(event: object) -> None:
            pass

        async def on_response(event: object) -> None:
            pass

        def on_retry(event: object) -> None:
            pass

        options["event_hooks"] = {
            "request": [on_request],
            "response": [on_response],
            "retry": [on_retry],
        }

    async def main() -> dict[str, Any]:
        async with modelgates_async.AsyncModelGates(
            api_key=job["api_key"], base_url=job["base_url"], **options
        ) as mg:
            hashes = job["hashes"]
            op = job["op"]
            prefix = f"obs-{os.getpid()}"

            async def drive(n: int) -> None:
                indices = iter(range(n))

                async def worker() -> None:
                    for i in indices:
                        if op == "get":
                            await mg.api_keys.get(hashes[i % len(hashes)])
                        else:
                            await mg.api_keys.create(f"{prefix}-{i}")

                await asyncio.gather(*(worker() for _ in range(job["concurrency"])))

            await drive(job["warmup"])
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await drive(job["n"])
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        return {
            "cpu_us": cpu / job["n"] * 1e6,
            "wall_us": wall / job["n"] * 1e6,
            "package": str(Path(modelgates_async.__file__).parent),
        }

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    result: dict[str, Any] = uvloop.run(main())
    return result


# --- the harness ------------------------------------------------------------------------------


def _before_commit(ref: str) -> str | None:
    """``ref``, or for ``merge-base:<branch>`` the commit this branch started from (None when
    git cannot tell); ``benchmarks.baseline.Baseline`` unpacks its package."""
    if not ref.startswith("merge-base:"):
        return ref
    found = subprocess.run(
        ["git", "merge-base", "HEAD", ref.split(":", 1)[1]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() if found.returncode == 0 else None


def _run(job: dict[str, Any], pythonpath: Path) -> dict[str, Any]:
    from benchmarks.seed import child_env

    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(job)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),  # not the repository: PYTHONPATH alone picks the package
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
            return result
    raise RuntimeError(f"{job['mode']} {job['op']} failed: {done.stderr.strip()[-500:]}")


def main(argv: list[str] | None = None) -> int:
    """Run every mode for gets and creates and print the table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=2000, help="gets per round (creates: half)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--before", default="merge-base:main", help="git ref, or 'none'")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args(argv)
    if options.worker:
        print("RESULT " + json.dumps(_worker(json.loads(options.worker))), flush=True)
        return 0

    from benchmarks.baseline import Baseline
    from benchmarks.seed import MANAGEMENT_KEY, seed_hashes
    from benchmarks.server import BenchServer

    modes = [m for m in MODES if m != "before" or options.before != "none"]
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    commit = None if options.before == "none" else _before_commit(options.before)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(BenchServer(seed=SEEDED))
        before = None if commit is None else stack.enter_context(Baseline(commit)).directory
        if before is None:
            modes = [m for m in modes if m != "before"]
        hashes = seed_hashes(SEEDED)
        for round_number in range(options.rounds):
            shift = round_number % len(modes)
            for mode in modes[shift:] + modes[:shift]:
                for op, n in (("get", options.n), ("create", options.n // 2)):
                    job = {
                        "mode": mode,
                        "op": op,
                        "n": n,
                        "warmup": max(100, n // 10),
                        "concurrency": options.concurrency,
                        "base_url": server.base_url,
                        "api_key": MANAGEMENT_KEY,
                        "hashes": hashes if op == "get" else [],
                    }
                    path = before if mode == "before" and before is not None else ROOT
                    samples.setdefault((mode, op), []).append(_run(job, path))
            print(f"round {round_number + 1}/{options.rounds} done", file=sys.stderr)
    rows = _table(samples, modes)
    print(_render(rows, options))
    if options.json:
        options.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


def _table(
    samples: dict[tuple[str, str], list[dict[str, Any]]], modes: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for op in ("get", "create"):
        reference = statistics.median(s["cpu_us"] for s in samples[("off, otel absent", op)])
        for mode in modes:
            cpus = [s["cpu_us"] for s in samples[(mode, op)]]
            cpu = statistics.median(cpus)
            rows.append(
                {
                    "op": op,
                    "mode": mode,
                    "cpu_us": cpu,
                    "cpu_us_min": min(cpus),
                    "cpu_us_max": max(cpus),
                    "delta_us": cpu - reference,
                    "wall_us": statistics.median(s["wall_us"] for s in samples[(mode, op)]),
                    "package": samples[(mode, op)][0]["package"],
                }
            )
    return rows


def _render(rows: list[dict[str, Any]], options: argparse.Namespace) -> str:
    lines = [
        f"client CPU per call, median of {options.rounds} rounds "
        f"({options.n} gets / {options.n // 2} creates per round, concurrency "
        f"{options.concurrency}); Δ against 'off, otel absent'",
        "",
        "| op | mode | CPU µs/call | min–max | Δ µs/call | wall µs/call |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['op']} | {r['mode']} | {r['cpu_us']:.1f} | "
            f"{r['cpu_us_min']:.1f}–{r['cpu_us_max']:.1f} | {r['delta_us']:+.1f} | "
            f"{r['wall_us']:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

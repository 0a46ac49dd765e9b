"""``modelgates plan`` / ``apply`` at scale: where planning's time goes, and apply's rate.

    python -m benchmarks.fleet            # plan 10,000 keys vs 10,000; apply 1,000 changes
    python -m benchmarks.fleet --quick    # plan 2,000 vs 2,000; apply 200 changes

1. **Planning.** The server (``benchmarks.serve``, its own process) is seeded with ``--keys``
   keys; FILE describes ``--keys`` keys: 90 % of the seeded names (every tenth with a new
   limit: an update) and 10 % new names (creates). The time of each step is measured the way
   ``modelgates plan`` runs them: reading and checking FILE (YAML and JSONL), listing the
   account (``GET /keys``, 100 a page), and the diff. Target: listing dominates.
2. **Applying.** A fresh server with ``--rate-limit`` requests a second, and a plan of
   ``--changes`` changes (half creates, half updates), run by the apply machinery
   (``create_many`` with a journal, then ``update_many``) at ``--concurrency``. Target: the
   rate of changes is the rate the server allows (the adaptive limiter finds it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.seed import MANAGEMENT_KEY
from benchmarks.server import BenchServer
from modelgates_async import AsyncModelGates
from modelgates_async.cli.apply_run import (
    ApplyOutcome,
    ApplyPaths,
    SecretsAppender,
    apply_plan,
    list_live,
)
from modelgates_async.cli.fleet_file import read_fleet
from modelgates_async.cli.plan import workspaces
from modelgates_async.cli.plan_model import Plan, make_plan

__all__ = ["main", "plan_timings"]


def write_files(directory: Path, keys: int) -> tuple[Path, Path]:
    """FILE as YAML and as JSONL: 90 % seeded names (every tenth updated), 10 % new."""
    kept = keys * 9 // 10
    entries = [
        {"name": f"seed-{i}", **({"limit": 5.0} if i % 10 == 0 else {})} for i in range(kept)
    ]
    entries += [{"name": f"new-{i}", "limit": 1.0} for i in range(keys - kept)]
    yaml_file, jsonl_file = directory / "fleet.yaml", directory / "fleet.jsonl"
    yaml_file.write_text(
        "keys:\n" + "".join(f"  - {json.dumps(entry)}\n" for entry in entries), encoding="utf-8"
    )
    jsonl_file.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return yaml_file, jsonl_file


async def plan_timings(base_url: str, yaml_file: Path, jsonl_file: Path) -> dict[str, float]:
    """Seconds of each step of a plan: read (YAML, JSONL), list, diff; and the plan's size."""
    started = time.perf_counter()
    read_fleet(jsonl_file)
    read_jsonl = time.perf_counter() - started
    started = time.perf_counter()
    desired = read_fleet(yaml_file)
    read_yaml = time.perf_counter() - started
    async with AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=base_url) as client:
        started = time.perf_counter()
        live = await list_live(client, workspaces(desired))
        listed = time.perf_counter() - started
    started = time.perf_counter()
    plan = make_plan(desired, live)
    diff = time.perf_counter() - started
    return {
        "read_yaml": read_yaml,
        "read_jsonl": read_jsonl,
        "list": listed,
        "diff": diff,
        "creates": len(plan.creates),
        "updates": len(plan.updates),
        "live": sum(len(keys) for keys in live.values()),
    }


async def apply_rate(
    base_url: str, directory: Path, changes: int, concurrency: int
) -> tuple[float, ApplyOutcome]:
    """Changes a second of the apply machinery on a plan of ``changes`` (half creates,
    half updates of seeded keys)."""
    fleet = directory / "apply.yaml"
    half = changes // 2
    fleet.write_text(
        "".join(f"- {{name: seed-{i}, limit: 7}}\n" for i in range(half))
        + "".join(f"- {{name: made-{i}, limit: 3}}\n" for i in range(changes - half)),
        encoding="utf-8",
    )
    desired = read_fleet(fleet)
    outcome = ApplyOutcome()
    async with AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=base_url) as client:
        plan: Plan = make_plan(desired, await list_live(client, workspaces(desired)))
        assert len(plan.creates) + len(plan.updates) == changes
        with SecretsAppender(directory / "apply.secrets.jsonl") as secrets:
            started = time.perf_counter()
            await apply_plan(
                client,
                plan,
                ApplyPaths.for_file(fleet),
                secrets,
                outcome,
                concurrency=concurrency,
                progress=lambda count: None,
            )
            elapsed = time.perf_counter() - started
    if outcome.failures:
        raise RuntimeError(f"{len(outcome.failures)} changes failed; the figures would be wrong")
    return changes / elapsed, outcome


def main(argv: list[str] | None = None) -> None:
    """Run both measurements and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet")
    parser.add_argument("--keys", type=int, default=10_000, help="desired and live keys")
    parser.add_argument("--changes", type=int, default=1_000, help="changes applied")
    parser.add_argument("--rate-limit", type=float, default=100.0, help="server requests/s")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="2,000 keys, 200 changes")
    args = parser.parse_args(argv)
    if args.quick:
        args.keys, args.changes = 2_000, 200
    directory = Path(tempfile.mkdtemp(prefix="fleet-bench-"))
    try:
        yaml_file, jsonl_file = write_files(directory, args.keys)
        with BenchServer(seed=args.keys) as server:
            t = asyncio.run(plan_timings(server.base_url, yaml_file, jsonl_file))
        total = t["read_yaml"] + t["list"] + t["diff"]
        print(
            f"plan: {args.keys} desired keys vs {t['live']:.0f} live "
            f"({t['creates']:.0f} to create, {t['updates']:.0f} to update)\n"
            f"  read FILE (YAML)  {t['read_yaml']:7.3f} s  {t['read_yaml'] / total:6.1%}\n"
            f"  list the account  {t['list']:7.3f} s  {t['list'] / total:6.1%}\n"
            f"  diff              {t['diff']:7.3f} s  {t['diff'] / total:6.1%}\n"
            f"  (read FILE as JSONL instead: {t['read_jsonl']:.3f} s)\n"
            f"  listing dominates: {'yes' if t['list'] > t['read_yaml'] + t['diff'] else 'NO'}",
            flush=True,
        )
        with BenchServer(seed=args.changes, rate_limit=args.rate_limit) as server:
            rate, _ = asyncio.run(
                apply_rate(server.base_url, directory, args.changes, args.concurrency)
            )
        print(
            f"apply: {args.changes} changes ({args.changes // 2} updates, "
            f"{args.changes - args.changes // 2} creates with a journal), concurrency "
            f"{args.concurrency}, server limit {args.rate_limit:g} requests/s\n"
            f"  {rate:7.1f} changes/s = {rate / args.rate_limit:.0%} of the limit"
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()

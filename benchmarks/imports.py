"""Scenario 4: import time in a fresh interpreter, and import + first call.

Each case is a snippet run by ``python -c`` in a new process that times itself with
``time.perf_counter()`` around the import (and the first call), so interpreter start-up is
left out and only what a user's script pays is measured. Cases run interleaved, once
unmeasured first (to write the ``.pyc`` files), then ``runs`` times; the median counts.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

from benchmarks.seed import child_env
from benchmarks.stats import median

__all__ = ["FIRST_CALL_CASES", "IMPORT_CASES", "measure_imports"]

_TIMER = "import time\n_t0 = time.perf_counter()\n"
_REPORT = "\nprint('ELAPSED', time.perf_counter() - _t0)\n"

IMPORT_CASES: dict[str, str] = {
    "import aiohttp": "import aiohttp",
    "import modelgates_async": "import modelgates_async",
    "import openrouter": "import openrouter",
}

# {base_url}, {key} and {hash} are filled in; each call is a get of one seeded key.
FIRST_CALL_CASES: dict[str, str] = {
    "AsyncModelGates: import + first get": """
import asyncio
from modelgates_async import AsyncModelGates
async def main():
    async with AsyncModelGates(api_key={key!r}, base_url={base_url!r}) as mg:
        await mg.api_keys.get({hash!r})
asyncio.run(main())
""",
    "openrouter async: import + first get": """
import asyncio
from openrouter import OpenRouter
async def main():
    async with OpenRouter(api_key={key!r}, server_url={base_url!r}) as client:
        await client.api_keys.get_async(hash={hash!r})
asyncio.run(main())
""",
    "ModelGates (sync): import + first get": """
try:
    from modelgates_async import ModelGates
except ImportError:
    print('UNAVAILABLE the sync facade ModelGates is not available')
    raise SystemExit(0)
with ModelGates(api_key={key!r}, base_url={base_url!r}) as mg:
    mg.api_keys.get({hash!r})
""",
    "openrouter sync: import + first get": """
from openrouter import OpenRouter
with OpenRouter(api_key={key!r}, server_url={base_url!r}) as client:
    client.api_keys.get(hash={hash!r})
""",
}


def _run_case(code: str) -> float | str:
    """Seconds the snippet took, or the reason it could not run."""
    done = subprocess.run(
        [sys.executable, "-c", _TIMER + code + _REPORT],
        capture_output=True,
        text=True,
        env=child_env(),
    )
    for line in done.stdout.splitlines():
        if line.startswith("UNAVAILABLE "):
            return line.removeprefix("UNAVAILABLE ")
        if line.startswith("ELAPSED "):
            return float(line.split()[1])
    return f"failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}"


def measure_imports(
    cases: Mapping[str, str], runs: int
) -> dict[str, tuple[float | None, list[float], str | None]]:
    """Median seconds of each case (interleaved runs): ``{name: (median, samples, problem)}``."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    problems: dict[str, str | None] = dict.fromkeys(cases)
    for name, code in cases.items():  # warm: write .pyc files, fill the OS cache
        outcome = _run_case(code)
        if isinstance(outcome, str):
            problems[name] = outcome
    for _ in range(runs):
        for name, code in cases.items():
            if problems[name] is not None:
                continue
            outcome = _run_case(code)
            if isinstance(outcome, str):
                problems[name] = outcome
            else:
                samples[name].append(outcome)
    return {name: (median(samples[name]), samples[name], problems[name]) for name in cases}

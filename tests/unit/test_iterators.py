"""Iterators a caller may close early are async generators: ``aclose()`` and
``contextlib.aclosing`` work on them, and mypy accepts code that uses them so."""

from __future__ import annotations

import subprocess
import sys
import types
from contextlib import aclosing

from modelgates_async import AsyncModelGates, KeySpec
from tests.helpers import ROOT


def finished(generator: object) -> bool:
    """Whether an async generator has run to its end or been closed (not merely paused)."""
    assert isinstance(generator, types.AsyncGeneratorType)
    return generator.ag_frame is None


async def test_aclosing_stops_a_walk_and_a_bulk_run_early(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """Leaving ``aclosing(iter())`` / ``aclosing(create_many_iter())`` early closes them: the
    generators are finished, and the keys seen are real."""
    keys = async_modelgates_client.api_keys
    await keys.create_many([KeySpec(f"walk-{n}") for n in range(3)])
    walk = keys.iter()
    async with aclosing(walk) as pages:
        async for key in pages:
            assert key.name.startswith("walk-")
            break
    assert finished(walk)  # finished: closed, not merely paused
    run = keys.create_many_iter([KeySpec("early-1"), KeySpec("early-2")], concurrency=1)
    async with aclosing(run) as items:
        async for item in items:
            assert item.ok
            break
    assert finished(run)
    over = keys.over_limit()
    await over.aclose()
    assert finished(over)


def test_mypy_strict_accepts_closing_the_iterators() -> None:
    """typing_async_usage.py, which closes every caller-closable iterator and tries to
    assign the read-only options, passes mypy --strict."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "tests/unit/typing_async_usage.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

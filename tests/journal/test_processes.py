"""Real processes interrupted (SIGINT) and killed (SIGKILL) mid-run, then resumed.

The server runs in this process (``modelgates_server``); each bulk run is a child process
(``tests/journal/child.py``) that prints its progress, so the signal lands at a known point.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from modelgates_async import AsyncModelGates
from modelgates_async.server import LocalServer
from tests.journal.helpers import (
    HELD,
    assert_journal_invariant,
    keys_on_server,
    leave_creates_unanswered,
    secrets_authenticate,
    spec_list,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ROOT = Path(__file__).resolve().parents[2]
COUNT = 2500
# (signal, progress count at which it is sent): killed hard, interrupted, killed again.
INTERRUPTIONS = [(signal.SIGKILL, 300), (signal.SIGINT, 900), (signal.SIGKILL, 1500)]
RETRY_NOW = {"Retry-After": "0"}


async def start(mode: str, server: LocalServer, count: int, journal: str = "") -> Any:
    """Start a child bulk run; its stdout is a pipe of progress lines."""
    env = {**os.environ, "MODELGATES_API_KEY": server.management_key}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.journal.child",
        mode,
        server.base_url,
        str(count),
        journal,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )


async def until_progress(process: Any, count: int) -> None:
    """Read the child's output until it reports ``count`` items done."""
    while True:
        line = await process.stdout.readline()
        assert line, "the child ended before the signal was sent"
        if line.startswith(b"progress ") and int(line.split()[1]) >= count:
            return


async def rest_of_output(process: Any) -> list[str]:
    """The child's remaining output lines, once it has exited."""
    output: bytes = await process.stdout.read()
    await process.wait()
    return output.decode().splitlines()


def orphans_deleted(journal: str) -> int:
    """How many orphan deletions the journal records."""
    return Path(journal).read_text(encoding="utf-8").count('"orphan"')


def inject_faults(server: LocalServer) -> None:
    """5xx, 429 and dropped connections on the first creates of a run, and a 503 on the
    first listing (a reconciliation retries it)."""
    server.inject_fault("/keys", method="POST", status=500, times=3)
    server.inject_fault("/keys", method="POST", status=429, headers=RETRY_NOW, times=5)
    server.inject_fault("/keys", method="POST", drop=True, times=3)
    server.inject_fault("/keys", method="GET", status=503, headers=RETRY_NOW, times=1)


async def test_a_journal_run_killed_and_interrupted_finishes_with_one_key_per_spec(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, journal_path: str
) -> None:
    """SIGKILL, SIGINT, SIGKILL at several points of a 2,500-key run under faults, then
    resume: every spec has exactly one key, its secret is in the journal and works, and no
    other key exists (the orphans of the killed runs were deleted)."""
    for sig, at in INTERRUPTIONS:
        inject_faults(modelgates_server)
        child = await start("journal", modelgates_server, COUNT, journal_path)
        await until_progress(child, at)
        if sig == signal.SIGKILL:
            await leave_creates_unanswered(child, modelgates_server, journal_path)
        child.send_signal(sig)
        await rest_of_output(child)
        assert child.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
    inject_faults(modelgates_server)
    for _ in range(4):  # the faults fail a few creates of the first resume: run again
        child = await start("journal", modelgates_server, COUNT, journal_path)
        output = await rest_of_output(child)
        if child.returncode == 0:
            break
    assert child.returncode == 0, output[-1:]
    assert (
        orphans_deleted(journal_path) >= HELD * 2
    )  # each SIGKILL left some; every one was deleted
    modelgates_server.state.faults.clear()
    await assert_journal_invariant(
        async_modelgates_client, modelgates_server.base_url, spec_list(COUNT), journal_path
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_ctrl_c_keeps_every_secret_of_a_run_without_journal(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, mode: str
) -> None:
    """SIGINT to a sync (ModelGates) or async (asyncio.run) create_many: the interrupt
    carries .partial_result with a secret for every key on the server; the rest is marked
    not started; the calls in flight were finished, not abandoned."""
    modelgates_server.inject_fault("/keys", method="POST", delay=0.01, times=100_000)
    child = await start(mode, modelgates_server, 2000)
    await until_progress(child, 200)
    child.send_signal(signal.SIGINT)
    output = await rest_of_output(child)
    assert child.returncode == 130
    [dumped] = [line for line in output if line.startswith("result ")]
    rows = json.loads(dumped.removeprefix("result "))
    assert len(rows) == 2000
    assert {row["state"] for row in rows} == {"ok", "not_started"}
    made = {row["hash"]: row["key"] for row in rows if row["state"] == "ok"}
    modelgates_server.state.faults.clear()
    assert set(await keys_on_server(async_modelgates_client)) == set(made)
    assert await secrets_authenticate(modelgates_server.base_url, made.values())

"""bulk-create resumes: real `modelgates keys bulk-create` processes interrupted (SIGINT) and
killed (SIGKILL) mid-run under injected 5xx, 429 and dropped connections, then the same
command run again until it exits 0. Afterwards every line of the file has exactly one live
key, its secret is in the secrets file (once) and authenticates, and no other key exists.

The server runs in this process (``modelgates_server``); a run's progress is read from the
server's key count, so each signal lands at a known point.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from modelgates_async import AsyncModelGates, read_journal
from modelgates_async.server import LocalServer
from tests.cli.helpers import Invoke, all_keys, command
from tests.journal.helpers import (
    eventually,
    keys_on_server,
    leave_creates_unanswered,
    secrets_authenticate,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

COUNT = 2000
CONCURRENCY = "16"
# (signal, keys on the server when it is sent): killed hard, interrupted, killed again.
INTERRUPTIONS = [(signal.SIGKILL, 300), (signal.SIGINT, 800), (signal.SIGKILL, 1300)]
RETRY_NOW = {"Retry-After": "0"}


def write_tenants(directory: Path, count: int) -> Path:
    """A CSV of ``count`` tenants (line N+2 is tenant N) with a limit each."""
    source = directory / "tenants.csv"
    lines = ["name,limit,limit_reset"]
    lines += [f"tenant-{i:05d},{i % 50 + 1},weekly" for i in range(count)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return source


async def start(server: LocalServer, directory: Path, base_url: str | None = None) -> Any:
    """Start `modelgates keys bulk-create tenants.csv` as a process of its own (against
    ``base_url`` if given, else the server)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MODELGATES_")}
    env = {
        **base,
        "MODELGATES_CONFIG": os.environ["MODELGATES_CONFIG"],
        "MODELGATES_API_KEY": server.management_key,
        "MODELGATES_BASE_URL": base_url or server.base_url,
    }
    return await asyncio.create_subprocess_exec(
        *command(),
        "keys",
        "bulk-create",
        "tenants.csv",
        "--concurrency",
        CONCURRENCY,
        cwd=directory,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: Any) -> str:
    """Wait for the process to end; its stderr."""
    _, stderr = await process.communicate()
    return str(stderr.decode())


async def until_keys(server: LocalServer, count: int) -> None:
    """Wait until the server holds ``count`` keys: the run is that far."""
    await eventually(lambda: server.state.store.count() >= count)


def inject_faults(server: LocalServer) -> None:
    """5xx, 429 and dropped connections on the next creates, and a 503 on a listing."""
    server.inject_fault("/keys", method="POST", status=500, times=3)
    server.inject_fault("/keys", method="POST", status=429, headers=RETRY_NOW, times=5)
    server.inject_fault("/keys", method="POST", drop=True, times=3)
    server.inject_fault("/keys", method="GET", status=503, headers=RETRY_NOW, times=1)


async def run_until_done(server: LocalServer, directory: Path) -> str:
    """Run the same command again until it exits 0 (the faults may fail a few lines)."""
    for _ in range(5):
        process = await start(server, directory)
        stderr = await finish(process)
        if process.returncode == 0:
            return stderr
    raise AssertionError(f"bulk-create never finished: {stderr[-500:]}")


async def assert_one_key_per_line(
    client: AsyncModelGates, server: LocalServer, source: Path, count: int
) -> None:
    """The invariant: one live key per line, its secret in the secrets file, no other key."""
    server.state.faults.clear()
    out = source.with_name("tenants.secrets.jsonl")
    on_server = await keys_on_server(client)
    names = [f"tenant-{i:05d}" for i in range(count)]
    assert Counter(on_server.values()) == Counter(names)
    saved = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [entry["line"] for entry in saved] == list(range(2, count + 2))
    assert [on_server[entry["hash"]] for entry in saved] == names
    assert await secrets_authenticate(server.base_url, [entry["key"] for entry in saved])
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not out.with_name(out.name + ".journal").exists()  # finished: nothing to resume


async def test_killed_and_interrupted_bulk_create_resumes_to_one_key_per_line(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """SIGKILL (with orphans), SIGINT, SIGKILL at several points of a 2,000-line run under
    faults, then the same command until exit 0: one key per line, its secret saved once."""
    source = write_tenants(tmp_path, COUNT)
    journal = tmp_path / "tenants.secrets.jsonl.journal"
    for sig, at in INTERRUPTIONS:
        inject_faults(modelgates_server)
        process = await start(modelgates_server, tmp_path)
        await until_keys(modelgates_server, at)
        if sig == signal.SIGKILL:
            await leave_creates_unanswered(process, modelgates_server, journal)
        process.send_signal(sig)
        await finish(process)
        assert process.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
        assert journal.exists()
    inject_faults(modelgates_server)
    stderr = await run_until_done(modelgates_server, tmp_path)
    assert "Resuming from" in stderr
    await assert_one_key_per_line(async_modelgates_client, modelgates_server, source, COUNT)


async def test_first_ctrl_c_finishes_in_flight_saves_secrets_and_exits_130(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """SIGINT: exit 130 with a summary (created / failed / not started, where the secrets
    are, how to resume); every key on the server has its secret in the file; a re-run ends."""
    source = write_tenants(tmp_path, 1000)
    modelgates_server.inject_fault("/keys", method="POST", delay=0.01, times=100_000)
    process = await start(modelgates_server, tmp_path)
    await until_keys(modelgates_server, 200)
    process.send_signal(signal.SIGINT)
    stderr = await finish(process)
    assert process.returncode == 130, stderr
    out = tmp_path / "tenants.secrets.jsonl"
    saved = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    summary = " ".join(stderr.split())  # rich may wrap; the words are what matter
    assert f"Interrupted. {len(saved)} of 1000 key(s) created, 0 failed, " in summary
    assert "not started" in summary
    assert "Their secrets are in tenants.secrets.jsonl (mode 0600)" in summary
    assert "Run the same command again to finish" in summary
    assert "Traceback" not in stderr
    modelgates_server.state.faults.clear()
    # The creates in flight were finished, not abandoned: no key without its secret.
    assert set(await keys_on_server(async_modelgates_client)) == {e["hash"] for e in saved}
    await run_until_done(modelgates_server, tmp_path)
    await assert_one_key_per_line(async_modelgates_client, modelgates_server, source, 1000)


def test_a_changed_file_is_refused_naming_its_first_differing_line(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """A resume whose FILE was edited: exit 2 naming the line, nothing sent; with the file
    restored the same command finishes the job with one key per line."""
    source = tmp_path / "t.csv"
    original = "name,limit\na,1\nb,2\nc,3\nd,4\n"
    source.write_text(original)
    modelgates_server.inject_fault("/keys", method="POST", status=400, times=1)
    first = invoke("keys", "bulk-create", str(source), "--concurrency", "1")
    assert first.exit_code == 1  # one line refused: the journal keeps the job open
    assert "Run the same command again to retry" in " ".join(first.output.split())
    before = {key.hash for key in all_keys(modelgates_server)}
    assert len(before) == 3
    source.write_text("name,limit\na,1\nb,2\nc,30\nd,4\n")
    changed = invoke("keys", "bulk-create", str(source))
    assert changed.exit_code == 2
    assert "line 4 differs" in " ".join(changed.output.split())
    assert {key.hash for key in all_keys(modelgates_server)} == before
    source.write_text(original)
    again = invoke("keys", "bulk-create", str(source))
    assert again.exit_code == 0, again.output
    assert sorted(key.name for key in all_keys(modelgates_server)) == ["a", "b", "c", "d"]
    saved = [json.loads(line) for line in (tmp_path / "t.secrets.jsonl").read_text().splitlines()]
    assert [(entry["line"], entry["name"]) for entry in saved] == [
        (2, "a"),
        (3, "b"),
        (4, "c"),
        (5, "d"),
    ]
    assert not (tmp_path / "t.secrets.jsonl.journal").exists()


def test_a_finished_run_run_again_has_nothing_to_do(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """Once every line is done, the same command exits 0 with nothing to do: no new key,
    the secrets file untouched; another file with that --out is still refused (exit 2)."""
    source = tmp_path / "t.csv"
    source.write_text("name\na\nb\n")
    assert invoke("keys", "bulk-create", str(source)).exit_code == 0
    secrets = (tmp_path / "t.secrets.jsonl").read_text()
    again = invoke("keys", "bulk-create", str(source))
    assert again.exit_code == 0, again.output
    assert "Nothing to do" in again.output
    assert len(all_keys(modelgates_server)) == 2
    assert (tmp_path / "t.secrets.jsonl").read_text() == secrets
    source.write_text("name\na\nb\nc\n")
    assert invoke("keys", "bulk-create", str(source)).exit_code == 2
    assert len(all_keys(modelgates_server)) == 2


async def test_a_second_ctrl_c_stops_at_once_and_the_journal_still_resumes(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """Two SIGINTs while the creates hang (an API that never answers): the second abandons
    them, exit 130 with the summary; the same command then finishes with one key per line."""
    source = write_tenants(tmp_path, 300)
    journal = tmp_path / "tenants.secrets.jsonl.journal"
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v1"
        process = await start(modelgates_server, tmp_path, base_url=url)
        await eventually(lambda: journal.exists() and in_doubt(journal) > 0)
        process.send_signal(signal.SIGINT)
        # Nothing outside shows that the first one was handled (it waits for answers that
        # never come), so give it a moment; the bound below is for a hang, not a timing.
        await asyncio.sleep(0.3)
        process.send_signal(signal.SIGINT)
        stderr = await asyncio.wait_for(finish(process), 20)
    assert process.returncode == 130, stderr
    summary = " ".join(stderr.split())
    assert "0 of 300 key(s) created" in summary
    assert "Run the same command again to finish" in summary
    stderr = await run_until_done(modelgates_server, tmp_path)
    assert "Resuming from" not in stderr  # nothing was done: only lines in doubt
    await assert_one_key_per_line(async_modelgates_client, modelgates_server, source, 300)


def in_doubt(journal: Path) -> int:
    """How many lines the journal has sent (or is about to) without an answer."""
    return sum(entry.state == "in_doubt" for entry in read_journal(journal))


def test_a_run_that_made_no_key_leaves_nothing_to_resume(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """Every line refused (4xx: provably no key made): exit 1, and neither a secrets file
    nor a journal is left; the next run starts afresh and makes every key."""
    source = tmp_path / "t.csv"
    source.write_text("name\na\nb\n")
    modelgates_server.inject_fault("/keys", method="POST", status=400, times=2)
    refused = invoke("keys", "bulk-create", str(source), "--concurrency", "1")
    assert refused.exit_code == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == ["t.csv"]
    assert invoke("keys", "bulk-create", str(source)).exit_code == 0
    assert sorted(key.name for key in all_keys(modelgates_server)) == ["a", "b"]

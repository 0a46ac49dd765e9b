"""`modelgates apply` as a real process killed (SIGKILL) and interrupted (SIGINT) mid-run,
then run again until it exits 0: the account matches FILE exactly, with one key per entry
and each new key's secret in the secrets file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from modelgates_async import AsyncModelGates, KeySpec, read_journal
from modelgates_async.server import LocalServer
from tests.cli.helpers import command
from tests.journal.helpers import secrets_authenticate

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

COUNT = 300
UPDATED = 20  # entries whose key exists with another limit
STRAYS = 10  # keys FILE does not name: disabled by --prune
HELD = 4  # creates the server holds when the process is killed: their secrets never arrive


async def start(server: LocalServer, fleet: Path, *options: str) -> Any:
    """Start `modelgates apply FILE` (default options: --yes --prune) as a child process."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MODELGATES_")},
        "MODELGATES_API_KEY": server.management_key,
        "MODELGATES_BASE_URL": server.base_url,
        "MODELGATES_CONFIG": str(fleet.with_name("config.toml")),
    }
    return await asyncio.create_subprocess_exec(
        *command(),
        "apply",
        str(fleet),
        *(options or ("--yes", "--prune", "--concurrency", "4")),
        cwd=fleet.parent,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: Any) -> tuple[int, str, str]:
    """Wait for the child; its exit status, stdout and stderr."""
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def eventually(condition: Callable[[], bool], child: Any = None) -> None:
    """Wait (bounded) until ``condition()`` holds: a state of another process (and fail at
    once if ``child`` ends first)."""
    for _ in range(3000):
        if condition():
            return
        if child is not None and child.returncode is not None:
            code, out, err = await finish(child)
            raise AssertionError(f"the child ended first ({code}): {out}{err}")
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def secret_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def leftovers(directory: Path) -> list[Path]:
    """The pending-creates file and journal an apply left (none once it is done)."""
    return sorted(directory.glob("fleet.yaml.apply-*"))


async def test_apply_killed_and_interrupted_resumes_until_the_account_matches_the_file(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """SIGKILL (with creates in flight whose answers never arrive), then SIGINT, then the
    same command until exit 0: every entry has exactly one key with its fields, strays are
    disabled, orphans were deleted, every new key's secret is in the secrets file once and
    authenticates, and one more apply says "No changes." (exit 0)."""
    mg = async_modelgates_client
    await mg.api_keys.create_many(
        [KeySpec(f"t-{i}", limit=1) for i in range(UPDATED)]
        + [KeySpec(f"stray-{i}") for i in range(STRAYS)]
    )
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "defaults: {limit_reset: weekly}\nkeys:\n"
        + "".join(f"  - {{name: t-{i}, limit: {i % 7 + 2}}}\n" for i in range(COUNT)),
        encoding="utf-8",
    )
    secrets = tmp_path / "fleet.secrets.jsonl"
    # Every create a little slow, so that the signals land mid-run.
    modelgates_server.inject_fault("/keys", method="POST", delay=0.01, times=100_000)

    child = await start(modelgates_server, fleet)
    await eventually(lambda: len(secret_lines(secrets)) >= 40, child)
    modelgates_server.state.faults.clear()  # faults are used in order: the held ones next
    modelgates_server.inject_fault("/keys", method="POST", delay=1.0, times=HELD)
    await eventually(
        lambda: not any(f.delay == 1.0 for f in modelgates_server.state.faults.pending()), child
    )
    # Stopped with the held creates in flight, the child never reads their answers; the
    # server makes those keys meanwhile: orphans, whose secrets nobody received.
    child.send_signal(signal.SIGSTOP)
    journal = tmp_path / "fleet.yaml.apply-journal"
    done = sum(entry.state == "done" for entry in read_journal(journal))
    store = modelgates_server.state.store
    await eventually(lambda: store.count() >= UPDATED + STRAYS + done + HELD)
    child.send_signal(signal.SIGKILL)
    code, _, _ = await finish(child)
    assert code == -signal.SIGKILL
    assert (tmp_path / "fleet.yaml.apply-pending.json").exists()
    modelgates_server.inject_fault("/keys", method="POST", delay=0.01, times=100_000)

    child = await start(modelgates_server, fleet)
    await eventually(lambda: len(secret_lines(secrets)) >= 150, child)
    # The rest held longer, so that the signal lands mid-run however busy the machine is (at
    # 10 ms a create, a loaded machine could let the child finish before it is signalled).
    modelgates_server.state.faults.clear()
    modelgates_server.inject_fault("/keys", method="POST", delay=0.5, times=100_000)
    child.send_signal(signal.SIGINT)
    code, _, err = await finish(child)
    modelgates_server.state.faults.clear()
    modelgates_server.inject_fault("/keys", method="POST", delay=0.01, times=100_000)
    assert code == 130, err
    assert "Interrupted." in err
    assert "Run the same command again" in err

    for _ in range(4):
        code, out, err = await finish(await start(modelgates_server, fleet))
        if code == 0:
            break
    assert code == 0, err
    modelgates_server.state.faults.clear()

    keys = [key async for key in mg.api_keys.iter(include_disabled=True)]
    wanted = {f"t-{i}": i % 7 + 2 for i in range(COUNT)}
    live = {key.name: key for key in keys if key.name.startswith("t-")}
    assert len(live) == len([key for key in keys if key.name.startswith("t-")]) == COUNT
    assert {name: key.limit for name, key in live.items()} == wanted
    assert all(not key.disabled for key in live.values())
    assert sorted(key.name for key in keys if key.disabled) == [f"stray-{i}" for i in range(STRAYS)]
    lines = secret_lines(secrets)
    new_hashes = {key.hash for name, key in live.items() if int(name[2:]) >= UPDATED}
    assert [line["hash"] for line in lines if line["hash"] in new_hashes] == [
        line["hash"] for line in lines
    ]
    assert {line["hash"] for line in lines} == new_hashes
    assert len(lines) == len(new_hashes)
    assert await secrets_authenticate(modelgates_server.base_url, [line["key"] for line in lines])
    assert leftovers(tmp_path) == []

    code, out, err = await finish(await start(modelgates_server, fleet))
    assert code == 0, err
    assert "No changes." in out


def reading_a_pipe(pid: int) -> bool:
    """Whether the process sleeps in a read of a pipe (Linux's /proc tells)."""
    return "pipe_read" in Path(f"/proc/{pid}/wchan").read_text(encoding="ascii")


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux's /proc")
async def test_ctrl_c_at_the_question_is_an_interruption_and_changes_nothing(
    modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """SIGINT while apply waits for its answer ends it with exit 130 and a summary (never a
    bare "Aborted!"), and nothing was sent."""
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("- name: a\n- name: b\n", encoding="utf-8")
    child = await start(modelgates_server, fleet, "--concurrency", "2")
    asked = b""
    while b"Apply these changes?" not in asked:
        chunk = await child.stderr.read(256)
        assert chunk, f"the child ended before asking: {asked!r}"
        asked += chunk
    # The signal must find the child blocked reading its answer: sent a moment earlier,
    # before the read starts, Python notes it but the read does not see it (a race no
    # person pressing Ctrl-C at a prompt can hit).
    await eventually(lambda: reading_a_pipe(child.pid), child)
    child.send_signal(signal.SIGINT)
    code, _, err = await finish(child)
    assert code == 130
    assert "Interrupted. Nothing was changed." in asked.decode() + err
    assert "Aborted!" not in err
    assert modelgates_server.state.store.count() == 0

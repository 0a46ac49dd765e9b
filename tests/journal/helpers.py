"""Helpers of the journal and interruption tests: the invariant the server must hold."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp

from modelgates_async import AsyncModelGates, BulkResult, CreatedKey, KeySpec, read_journal
from modelgates_async.server import LocalServer

HELD = 8
"""Creates the server holds, then answers to a stopped process, before a SIGKILL."""


def spec_list(n: int, prefix: str = "tenant") -> list[KeySpec]:
    """``n`` distinct specs named ``prefix-00000`` … with a limit each."""
    return [KeySpec(f"{prefix}-{i:05d}", limit=float(i % 50 + 1)) for i in range(n)]


async def keys_on_server(client: AsyncModelGates) -> dict[str, str]:
    """hash -> name of every key on the server, disabled ones included."""
    return {key.hash: key.name async for key in client.api_keys.iter(include_disabled=True)}


async def secrets_authenticate(base_url: str, secrets: Iterable[str]) -> bool:
    """Whether ``GET /key`` answers 200 to every secret (checked 16 at a time)."""
    gate = asyncio.Semaphore(16)
    async with aiohttp.ClientSession() as session:

        async def works(secret: str) -> bool:
            async with (
                gate,
                session.get(
                    base_url + "/key", headers={"Authorization": f"Bearer {secret}"}
                ) as response,
            ):
                return response.status == 200

        return all(await asyncio.gather(*(works(s) for s in secrets)))


async def assert_journal_invariant(
    client: AsyncModelGates, base_url: str, specs: list[KeySpec], journal: str
) -> None:
    """Every spec has exactly one live key, its secret is in the journal and works, and
    no other key exists."""
    on_server = await keys_on_server(client)
    assert Counter(on_server.values()) == Counter(spec.name for spec in specs)
    entries = read_journal(journal)
    assert [entry.state for entry in entries] == ["done"] * len(specs)
    assert {entry.key_hash for entry in entries} == set(on_server)
    assert [on_server[str(entry.key_hash)] for entry in entries] == [s.name for s in specs]
    assert await secrets_authenticate(base_url, [str(entry.key) for entry in entries])


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait (bounded) until ``condition()`` holds: a state of another process."""
    for _ in range(6000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def leave_creates_unanswered(
    process: Any, server: LocalServer, journal: str | os.PathLike[str]
) -> None:
    """Stop the process (SIGSTOP) with creates in flight and let the server make their
    keys: once it is killed, those keys' secrets are lost — orphans the next run must
    delete."""
    server.inject_fault("/keys", method="POST", delay=1.0, times=HELD)
    # Until the server holds all of them (the delay fault is used up):
    await eventually(lambda: not any(fault.delay for fault in server.state.faults.pending()))
    process.send_signal(signal.SIGSTOP)
    done = sum(entry.state == "done" for entry in read_journal(journal))
    await eventually(lambda: server.state.store.count() >= done + HELD)


async def assert_created_are_on_server(
    client: AsyncModelGates, result: BulkResult[CreatedKey]
) -> None:
    """The keys a bulk result says it created are exactly the keys on the server."""
    on_server = await keys_on_server(client)
    assert {created.data.hash for created in result.values} == set(on_server)

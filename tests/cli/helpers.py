"""Helpers shared by the CLI tests: keys made and read through the SDK, not the CLI."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from click.testing import Result

from modelgates_async import AsyncModelGates, CreatedKey, KeySpec
from modelgates_async.models import APIKey
from modelgates_async.server import LocalServer

T = TypeVar("T")

WRONG_KEY = "sk-mg-v1-" + "0badc0de" * 8

# The ``invoke`` fixture: ``invoke("keys", "list", input="y\n")`` runs `modelgates ARGS`
# in-process and returns click's Result.
Invoke = Callable[..., Result]


def command() -> list[str]:
    """The installed console script, or the module when the script is not on disk."""
    script = Path(sys.executable).parent / "modelgates"
    return [str(script)] if script.exists() else [sys.executable, "-m", "modelgates_async.cli"]


def with_client(server: LocalServer, work: Callable[[AsyncModelGates], Awaitable[T]]) -> T:
    """Run ``work`` with an SDK client of the server's management key."""

    async def go() -> T:
        async with AsyncModelGates(
            api_key=server.management_key, base_url=server.base_url
        ) as client:
            return await work(client)

    return asyncio.run(go())


def make_keys(server: LocalServer, *specs: KeySpec) -> list[CreatedKey]:
    """Create keys through the SDK (the CLI's own create is tested on its own)."""

    async def create(client: AsyncModelGates) -> list[CreatedKey]:
        return (await client.api_keys.create_many(specs)).raise_for_errors().values

    return with_client(server, create)


def fetch(server: LocalServer, key_hash: str) -> Any:
    """The key with this hash, read through the SDK."""
    return with_client(server, lambda client: client.api_keys.get(key_hash))


def all_keys(server: LocalServer, *, include_expired: bool = False) -> list[APIKey]:
    """Every key of the server, disabled ones included (expired ones when asked)."""

    async def every(client: AsyncModelGates) -> list[APIKey]:
        walk = client.api_keys.iter(include_disabled=True, include_expired=include_expired)
        return [key async for key in walk]

    return with_client(server, every)

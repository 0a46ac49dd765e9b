"""Every command that takes a HASH accepts a unique prefix of it, like git."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, cast

import attrs
import click
import pytest

from modelgates_async import AsyncModelGates, KeySpec
from modelgates_async.cli.hashes import resolve_hash, resolve_key
from modelgates_async.errors import NotFoundError
from modelgates_async.models import APIKey
from modelgates_async.server import LocalServer
from tests.cli.helpers import Invoke, all_keys, fetch, make_keys


class FakeKeys:
    """Just enough of ``api_keys`` for resolving: a fixed listing, and no single gets."""

    def __init__(self, keys: list[APIKey]) -> None:
        self.keys = keys
        self.listed_with: list[tuple[bool, bool]] = []

    async def iter(
        self, include_disabled: bool = False, include_expired: bool = False
    ) -> AsyncIterator[APIKey]:
        self.listed_with.append((include_disabled, include_expired))
        for key in self.keys:
            yield key

    async def get(self, key_hash: str) -> APIKey:
        raise AssertionError("a full hash needs no request here")


@attrs.define
class FakeClient:
    api_keys: FakeKeys


@pytest.fixture
def template(modelgates_server: LocalServer) -> APIKey:
    """A real key record to copy with chosen hashes."""
    [made] = make_keys(modelgates_server, KeySpec("template"))
    return made.data


def client_with(template: APIKey, *hashes: str) -> FakeClient:
    """A fake client whose listing holds keys with these hashes."""
    return FakeClient(
        FakeKeys([attrs.evolve(template, hash=h, name=f"k{i}") for i, h in enumerate(hashes)])
    )


def test_an_ambiguous_prefix_is_a_usage_error_listing_candidates(template: APIKey) -> None:
    """A prefix shared by two keys is refused with both hashes and names; no guess."""
    first, second = "abcd1" + "0" * 59, "abcd2" + "0" * 59
    client = client_with(template, first, second, "f" * 64)
    with pytest.raises(click.UsageError) as info:
        asyncio.run(resolve_key(cast(AsyncModelGates, client), "abcd"))
    message = info.value.format_message()
    assert "ambiguous" in message
    assert first in message
    assert second in message
    assert "k0" in message
    assert "f" * 64 not in message
    assert client.api_keys.listed_with == [(True, True)]  # disabled and expired ones too


def test_a_unique_prefix_resolves_and_a_full_hash_is_not_looked_up(template: APIKey) -> None:
    """abcd2 names one key; a full 64-digit hash is used as it is."""
    first, second = "abcd1" + "0" * 59, "abcd2" + "0" * 59
    client = cast(AsyncModelGates, client_with(template, first, second))
    assert asyncio.run(resolve_hash(client, "ABCD2")) == second
    assert asyncio.run(resolve_hash(client, first)) == first


def test_an_unknown_prefix_is_not_found(template: APIKey) -> None:
    """A prefix no key has is a NotFoundError, like an unknown full hash."""
    client = cast(AsyncModelGates, client_with(template, "a" * 64))
    with pytest.raises(NotFoundError):
        asyncio.run(resolve_key(client, "bbbb"))


def test_a_too_short_prefix_is_refused(template: APIKey) -> None:
    """Fewer than four characters name nothing."""
    client = cast(AsyncModelGates, client_with(template, "a" * 64))
    with pytest.raises(click.UsageError):
        asyncio.run(resolve_key(client, "aaa"))


def test_every_hash_command_takes_a_prefix(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Any
) -> None:
    """get, update, disable, enable, rotate and delete all accept a unique prefix."""
    [made] = make_keys(modelgates_server, KeySpec("t", limit=5))
    key_hash = made.data.hash
    prefix = key_hash[:10]
    got = invoke("keys", "get", prefix, "--json")
    assert json.loads(got.stdout)["hash"] == key_hash
    assert invoke("keys", "update", prefix, "--limit", "9").exit_code == 0
    assert fetch(modelgates_server, key_hash).limit == 9.0
    assert invoke("keys", "disable", prefix).exit_code == 0
    assert fetch(modelgates_server, key_hash).disabled
    # Disabled keys are found by prefix too.
    assert invoke("keys", "enable", prefix).exit_code == 0
    assert not fetch(modelgates_server, key_hash).disabled
    rotated = invoke("keys", "rotate", prefix, "--retire", "delete", "--json")
    assert rotated.exit_code == 0, rotated.output
    new_hash = json.loads(rotated.stdout)["data"]["hash"]
    assert [key.hash for key in all_keys(modelgates_server)] == [new_hash]
    deleted = invoke("keys", "delete", new_hash[:8], "--yes", "--json")
    assert json.loads(deleted.stdout) == {"deleted": True, "hash": new_hash}
    assert all_keys(modelgates_server) == []


def test_an_unknown_prefix_exits_1(invoke: Invoke, modelgates_server: LocalServer) -> None:
    """The prefix of a deleted key's hash: exit 1 saying no key has it."""
    [gone] = make_keys(modelgates_server, KeySpec("t"))
    assert invoke("keys", "delete", gone.data.hash, "--yes").exit_code == 0
    prefix = gone.data.hash[:12]
    result = invoke("keys", "get", prefix)
    assert result.exit_code == 1
    assert f"No key's hash starts with {prefix!r}" in result.output


def test_an_expired_key_is_named_by_a_prefix(
    invoke: Invoke, modelgates_server: LocalServer
) -> None:
    """A key that has expired (the listing hides it by default) still resolves by prefix."""
    soon = modelgates_server.clock.now() + timedelta(seconds=30)
    [made] = make_keys(modelgates_server, KeySpec("expiring", expires_at=soon))
    modelgates_server.clock.advance(60)
    try:
        got = invoke("keys", "get", made.data.hash[:8], "--json")
    finally:
        modelgates_server.clock.resume()
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["hash"] == made.data.hash

"""Spec 1.1 and the fleet-changing helpers end to end, against the local server over real
sockets: expired keys, external identities, moving keys, 409, over-limit loops that disable
every key, a walk under random concurrent changes, and rotation that revives nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from random import Random
from typing import Any

import pytest

from modelgates_async import (
    APIKey,
    AsyncAPIKeys,
    AsyncModelGates,
    AuthenticationError,
    ConflictError,
    KeySpec,
)
from modelgates_async.server import LocalServer

UTC = timezone.utc
START = datetime(2030, 3, 4, 12, tzinfo=UTC)
OTHER_WORKSPACE = "22222222-2222-4222-8222-222222222222"
EXTERNAL_KEY = "ext-" + "0a1b2c3d4e5f" * 4


async def hashes(keys: Any) -> list[str]:
    return [key.hash async for key in keys]


async def expired_and_live(mg: AsyncModelGates, server: LocalServer) -> tuple[APIKey, APIKey]:
    """Two keys over their limit; the first expires an hour after START, then the clock
    moves two hours on."""
    server.clock.set(START)
    expiring = await mg.api_keys.create("expiring", limit=1, expires_at=START + timedelta(hours=1))
    live = await mg.api_keys.create("live", limit=1)
    server.record_usage(expiring.data.hash, 2)
    server.record_usage(live.data.hash, 2)
    server.clock.advance(timedelta(hours=2))
    return expiring.data, live.data


# --- expired keys --------------------------------------------------------------------------


async def test_expired_keys_are_listed_only_when_asked(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """list() and iter() leave a key whose expires_at has passed (by the server's clock)
    out unless include_expired=True."""
    mg = async_modelgates_client
    expired, live = await expired_and_live(mg, modelgates_server)
    assert [k.hash for k in await mg.api_keys.list()] == [live.hash]
    assert [k.hash for k in await mg.api_keys.list(include_expired=True)] == [
        live.hash,
        expired.hash,
    ]
    assert await hashes(mg.api_keys.iter()) == [live.hash]
    assert await hashes(mg.api_keys.iter(include_expired=True)) == [live.hash, expired.hash]


async def test_over_limit_helpers_leave_expired_keys_alone_unless_asked(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """over_limit() and disable_over_limit() skip an expired key (it cannot spend and cannot
    be revived); include_expired=True reports and disables it too."""
    mg = async_modelgates_client
    expired, live = await expired_and_live(mg, modelgates_server)
    assert await hashes(mg.api_keys.over_limit()) == [live.hash]
    assert await hashes(mg.api_keys.over_limit(include_expired=True)) == [live.hash, expired.hash]
    report = await mg.api_keys.disable_over_limit()
    assert [key.hash for key in report.values] == [live.hash]
    assert not (await mg.api_keys.get(expired.hash)).disabled
    report = await mg.api_keys.disable_over_limit(include_expired=True)
    assert [key.hash for key in report.values] == [expired.hash]
    assert (await mg.api_keys.get(expired.hash)).disabled


async def test_rotate_many_keeps_an_expired_key_expired(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """rotate_many() rotates an expired key like any other: its replacement has the same,
    past, expiry (left out of lists by default; its secret does not authenticate)."""
    mg = async_modelgates_client
    expired, live = await expired_and_live(mg, modelgates_server)
    result = await mg.api_keys.rotate_many([expired.hash, live.hash])
    assert result.ok
    old_expired, old_live = result.values
    assert old_expired.data.expires_at == expired.expires_at
    assert old_live.data.expires_at is None
    listed = await hashes(mg.api_keys.iter())
    assert old_live.data.hash in listed
    assert old_expired.data.hash not in listed
    async with AsyncModelGates(old_expired.key, base_url=modelgates_server.base_url) as tenant:
        with pytest.raises(AuthenticationError):
            await tenant.api_keys.get_current_key_metadata()


# --- external identity -----------------------------------------------------------------------


async def test_external_user_is_stored_and_the_external_key_never_returned(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """create(external_user=…, external_api_key=…) and a KeySpec with both: the record has
    external_user; the external key appears in no answer (get, list)."""
    mg = async_modelgates_client
    one = await mg.api_keys.create("ext", external_user="tenant-1", external_api_key=EXTERNAL_KEY)
    assert one.data.external_user == "tenant-1"
    bulk = await mg.api_keys.create_many(
        [KeySpec("ext-2", external_user="tenant-2", external_api_key=EXTERNAL_KEY)]
    )
    (two,) = bulk.raise_for_errors().values
    assert two.data.external_user == "tenant-2"
    assert (await mg.api_keys.get(one.data.hash)).external_user == "tenant-1"
    raw = await mg._transport.request(
        "GET", "/keys", timeout=5, retries=mg.retries, query="?include_disabled=true"
    )
    assert EXTERNAL_KEY not in repr(raw)
    assert {key["external_user"] for key in raw["data"]} == {"tenant-1", "tenant-2"}


# --- moving keys, 409 -------------------------------------------------------------------------


async def test_update_moves_a_key_to_another_workspace(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """update(workspace_id=W) moves the key: it leaves the default workspace's list and
    appears in W's; moving it to its own workspace changes nothing."""
    mg = async_modelgates_client
    key = (await mg.api_keys.create("mover")).data
    same = await mg.api_keys.update(key.hash, workspace_id=key.workspace_id)
    assert same == key
    moved = await mg.api_keys.update(key.hash, workspace_id=OTHER_WORKSPACE)
    assert moved.workspace_id == OTHER_WORKSPACE
    assert await mg.api_keys.list() == []
    assert [k.hash for k in await mg.api_keys.list(workspace_id=OTHER_WORKSPACE)] == [key.hash]


async def test_a_409_from_the_server_is_a_conflict_error(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """An injected 409 on PATCH raises ConflictError; the key is unchanged."""
    mg = async_modelgates_client
    key = (await mg.api_keys.create("contested")).data
    modelgates_server.inject_fault(f"/keys/{key.hash}", method="PATCH", status=409, times=1)
    with pytest.raises(ConflictError) as info:
        await mg.api_keys.update(key.hash, workspace_id=OTHER_WORKSPACE)
    assert info.value.status == 409
    assert (await mg.api_keys.get(key.hash)).workspace_id == key.workspace_id


# --- helpers that stay correct while keys change -----------------------------------------------


async def over_limit_fleet(
    mg: AsyncModelGates, server: LocalServer, over: int, under: int
) -> set[str]:
    """``over`` keys past their limit and ``under`` keys below it; the hashes of the former."""
    specs = [KeySpec(f"over-{n}", limit=1) for n in range(over)]
    specs += [KeySpec(f"under-{n}", limit=100) for n in range(under)]
    made = (await mg.api_keys.create_many(specs)).raise_for_errors().values
    for key in made:
        server.record_usage(key.data.hash, 2)
    return {key.data.hash for key in made[:over]}


async def still_enabled(mg: AsyncModelGates) -> set[str]:
    return {key.hash async for key in mg.api_keys.iter()}


async def test_disabling_inside_the_over_limit_loop_disables_every_key(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """The README's loop — disable each key over_limit() yields — disables all 250 keys
    over their limit (paging over enabled keys used to leave 100 of them enabled)."""
    mg = async_modelgates_client
    over = await over_limit_fleet(mg, modelgates_server, 250, 30)
    async for key in mg.api_keys.over_limit():
        await mg.api_keys.update(key.hash, disabled=True)
    assert not over & await still_enabled(mg)
    assert len(await still_enabled(mg)) == 30


async def test_disable_over_limit_disables_every_key(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """disable_over_limit() with 250 keys over their limit disables all 250, none other."""
    mg = async_modelgates_client
    over = await over_limit_fleet(mg, modelgates_server, 250, 30)
    report = await mg.api_keys.disable_over_limit()
    assert {key.hash for key in report.raise_for_errors().values} == over
    assert len(await still_enabled(mg)) == 30


async def test_a_walk_under_random_concurrent_changes_yields_each_stable_key_once(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """2,000 keys; after every page the walk fetches, other clients concurrently delete,
    disable or move up to 25 random keys and create up to 40: every key nobody touched is
    yielded exactly once, and no key twice (seeded, so a failure replays)."""
    rng = Random(2024)
    walker = async_modelgates_client
    made = await walker.api_keys.create_many([KeySpec(f"k{n}") for n in range(2000)])
    live = [key.data.hash for key in made.raise_for_errors().values]
    stable = set(live)
    original_list = AsyncAPIKeys.list
    fetched = 0
    async with AsyncModelGates(
        modelgates_server.management_key, base_url=modelgates_server.base_url
    ) as other:

        async def remove(key_hash: str) -> None:
            action = rng.choice(("delete", "disable", "move"))
            if action == "delete":
                await other.api_keys.delete(key_hash)
            elif action == "disable":
                await other.api_keys.update(key_hash, disabled=True)
            else:
                await other.api_keys.update(key_hash, workspace_id=OTHER_WORKSPACE)

        async def create(n: int) -> None:
            await other.api_keys.create(f"new-{n}")

        async def list_then_change(self: AsyncAPIKeys, *args: Any, **kwargs: Any) -> Any:
            nonlocal fetched
            page = await original_list(self, *args, **kwargs)
            if self is walker.api_keys:
                fetched += 1
                removed = rng.sample(live, min(len(live), rng.randint(0, 25)))
                for key_hash in removed:
                    live.remove(key_hash)
                    stable.discard(key_hash)
                created = range(fetched * 100, fetched * 100 + rng.randint(0, 40))
                await asyncio.gather(*map(remove, removed), *map(create, created))
            return page

        monkeypatch.setattr(AsyncAPIKeys, "list", list_then_change)
        yielded = await hashes(walker.api_keys.iter())
    assert fetched > 25
    assert len(yielded) == len(set(yielded))
    assert stable <= set(yielded)
    assert len(stable) > 1000


# --- rotation --------------------------------------------------------------------------------


async def test_rotating_a_disabled_key_gives_a_disabled_replacement(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A key disabled for overspending, rotated: the replacement is disabled, keeps the
    external user, and its secret does not authenticate; the old key stays disabled."""
    mg = async_modelgates_client
    old = await mg.api_keys.create("spender", limit=1, external_user="tenant-5")
    await mg.api_keys.update(old.data.hash, disabled=True)
    new = await mg.api_keys.rotate(old.data.hash)
    assert new.data.disabled
    assert new.data.external_user == "tenant-5"
    assert (await mg.api_keys.get(new.data.hash)).disabled
    assert (await mg.api_keys.get(old.data.hash)).disabled
    async with AsyncModelGates(new.key, base_url=modelgates_server.base_url) as tenant:
        with pytest.raises(AuthenticationError):
            await tenant.api_keys.get_current_key_metadata()


def test_the_sync_facade_takes_the_new_arguments(modelgates_client: Any) -> None:
    """ModelGates: include_expired on list/iter, external fields on create, a move."""
    mg = modelgates_client
    created = mg.api_keys.create("sync", external_user="tenant-s")
    assert created.data.external_user == "tenant-s"
    assert [k.hash for k in mg.api_keys.list(include_expired=True)] == [created.data.hash]
    assert [k.hash for k in mg.api_keys.iter(include_expired=True)] == [created.data.hash]
    moved = mg.api_keys.update(created.data.hash, workspace_id=OTHER_WORKSPACE)
    assert moved.workspace_id == OTHER_WORKSPACE

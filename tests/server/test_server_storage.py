"""Stores: the same contract in memory and in SQLite, persistence, and concurrent creates."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from modelgates_async.server import (
    AsyncLocalServer,
    KeyRecord,
    ServerState,
    SQLiteStore,
    Store,
)
from modelgates_async.server.usage import UsageEvent, Windows, to_micros

UTC = timezone.utc
T0 = datetime(2025, 1, 8, 12, 0, 0, 123456, tzinfo=UTC)
OTHER_WORKSPACE = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"


def record(n: int, **changes: Any) -> KeyRecord:
    """A record numbered n, created n seconds after T0."""
    base = KeyRecord(
        hash=f"{n:064x}",
        name=f"k{n}",
        label=f"sk-mg-v1-{n:03x}...000",
        created_at=T0 + timedelta(seconds=n),
    )
    return dataclasses.replace(base, **changes)


def test_store_round_trips_every_field(store: Store) -> None:
    """A record comes back exactly as inserted, datetimes to the microsecond."""
    full = record(
        1,
        disabled=True,
        limit=12.5,
        limit_reset="weekly",
        include_byok_in_limit=True,
        updated_at=T0 + timedelta(hours=1),
        expires_at=T0 + timedelta(days=9),
        creator_user_id="u",
        workspace_id=OTHER_WORKSPACE,
        external_user="ext",
        last_used_at=T0 + timedelta(minutes=3),
    )
    assert store.insert(full)
    assert store.get(full.hash) == full
    assert store.get("nope") is None


def test_store_refuses_a_duplicate_hash(store: Store) -> None:
    """insert() answers False and keeps the first record when the hash exists."""
    assert store.insert(record(1))
    assert not store.insert(record(1, name="second"))
    assert store.get(record(1).hash) == record(1)
    assert store.count() == 1


def test_store_update_and_delete(store: Store) -> None:
    """update() changes the named fields of an existing record only; delete() removes it
    and its usage."""
    assert store.update(record(1).hash, {"name": "renamed"}) is None
    store.insert(record(1))
    assert store.update(record(1).hash, {"name": "renamed"}) == record(1, name="renamed")
    assert store.get(record(1).hash) == record(1, name="renamed")
    store.add_usage(record(1).hash, UsageEvent(to_micros(T0), 1.0, False))
    assert store.delete(record(1).hash)
    assert not store.delete(record(1).hash)
    assert store.usage(record(1).hash, Windows.at(T0)).usage == 0


def test_store_lists_newest_first_with_filters_and_paging(store: Store) -> None:
    """list() filters by workspace and disabled, orders newest first, and pages."""
    for n in range(10):
        store.insert(record(n, disabled=n % 3 == 0))
    store.insert(record(10, workspace_id=OTHER_WORKSPACE))
    default = "00000000-0000-4000-8000-000000000000"
    enabled = [r.hash for r in store.list(workspace_id=default, include_disabled=False,
                                          offset=0, limit=100)]  # fmt: skip
    assert enabled == [record(n).hash for n in (8, 7, 5, 4, 2, 1)]
    page = store.list(workspace_id=default, include_disabled=True, offset=2, limit=3)
    assert [r.hash for r in page] == [record(n).hash for n in (7, 6, 5)]
    other = store.list(workspace_id=OTHER_WORKSPACE, include_disabled=False, offset=0, limit=9)
    assert [r.hash for r in other] == [record(10).hash]


def test_store_sums_usage_by_window(store: Store) -> None:
    """usage() sums credit and BYOK spend per window; unknown keys record nothing."""
    store.insert(record(1))
    key = record(1).hash
    assert store.add_usage(key, UsageEvent(to_micros(T0 - timedelta(days=30)), 1.0, False))
    assert store.add_usage(key, UsageEvent(to_micros(T0), 2.0, False))
    assert store.add_usage(key, UsageEvent(to_micros(T0), 4.0, True))
    assert not store.add_usage("nope", UsageEvent(to_micros(T0), 1.0, False))
    totals = store.usage(key, Windows.at(T0))
    assert (totals.usage, totals.usage_daily, totals.usage_monthly) == (3.0, 2.0, 2.0)
    assert (totals.byok_usage, totals.byok_usage_weekly) == (4.0, 4.0)


def test_store_sums_the_usage_of_a_page_of_keys_in_order(store: Store) -> None:
    """usage_of() answers per key, in the order asked, zero for keys without spend."""
    for n in (1, 2, 3):
        store.insert(record(n))
    store.add_usage(record(1).hash, UsageEvent(to_micros(T0), 1.5, False))
    store.add_usage(record(3).hash, UsageEvent(to_micros(T0), 2.0, True))
    hashes = [record(n).hash for n in (3, 2, 1)] + ["unknown"]
    totals = store.usage_of(hashes, Windows.at(T0))
    assert [(t.usage, t.byok_usage) for t in totals] == [(0, 2.0), (0, 0), (1.5, 0), (0, 0)]
    assert totals == [store.usage(h, Windows.at(T0)) for h in hashes]
    assert store.usage_of([], Windows.at(T0)) == []


def test_store_clear(store: Store) -> None:
    """clear() empties the store."""
    store.insert(record(1))
    store.clear()
    assert store.count() == 0


async def test_sqlite_keeps_keys_and_usage_across_a_restart(tmp_path: Path) -> None:
    """With db=FILE, keys, patches, deletes and spend survive a server restart."""
    db = tmp_path / "keys.db"
    key = "sk-mg-v1-" + "cd" * 32
    headers = {"Authorization": f"Bearer {key}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with AsyncLocalServer(management_key=key, db=db) as first:
            created = []
            for name in ("a", "b", "c"):
                async with http.post(first.base_url + "/keys", json={"name": name}) as r:
                    created.append(await r.json())
            a, b, c = (item["data"]["hash"] for item in created)
            await (await http.patch(f"{first.base_url}/keys/{a}", json={"limit": 5})).release()
            await (await http.delete(f"{first.base_url}/keys/{c}")).release()
            first.record_usage(b, 1.5)
            async with http.get(first.base_url + "/keys") as r:
                before = await r.json()
        async with AsyncLocalServer(management_key=key, db=db) as second:
            assert second.port != 0
            async with http.get(second.base_url + "/keys") as r:
                after = await r.json()
            secret_b = created[1]["key"]
            async with http.get(
                second.base_url + "/key", headers={"Authorization": f"Bearer {secret_b}"}
            ) as r:
                assert r.status == 200
    assert after == before
    assert [k["hash"] for k in after["data"]] == [b, a]
    assert after["data"][0]["usage"] == 1.5


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_500_concurrent_creates_lose_and_duplicate_nothing(kind: str, tmp_path: Path) -> None:
    """500 simultaneous POST /keys give 500 distinct keys, all listed exactly once."""
    state = ServerState(
        management_key="sk-mg-v1-" + "ef" * 32,
        db=tmp_path / "c.db" if kind == "sqlite" else None,
    )
    headers = {"Authorization": f"Bearer {state.management_key}"}
    async with AsyncLocalServer(state) as server, aiohttp.ClientSession(headers=headers) as http:

        async def create(i: int) -> tuple[str, str]:
            async with http.post(server.base_url + "/keys", json={"name": f"k{i}"}) as r:
                assert r.status == 201
                body = await r.json()
                return body["key"], body["data"]["hash"]

        results = await asyncio.gather(*(create(i) for i in range(500)))
        listed: list[str] = []
        while True:
            params = {"offset": str(len(listed))}
            async with http.get(server.base_url + "/keys", params=params) as r:
                page = (await r.json())["data"]
            if not page:
                break
            listed.extend(k["hash"] for k in page)
    state.close()
    assert len({secret for secret, _ in results}) == 500
    assert len(listed) == 500
    assert set(listed) == {h for _, h in results}


OLD_SCHEMA = """
CREATE TABLE keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    label TEXT NOT NULL, workspace_id TEXT NOT NULL, disabled INTEGER NOT NULL, "limit" REAL,
    limit_reset TEXT, include_byok_in_limit INTEGER NOT NULL, created_us INTEGER NOT NULL,
    updated_us INTEGER, expires_us INTEGER, creator_user_id TEXT, external_user TEXT,
    last_used_us INTEGER
);
INSERT INTO keys (hash, name, label, workspace_id, disabled, include_byok_in_limit, created_us)
VALUES ('{hash}', 'old', 'sk-mg-v1-abc...def', '00000000-0000-4000-8000-000000000000', 0, 0,
        {created});
"""


def test_a_database_from_before_external_keys_is_upgraded_in_place(tmp_path: Path) -> None:
    """A file made before external.api_key existed opens: its keys are kept and new keys
    can store an external API key hash."""
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA.format(hash=record(1).hash, created=to_micros(T0)))
    old.close()
    store = SQLiteStore(path)
    try:
        kept = store.get(record(1).hash)
        assert kept is not None
        assert (kept.name, kept.external_api_key_sha256) == ("old", None)
        new = record(2, external_user="u", external_api_key_sha256="ab" * 32)
        assert store.insert(new)
        assert store.get(new.hash) == new
    finally:
        store.close()

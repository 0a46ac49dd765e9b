"""Walks whose pages overlap — the SDK's ``iter()`` steps 75 rows for 100-row pages — get the
same answers as skipping rows, and pages that cost the same at any offset."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from modelgates_async.server import KeyRecord, MemoryStore, SQLiteStore, Store
from modelgates_async.server.usage import to_micros
from tests.server.helpers import CountingDict, sqlite_steps

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
WORKSPACE = "00000000-0000-4000-8000-000000000000"
OVERLAP = 25  # the SDK's (resources/_paging.py)


def key(n: int, created: datetime, disabled: bool = False) -> KeyRecord:
    return KeyRecord(
        hash=f"{n:064x}",
        name=f"k{n}",
        label="sk-mg-v1-abc...def",
        created_at=created,
        workspace_id=WORKSPACE,
        disabled=disabled,
    )


def naive_page(store_keys: dict[str, tuple[int, KeyRecord]], offset: int, size: int) -> list[str]:
    rows = sorted(
        (
            (to_micros(r.created_at), seq, r.hash)
            for seq, r in store_keys.values()
            if not r.disabled
        ),
        reverse=True,
    )
    return [h for _, _, h in rows[offset : offset + size]]


@pytest.mark.parametrize("seed", range(4))
def test_overlapping_pages_match_the_naive_rule_while_keys_change(store: Store, seed: int) -> None:
    """Pages requested at offsets inside the page just answered (step < page), interleaved
    with inserts, disables and deletes, answer what filtering, sorting and slicing answers."""
    rng = random.Random(seed)
    size = 10
    model: dict[str, tuple[int, KeyRecord]] = {}
    offset = 0
    for step in range(1500):
        action = rng.random()
        if action < 0.3 or not model:
            record = key(step, T0 + timedelta(seconds=rng.randrange(500)))
            assert store.insert(record)
            model[record.hash] = (step, record)
        elif action < 0.36:
            victim = rng.choice(list(model))
            store.update(victim, {"disabled": True})
            seq, old = model[victim]
            model[victim] = (seq, key(int(victim, 16), old.created_at, disabled=True))
        elif action < 0.4:
            victim = rng.choice(list(model))
            assert store.delete(victim)
            del model[victim]
        else:
            page = store.list(
                workspace_id=WORKSPACE, include_disabled=False, offset=offset, limit=size
            )
            assert [r.hash for r in page] == naive_page(model, offset, size), (seed, step)
            offset = offset + rng.randint(1, size) if len(page) == size else 0


def walk_costs(store: Store, cost: object, total: int) -> list[int]:
    """Walk every key 100 a page, stepping 75 as iter() does; return each page's cost."""
    assert callable(cost)
    costs = []
    offset = 0
    while True:
        before = cost()
        page = store.list(workspace_id=WORKSPACE, include_disabled=False, offset=offset, limit=100)
        costs.append(cost() - before)
        if len(page) < 100:
            break
        offset += 100 - OVERLAP
    assert offset + len(page) == total
    return costs


def seed(store: Store, count: int) -> None:
    for n in range(count):
        store.insert(key(n, T0 + timedelta(microseconds=n)))


def test_an_overlapping_memory_walk_costs_the_same_at_any_offset() -> None:
    """The memory store resumes an overlapping walk from the page before: the last page
    reads no more records than about two pages' worth, wherever it starts."""
    store = MemoryStore()
    seed(store, 5000)
    counting = CountingDict(store._records)
    store._records = counting
    costs = walk_costs(store, lambda: counting.reads, 5000)
    assert max(costs[1:]) <= 2 * costs[0]
    assert sum(costs) <= 3 * 5000


def test_an_overlapping_sqlite_walk_costs_the_same_at_any_offset(tmp_path: Path) -> None:
    """The SQLite store seeks to the nearest resume point below the offset: counted in
    SQLite VM steps, the last page costs about what the second one does."""
    store = SQLiteStore(tmp_path / "walk.db")
    seed(store, 5000)
    costs = walk_costs(store, sqlite_steps(store), 5000)
    store.close()
    assert costs[-2] <= 1.5 * costs[1]

"""Listing pages: the same answers as skipping rows, at a cost that does not grow with offset."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from modelgates_async.server import KeyRecord, MemoryStore, SQLiteStore, Store
from modelgates_async.server.usage import to_micros
from tests.server.helpers import CountingDict, sqlite_steps

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
WORKSPACES = ("00000000-0000-4000-8000-000000000000", "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f")


class Model:
    """The list rules spelled out naively: filter everything, sort, slice."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[int, KeyRecord]] = {}
        self.seq = 0

    def insert(self, record: KeyRecord) -> None:
        self.seq += 1
        self.records[record.hash] = (self.seq, record)

    def update(self, key_hash: str, changes: dict[str, Any]) -> None:
        seq, old = self.records[key_hash]
        self.records[key_hash] = (seq, dataclasses.replace(old, **changes))

    def page(
        self, workspace: str, include_disabled: bool, active_at: datetime | None, offset: int
    ) -> list[str]:
        rows = sorted(
            (
                (to_micros(r.created_at), seq, r.hash)
                for seq, r in self.records.values()
                if r.workspace_id == workspace
                and (include_disabled or not r.disabled)
                and (active_at is None or not r.expired(active_at))
            ),
            reverse=True,
        )
        return [h for _, _, h in rows[offset : offset + PAGE]]


PAGE = 7


@pytest.mark.parametrize("seed", range(6))
def test_pages_match_the_naive_rule_while_keys_change(store: Store, seed: int) -> None:
    """Walks interleaved with inserts, disables, moves, expiries, deletes and clock moves
    answer exactly what filtering, sorting and slicing everything answers."""
    rng = random.Random(seed)
    model = Model()
    now = T0
    walks: dict[tuple[str, bool, bool], int] = {}
    for step in range(900):
        action = rng.random()
        hashes = list(model.records)
        if action < 0.45 or not hashes:
            created = T0 + timedelta(seconds=rng.choice([rng.randrange(400), step]))
            expires = T0 + timedelta(seconds=rng.randrange(1, 600)) if rng.random() < 0.3 else None
            record = KeyRecord(
                hash=f"{step:064x}",
                name=f"k{step}",
                label="sk-mg-v1-abc...def",
                created_at=created,
                workspace_id=rng.choice(WORKSPACES),
                disabled=rng.random() < 0.2,
                expires_at=expires,
            )
            assert store.insert(record)
            model.insert(record)
        elif action < 0.55:
            victim = rng.choice(hashes)
            change: dict[str, Any] = rng.choice(
                [
                    {"disabled": rng.random() < 0.5},
                    {"workspace_id": rng.choice(WORKSPACES)},
                    {"expires_at": now + timedelta(seconds=rng.randrange(-30, 60))},
                    {"name": "renamed", "last_used_at": now},
                ]
            )
            store.update(victim, change)
            model.update(victim, change)
        elif action < 0.6:
            victim = rng.choice(hashes)
            assert store.delete(victim)
            del model.records[victim]
        elif action < 0.65:
            now += timedelta(seconds=rng.randrange(-20, 40))
        else:
            workspace = rng.choice(WORKSPACES)
            include_disabled = rng.random() < 0.5
            include_expired = rng.random() < 0.5
            shape = (workspace, include_disabled, include_expired)
            # Mostly the next page of a walk in progress, sometimes a jump or a restart.
            offset = walks.get(shape, 0) if rng.random() < 0.85 else rng.randrange(60)
            active_at = None if include_expired else now
            page = store.list(
                workspace_id=workspace,
                include_disabled=include_disabled,
                offset=offset,
                limit=PAGE,
                active_at=active_at,
            )
            expected = model.page(workspace, include_disabled, active_at, offset)
            assert [r.hash for r in page] == expected, (seed, step, shape, offset)
            walks[shape] = offset + PAGE if len(page) == PAGE else 0


def seed_store(store: Store, count: int) -> None:
    """``count`` keys a microsecond apart, every tenth disabled, oldest first."""
    for n in range(count):
        store.insert(
            KeyRecord(
                hash=f"{n:064x}",
                name=f"k{n}",
                label="sk-mg-v1-abc...def",
                created_at=T0 + timedelta(microseconds=n),
                disabled=n % 10 == 0,
                expires_at=T0 + timedelta(days=1) if n % 7 == 0 else None,
            )
        )


def walk_costs(store: Store, cost: Any, total: int) -> list[int]:
    """Walk every enabled, unexpired key 100 at a time; return the cost of each page."""
    costs = []
    offset = 0
    while True:
        before = cost()
        page = store.list(
            workspace_id=WORKSPACES[0],
            include_disabled=False,
            offset=offset,
            limit=100,
            active_at=T0 + timedelta(hours=1),
        )
        costs.append(cost() - before)
        offset += len(page)
        if len(page) < 100:
            break
    assert offset == total
    return costs


def test_a_memory_walk_reads_each_record_about_once() -> None:
    """The memory store resumes a walk where the last page stopped: the last page reads
    no more records than the first, and the walk reads each record about once."""
    store = MemoryStore()
    seed_store(store, 5000)
    counting = CountingDict(store._records)
    store._records = counting
    costs = walk_costs(store, lambda: counting.reads, 4500)
    assert costs[-2] <= 1.5 * costs[0]
    assert sum(costs) <= 2 * 5000


def test_an_sqlite_page_costs_the_same_at_any_offset(tmp_path: Path) -> None:
    """The SQLite store seeks to where the last page stopped (through the index that serves
    the list order) instead of stepping over every earlier row: counted in SQLite VM steps."""
    store = SQLiteStore(tmp_path / "walk.db")
    seed_store(store, 5000)
    costs = walk_costs(store, sqlite_steps(store), 4500)
    store.close()
    assert costs[-2] <= 1.5 * costs[0]


def test_the_sqlite_list_query_uses_the_ordering_index(tmp_path: Path) -> None:
    """The list's resumed query is answered from keys_by_workspace, without a sort."""
    store = SQLiteStore(tmp_path / "plan.db")
    plan = store._db.execute(
        "EXPLAIN QUERY PLAN SELECT hash FROM keys WHERE workspace_id = ? AND disabled = 0"
        " AND (created_us, seq) < (?, ?) ORDER BY created_us DESC, seq DESC LIMIT 100",
        (WORKSPACES[0], 1, 1),
    ).fetchall()
    store.close()
    details = " ".join(row[-1] for row in plan)
    assert "keys_by_workspace" in details
    assert "TEMP B-TREE" not in details

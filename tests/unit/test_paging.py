"""iter()'s walk over pages that change under it: every key that stays listed is yielded
exactly once within the documented bound, and a server that repeats pages cannot make the
walk loop forever."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from random import Random

import pytest
from aioresponses import aioresponses

from modelgates_async import APIKey, AsyncModelGates, PaginationError
from modelgates_async._convert import structure
from modelgates_async.resources._paging import (
    PAGE_SIZE,
    REMEMBERED,
    STEP,
    _RecentHashes,
    walk_pages,
)
from tests.helpers import BASE, key_record

# The bound iter() documents: between two page fetches, at most 25 keys leave the list ahead
# of the walk and at most 74 are created.
MAX_REMOVED = 25
MAX_CREATED = 74
ANY_LIST = re.compile(r"^https://api\.test/api/v1/keys(\?.*)?$")


class ChangingList:
    """A newest-first list of keys paged like ``GET /keys``, changed between two fetches."""

    def __init__(self, rng: Random, size: int, removals: int, creations: int) -> None:
        self.rng = rng
        self.removals = removals
        self.creations = creations
        self.keys = [f"{n:064x}" for n in range(size)]
        self.records: dict[str, APIKey] = {}
        self.touched: set[str] = set()  # removed or created during the walk
        self.fetches = 0
        self.next_id = size

    def record(self, key_hash: str) -> APIKey:
        if key_hash not in self.records:
            self.records[key_hash] = structure(key_record(hash=key_hash), APIKey)
        return self.records[key_hash]

    def change(self, offset: int) -> None:
        """Up to ``removals`` keys taken out (half of them just ahead of the walk, where it
        hurts most) and up to ``creations`` new keys at the front."""
        for _ in range(self.rng.randint(0, self.removals)):
            if not self.keys:
                break
            ahead = min(offset, len(self.keys)) - 1
            near = self.rng.random() < 0.5 and ahead >= 0
            index = ahead if near else self.rng.randrange(len(self.keys))
            self.touched.add(self.keys.pop(index))
        for _ in range(self.rng.randint(0, self.creations)):
            created = f"{self.next_id:064x}"
            self.next_id += 1
            self.touched.add(created)
            self.keys.insert(0, created)

    async def fetch(self, offset: int) -> list[APIKey]:
        if self.fetches:
            self.change(offset)
        self.fetches += 1
        return [self.record(h) for h in self.keys[offset : offset + PAGE_SIZE]]


async def collect_into(hashes: list[str], keys: AsyncIterator[APIKey]) -> None:
    """Append each key's hash as it comes (so a test sees them even when the walk fails)."""
    async for key in keys:
        hashes.append(key.hash)


async def walk(pages: ChangingList) -> list[str]:
    return [key.hash async for key in walk_pages(pages.fetch, 0)]


async def test_every_stable_key_is_yielded_once_within_the_bound() -> None:
    """Random lists of up to 1,500 keys, with up to 25 removals (many just ahead of the
    walk) and up to 74 creations between every two pages: each key that stays listed is
    yielded exactly once, and no key is yielded twice."""
    rng = Random(12)
    for _ in range(60):
        pages = ChangingList(rng, rng.randint(0, 1500), MAX_REMOVED, MAX_CREATED)
        initial = set(pages.keys)
        yielded = await walk(pages)
        assert len(yielded) == len(set(yielded))
        assert initial - pages.touched <= set(yielded)


@pytest.mark.parametrize(
    ("removed", "created"), [(MAX_REMOVED, 0), (0, MAX_CREATED), (MAX_REMOVED, MAX_CREATED)]
)
async def test_the_bound_holds_at_its_edge(removed: int, created: int) -> None:
    """Exactly 25 keys taken out just ahead of the walk, or 74 created, or both, between
    every two pages (the worst the bound allows) still yield every stable key once."""
    pages = ChangingList(Random(3), 600, 0, 0)
    initial = set(pages.keys)

    def worst(offset: int) -> None:
        for _ in range(removed):
            pages.touched.add(pages.keys.pop(min(offset, len(pages.keys)) - 1))
        for _ in range(created):
            new = f"{pages.next_id:064x}"
            pages.next_id += 1
            pages.touched.add(new)
            pages.keys.insert(0, new)

    pages.change = worst  # type: ignore[method-assign]
    yielded = await walk(pages)
    assert len(yielded) == len(set(yielded))
    assert initial - pages.touched <= set(yielded)
    assert pages.fetches >= 6  # many pages, each after a worst-case change


async def test_a_list_that_does_not_change_costs_a_third_more_pages() -> None:
    """Without changes a walk of 1,000 keys yields them in order in 14 pages (offsets 0,
    75 … 975) where pages that did not overlap would take 11: the price of the overlap."""
    pages = ChangingList(Random(0), 1000, 0, 0)
    assert await walk(pages) == [f"{n:064x}" for n in range(1000)]
    assert pages.fetches == 14


def test_remembered_hashes_stay_bounded() -> None:
    """However many keys a walk sees, it remembers at most REMEMBERED hashes (memory of a
    100,000-key walk stays flat), and a hash seen again counts as recent."""
    recent = _RecentHashes(REMEMBERED)
    assert recent.see("first")
    for n in range(100_000):
        recent.see(f"{n:064x}")
        if n % 500 == 0:
            assert not recent.see("first")  # kept alive by being seen again
    assert len(recent._order) == REMEMBERED
    assert not recent.see(f"{99_999:064x}")
    assert recent.see(f"{0:064x}")  # long forgotten


async def test_a_server_that_repeats_a_full_page_stops_the_walk(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """A server that ignores offset answers the same full page forever: the second page
    brings nothing new, and iter() raises PaginationError after yielding the page once."""
    page = [key_record(hash=f"{n:064x}") for n in range(PAGE_SIZE)]
    mock.get(ANY_LIST, payload={"data": page}, repeat=True)
    yielded: list[str] = []
    with pytest.raises(PaginationError) as info:
        await collect_into(yielded, client.api_keys.iter())
    assert yielded == [record["hash"] for record in page]
    assert info.value.offset == STEP
    assert "repeats pages" in str(info.value)
    assert sum(len(calls) for calls in mock.requests.values()) == 2


async def test_a_server_cycling_through_pages_stops_the_walk(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """Pages A, B, A, B …: the third page brings nothing new and the walk stops."""
    a = [key_record(hash=f"{n:064x}") for n in range(PAGE_SIZE)]
    b = [key_record(hash=f"{n:064x}") for n in range(PAGE_SIZE, 2 * PAGE_SIZE)]
    for page in (a, b, a, b):
        mock.get(ANY_LIST, payload={"data": page})
    yielded: list[str] = []
    with pytest.raises(PaginationError):
        await collect_into(yielded, client.api_keys.iter())
    assert sorted(yielded) == sorted(record["hash"] for record in a + b)


async def test_iter_passes_its_filters_to_every_page(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """include_disabled, include_expired and workspace_id are sent on every page."""
    first = [key_record(hash=f"{n:064x}") for n in range(PAGE_SIZE)]
    query = "include_disabled=true&include_expired=true&workspace_id=ws-9"
    mock.get(f"{BASE}/keys?{query}", payload={"data": first})
    mock.get(f"{BASE}/keys?offset={STEP}&{query}", payload={"data": first[STEP:]})
    walked = client.api_keys.iter(True, "ws-9", True)
    assert [key.hash async for key in walked] == [r["hash"] for r in first]

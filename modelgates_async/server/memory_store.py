"""``MemoryStore``: records in dicts and sorted lists, gone when the process ends."""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right, insort
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .paging import LISTING_FIELDS, Position, ResumePoint, ResumePoints
from .records import KeyRecord
from .store import Store, check_changes
from .usage import ZERO, UsageEvent, UsageTotals, Windows, to_micros

__all__ = ["MemoryStore"]


class MemoryStore(Store):
    """Records in a dict, each workspace's list order in a sorted list (found by bisection)."""

    def __init__(self) -> None:
        self._records: dict[str, KeyRecord] = {}
        self._positions: dict[str, Position] = {}
        # Per workspace, (created_us, seq, hash) ascending: a page is a slice read backwards.
        self._by_workspace: dict[str, list[tuple[int, int, str]]] = {}
        # Every expires_at (epoch µs), sorted: did any key expire between two instants?
        self._expiries: list[int] = []
        self._usage: dict[str, list[UsageEvent]] = {}
        self._seq = 0
        self._version = 0
        self._resume = ResumePoints()
        self._settings: dict[str, str] = {}

    def _index(self, record: KeyRecord, position: Position) -> None:
        insort(self._by_workspace.setdefault(record.workspace_id, []), (*position, record.hash))
        if record.expires_at is not None:
            insort(self._expiries, to_micros(record.expires_at))

    def _unindex(self, record: KeyRecord, position: Position) -> None:
        entries = self._by_workspace[record.workspace_id]
        del entries[bisect_left(entries, (*position, record.hash))]
        if not entries:
            del self._by_workspace[record.workspace_id]
        if record.expires_at is not None:
            del self._expiries[bisect_left(self._expiries, to_micros(record.expires_at))]

    def insert(self, record: KeyRecord) -> bool:
        if record.hash in self._records:
            return False
        self._seq += 1
        position = (to_micros(record.created_at), self._seq)
        self._records[record.hash] = record
        self._positions[record.hash] = position
        self._index(record, position)
        self._version += 1
        return True

    def get(self, key_hash: str) -> KeyRecord | None:
        return self._records.get(key_hash)

    def update(self, key_hash: str, changes: Mapping[str, Any]) -> KeyRecord | None:
        check_changes(changes)
        old = self._records.get(key_hash)
        if old is None:
            return None
        new = dataclasses.replace(old, **changes)
        if not LISTING_FIELDS.isdisjoint(changes):
            position = self._positions[key_hash]
            self._unindex(old, position)
            self._index(new, position)
            self._version += 1
        self._records[key_hash] = new
        return new

    def delete(self, key_hash: str) -> bool:
        self._usage.pop(key_hash, None)
        record = self._records.pop(key_hash, None)
        if record is None:
            return False
        self._unindex(record, self._positions.pop(key_hash))
        self._version += 1
        return True

    def _expiry_between(self, low: int, high: int) -> bool:
        i = bisect_right(self._expiries, low)
        return i < len(self._expiries) and self._expiries[i] <= high

    def list(
        self,
        *,
        workspace_id: str,
        include_disabled: bool,
        offset: int,
        limit: int,
        active_at: datetime | None = None,
    ) -> list[KeyRecord]:
        entries = self._by_workspace.get(workspace_id, [])
        active_us = None if active_at is None else to_micros(active_at)
        shape = (workspace_id, include_disabled, active_at is None)
        start = self._resume.seek(
            shape, offset, self._version, limit, active_us, self._expiry_between
        )
        if start is None:
            end, skip = len(entries), offset
        else:
            end, skip = bisect_left(entries, start[0]), start[1]
        page: list[KeyRecord] = []
        i = end - 1
        while i >= 0 and len(page) < limit:
            record = self._records[entries[i][2]]
            if (include_disabled or not record.disabled) and (
                active_at is None or not record.expired(active_at)
            ):
                if skip:
                    skip -= 1
                else:
                    page.append(record)
            i -= 1
        if page and len(page) == limit:
            last = entries[i + 1]
            self._resume.remember(
                shape, offset + limit, ResumePoint((last[0], last[1]), self._version, active_us)
            )
        return page

    def add_usage(self, key_hash: str, event: UsageEvent) -> bool:
        if key_hash not in self._records:
            return False
        self._usage.setdefault(key_hash, []).append(event)
        return True

    def usage(self, key_hash: str, windows: Windows) -> UsageTotals:
        events = self._usage.get(key_hash)
        return UsageTotals.of(events, windows) if events else ZERO

    def count(self) -> int:
        return len(self._records)

    def claim_setting(self, name: str, value: str) -> str:
        return self._settings.setdefault(name, value)

    def clear(self) -> None:
        self._records.clear()
        self._positions.clear()
        self._by_workspace.clear()
        self._expiries.clear()
        self._usage.clear()
        self._resume.clear()
        self._version += 1

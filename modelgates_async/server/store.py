"""Where keys and their spend live: the ``Store`` interface, in memory or in SQLite.

Stores are synchronous on purpose. The server calls them from its event loop without awaiting
in between a read and the write that depends on it, so no two requests interleave inside one
operation; SQLite calls on a local file are short enough not to need a thread pool.
"""

from __future__ import annotations

import abc
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from .records import KeyRecord
from .usage import ZERO, UsageEvent, UsageTotals, Windows, from_micros, to_micros

__all__ = ["MemoryStore", "SQLiteStore", "Store"]


class Store(abc.ABC):
    """Storage of key records (by hash) and of the spend recorded on them."""

    @abc.abstractmethod
    def insert(self, record: KeyRecord) -> bool:
        """Add a new record; return False (and change nothing) if its hash exists."""

    @abc.abstractmethod
    def get(self, key_hash: str) -> KeyRecord | None:
        """Return the record with this hash, or None."""

    @abc.abstractmethod
    def replace(self, record: KeyRecord) -> bool:
        """Overwrite the record with the same hash; return False if there is none."""

    @abc.abstractmethod
    def delete(self, key_hash: str) -> bool:
        """Remove a record and its spend; return False if there was none."""

    @abc.abstractmethod
    def list(
        self, *, workspace_id: str, include_disabled: bool, offset: int, limit: int
    ) -> list[KeyRecord]:
        """Return a page of a workspace's records, most recently created first."""

    @abc.abstractmethod
    def add_usage(self, key_hash: str, event: UsageEvent) -> bool:
        """Record spend on a key; return False if the key does not exist."""

    @abc.abstractmethod
    def usage(self, key_hash: str, windows: Windows) -> UsageTotals:
        """Return the spend totals of a key for the given windows."""

    @abc.abstractmethod
    def count(self) -> int:
        """Return the number of stored records."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every record and all spend."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do for most stores
        """Release resources; the store is not used afterwards."""


class MemoryStore(Store):
    """Records in a dict, gone when the process ends."""

    def __init__(self) -> None:
        self._records: dict[str, KeyRecord] = {}
        self._usage: dict[str, list[UsageEvent]] = {}
        # Insertion order is creation order unless the clock went back; then sort when listing.
        self._in_order = True

    def insert(self, record: KeyRecord) -> bool:
        if record.hash in self._records:
            return False
        if self._records and self._in_order:
            last = next(reversed(self._records.values()))
            self._in_order = record.created_at >= last.created_at
        self._records[record.hash] = record
        return True

    def get(self, key_hash: str) -> KeyRecord | None:
        return self._records.get(key_hash)

    def replace(self, record: KeyRecord) -> bool:
        if record.hash not in self._records:
            return False
        self._records[record.hash] = record
        return True

    def delete(self, key_hash: str) -> bool:
        self._usage.pop(key_hash, None)
        return self._records.pop(key_hash, None) is not None

    def list(
        self, *, workspace_id: str, include_disabled: bool, offset: int, limit: int
    ) -> list[KeyRecord]:
        newest_first: Iterator[KeyRecord]
        if self._in_order:
            newest_first = reversed(self._records.values())
        else:
            # Newest first; among equal times the later insert first, as SQLite's seq does.
            ranked = sorted(
                enumerate(self._records.values()),
                key=lambda pair: (pair[1].created_at, pair[0]),
                reverse=True,
            )
            newest_first = (record for _, record in ranked)
        selected = (
            r
            for r in newest_first
            if r.workspace_id == workspace_id and (include_disabled or not r.disabled)
        )
        return list(islice(selected, offset, offset + limit))

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

    def clear(self) -> None:
        self._records.clear()
        self._usage.clear()
        self._in_order = True


_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    disabled INTEGER NOT NULL,
    "limit" REAL,
    limit_reset TEXT,
    include_byok_in_limit INTEGER NOT NULL,
    created_us INTEGER NOT NULL,
    updated_us INTEGER,
    expires_us INTEGER,
    creator_user_id TEXT,
    external_user TEXT,
    last_used_us INTEGER
);
CREATE INDEX IF NOT EXISTS keys_by_workspace ON keys (workspace_id, created_us, seq);
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    amount REAL NOT NULL,
    byok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_hash ON usage (hash, at_us);
"""

_COLUMNS = (
    'hash, name, label, workspace_id, disabled, "limit", limit_reset, include_byok_in_limit,'
    " created_us, updated_us, expires_us, creator_user_id, external_user, last_used_us"
)


def _us(value: datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def _dt(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def _row(record: KeyRecord) -> tuple[Any, ...]:
    return (
        record.hash,
        record.name,
        record.label,
        record.workspace_id,
        int(record.disabled),
        record.limit,
        record.limit_reset,
        int(record.include_byok_in_limit),
        to_micros(record.created_at),
        _us(record.updated_at),
        _us(record.expires_at),
        record.creator_user_id,
        record.external_user,
        _us(record.last_used_at),
    )


def _record(row: tuple[Any, ...]) -> KeyRecord:
    created = from_micros(row[8])
    return KeyRecord(
        hash=row[0],
        name=row[1],
        label=row[2],
        workspace_id=row[3],
        disabled=bool(row[4]),
        limit=row[5],
        limit_reset=row[6],
        include_byok_in_limit=bool(row[7]),
        created_at=created,
        updated_at=_dt(row[9]),
        expires_at=_dt(row[10]),
        creator_user_id=row[11],
        external_user=row[12],
        last_used_at=_dt(row[13]),
    )


class SQLiteStore(Store):
    """Records in an SQLite file (WAL journal), so they survive a restart.

    One connection guarded by a lock: the server's loop thread and a test thread driving the
    emulator may both call in.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def insert(self, record: KeyRecord) -> bool:
        with self._lock:
            try:
                self._db.execute(
                    f"INSERT INTO keys ({_COLUMNS}) VALUES ({', '.join('?' * 14)})",
                    _row(record),
                )
            except sqlite3.IntegrityError:
                return False
            return True

    def get(self, key_hash: str) -> KeyRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM keys WHERE hash = ?", (key_hash,)
            ).fetchone()
        return None if row is None else _record(row)

    def replace(self, record: KeyRecord) -> bool:
        values = _row(record)
        with self._lock:
            cursor = self._db.execute(
                'UPDATE keys SET name=?, label=?, workspace_id=?, disabled=?, "limit"=?,'
                " limit_reset=?, include_byok_in_limit=?, created_us=?, updated_us=?,"
                " expires_us=?, creator_user_id=?, external_user=?, last_used_us=?"
                " WHERE hash = ?",
                (*values[1:], values[0]),
            )
            return cursor.rowcount == 1

    def delete(self, key_hash: str) -> bool:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM usage WHERE hash = ?", (key_hash,))
                cursor = self._db.execute("DELETE FROM keys WHERE hash = ?", (key_hash,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return cursor.rowcount == 1

    def list(
        self, *, workspace_id: str, include_disabled: bool, offset: int, limit: int
    ) -> list[KeyRecord]:
        where = "workspace_id = ?" + ("" if include_disabled else " AND disabled = 0")
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM keys WHERE {where}"
                " ORDER BY created_us DESC, seq DESC LIMIT ? OFFSET ?",
                (workspace_id, limit, offset),
            ).fetchall()
        return [_record(row) for row in rows]

    def add_usage(self, key_hash: str, event: UsageEvent) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO usage (hash, at_us, amount, byok)"
                " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM keys WHERE hash = ?)",
                (key_hash, event.at, event.amount, int(event.byok), key_hash),
            )
            return cursor.rowcount == 1

    def usage(self, key_hash: str, windows: Windows) -> UsageTotals:
        with self._lock:
            row = self._db.execute(
                "SELECT"
                " TOTAL(CASE WHEN byok = 0 THEN amount END),"
                " TOTAL(CASE WHEN byok = 0 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 0 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 0 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 1 THEN amount END),"
                " TOTAL(CASE WHEN byok = 1 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 1 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 1 AND at_us >= ? THEN amount END)"
                " FROM usage WHERE hash = ?",
                (
                    windows.day,
                    windows.week,
                    windows.month,
                    windows.day,
                    windows.week,
                    windows.month,
                    key_hash,
                ),
            ).fetchone()
        return UsageTotals(*(float(v) for v in row))

    def count(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM keys").fetchone()
        return int(n)

    def clear(self) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM usage")
            self._db.execute("DELETE FROM keys")
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

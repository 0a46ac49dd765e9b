"""``SQLiteStore``: records in an SQLite file (WAL journal), so they survive a restart.

Several server processes may share one file: every write is one transaction that changes
only the columns it means to change, so one process's update never undoes another's.
"""

from __future__ import annotations

import builtins
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from .paging import LISTING_FIELDS, ResumePoint, ResumePoints
from .records import KeyRecord
from .store import Store, check_changes
from .usage import ZERO, UsageEvent, UsageTotals, Windows, from_micros, to_micros

__all__ = ["SQLiteStore"]

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
-- Serves the list order (newest first, then the later insert) within a workspace.
CREATE INDEX IF NOT EXISTS keys_by_workspace ON keys (workspace_id, created_us, seq);
CREATE INDEX IF NOT EXISTS keys_by_expiry ON keys (expires_us) WHERE expires_us IS NOT NULL;
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    amount REAL NOT NULL,
    byok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_hash ON usage (hash, at_us);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Columns added after the first release: a file made by an older version gains them.
_ADDED_COLUMNS = {"external_key_sha256": "TEXT"}

_FIELDS = (
    "hash",
    "name",
    "label",
    "workspace_id",
    "disabled",
    "limit",
    "limit_reset",
    "include_byok_in_limit",
    "created_at",
    "updated_at",
    "expires_at",
    "creator_user_id",
    "external_user",
    "last_used_at",
    "external_api_key_sha256",
)
_COLUMN_OF = {
    "limit": '"limit"',
    "created_at": "created_us",
    "updated_at": "updated_us",
    "expires_at": "expires_us",
    "last_used_at": "last_used_us",
    "external_api_key_sha256": "external_key_sha256",
}
_TIMES = frozenset({"created_at", "updated_at", "expires_at", "last_used_at"})
_BOOLS = frozenset({"disabled", "include_byok_in_limit"})
_COLUMNS = ", ".join(_COLUMN_OF.get(f, f) for f in _FIELDS)


def _to_db(field: str, value: Any) -> Any:
    if value is None:
        return None
    if field in _TIMES:
        return to_micros(value)
    if field in _BOOLS:
        return int(value)
    return value


def _dt(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def _record(row: tuple[Any, ...]) -> KeyRecord:
    # Spelled out rather than looped over _FIELDS: this runs for every row of every page.
    return KeyRecord(
        hash=row[0],
        name=row[1],
        label=row[2],
        workspace_id=row[3],
        disabled=bool(row[4]),
        limit=row[5],
        limit_reset=row[6],
        include_byok_in_limit=bool(row[7]),
        created_at=from_micros(row[8]),
        updated_at=_dt(row[9]),
        expires_at=_dt(row[10]),
        creator_user_id=row[11],
        external_user=row[12],
        last_used_at=_dt(row[13]),
        external_api_key_sha256=row[14],
    )


class SQLiteStore(Store):
    """Records in an SQLite file (WAL journal).

    One connection guarded by a lock: the server's loop thread and a test thread driving the
    emulator may both call in. Raises ``sqlite3.DatabaseError`` when the file is not an SQLite
    database.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._writes = 0
        self._resume = ResumePoints()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._transaction():
                # Statement by statement: executescript() would commit midway.
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                present = {row[1] for row in self._db.execute("PRAGMA table_info(keys)")}
                for column, kind in _ADDED_COLUMNS.items():
                    if column not in present:
                        self._db.execute(f"ALTER TABLE keys ADD COLUMN {column} {kind}")
        except BaseException:
            self._db.close()
            raise

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, taken at once so that two processes never deadlock."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def insert(self, record: KeyRecord) -> bool:
        values = tuple(_to_db(f, getattr(record, f)) for f in _FIELDS)
        with self._lock:
            try:
                self._db.execute(
                    f"INSERT INTO keys ({_COLUMNS}) VALUES ({', '.join('?' * len(_FIELDS))})",
                    values,
                )
            except sqlite3.IntegrityError:
                return False
            self._writes += 1
            return True

    def get(self, key_hash: str) -> KeyRecord | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM keys WHERE hash = ?", (key_hash,)
            ).fetchone()
        return None if row is None else _record(row)

    def update(self, key_hash: str, changes: Mapping[str, Any]) -> KeyRecord | None:
        check_changes(changes)
        assignments = ", ".join(f"{_COLUMN_OF.get(f, f)} = ?" for f in changes)
        values = [_to_db(f, v) for f, v in changes.items()]
        with self._lock, self._transaction():
            if changes:
                cursor = self._db.execute(
                    f"UPDATE keys SET {assignments} WHERE hash = ?", (*values, key_hash)
                )
                if cursor.rowcount != 1:
                    return None
                if not LISTING_FIELDS.isdisjoint(changes):
                    self._writes += 1
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM keys WHERE hash = ?", (key_hash,)
            ).fetchone()
        return None if row is None else _record(row)

    def delete(self, key_hash: str) -> bool:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM usage WHERE hash = ?", (key_hash,))
            cursor = self._db.execute("DELETE FROM keys WHERE hash = ?", (key_hash,))
            self._writes += 1
            return cursor.rowcount == 1

    def _version(self) -> tuple[int, int]:
        # data_version changes when another connection (another process) commits.
        (theirs,) = self._db.execute("PRAGMA data_version").fetchone()
        return self._writes, int(theirs)

    def _expiry_between(self, low: int, high: int) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM keys WHERE expires_us > ? AND expires_us <= ? LIMIT 1", (low, high)
        ).fetchone()
        return row is not None

    def list(
        self,
        *,
        workspace_id: str,
        include_disabled: bool,
        offset: int,
        limit: int,
        active_at: datetime | None = None,
    ) -> list[KeyRecord]:
        where = ["workspace_id = ?"]
        params: list[Any] = [workspace_id]
        if not include_disabled:
            where.append("disabled = 0")
        active_us = None if active_at is None else to_micros(active_at)
        if active_us is not None:
            where.append("(expires_us IS NULL OR expires_us > ?)")
            params.append(active_us)
        shape = (workspace_id, include_disabled, active_at is None)
        with self._lock:
            version = self._version()  # before the query: a later commit only invalidates
            start = self._resume.seek(
                shape, offset, version, limit, active_us, self._expiry_between
            )
            skip = offset
            if start is not None:
                where.append("(created_us, seq) < (?, ?)")
                params.extend(start[0])
                skip = start[1]
            rows = self._db.execute(
                f"SELECT created_us, seq, {_COLUMNS} FROM keys WHERE {' AND '.join(where)}"
                " ORDER BY created_us DESC, seq DESC LIMIT ? OFFSET ?",
                (*params, limit, skip),
            ).fetchall()
            if rows and len(rows) == limit:
                last = rows[-1]
                self._resume.remember(
                    shape, offset + limit, ResumePoint((last[0], last[1]), version, active_us)
                )
        return [_record(row[2:]) for row in rows]

    def add_usage(self, key_hash: str, event: UsageEvent) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO usage (hash, at_us, amount, byok)"
                " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM keys WHERE hash = ?)",
                (key_hash, event.at, event.amount, int(event.byok), key_hash),
            )
            return cursor.rowcount == 1

    def usage(self, key_hash: str, windows: Windows) -> UsageTotals:
        return self.usage_of([key_hash], windows)[0]

    def usage_of(self, key_hashes: Sequence[str], windows: Windows) -> builtins.list[UsageTotals]:
        # One query for a whole page instead of one per key.
        if not key_hashes:
            return []
        marks = ", ".join("?" * len(key_hashes))
        with self._lock:
            rows = self._db.execute(
                "SELECT hash,"
                " TOTAL(CASE WHEN byok = 0 THEN amount END),"
                " TOTAL(CASE WHEN byok = 0 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 0 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 0 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 1 THEN amount END),"
                " TOTAL(CASE WHEN byok = 1 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 1 AND at_us >= ? THEN amount END),"
                " TOTAL(CASE WHEN byok = 1 AND at_us >= ? THEN amount END)"
                f" FROM usage WHERE hash IN ({marks}) GROUP BY hash",
                (
                    windows.day,
                    windows.week,
                    windows.month,
                    windows.day,
                    windows.week,
                    windows.month,
                    *key_hashes,
                ),
            ).fetchall()
        found = {row[0]: UsageTotals(*(float(v) for v in row[1:])) for row in rows}
        return [found.get(key_hash, ZERO) for key_hash in key_hashes]

    def count(self) -> int:
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM keys").fetchone()
        return int(n)

    def claim_setting(self, name: str, value: str) -> str:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)", (name, value)
            )
            (kept,) = self._db.execute(
                "SELECT value FROM settings WHERE name = ?", (name,)
            ).fetchone()
        return str(kept)

    def clear(self) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM usage")
            self._db.execute("DELETE FROM keys")
            self._writes += 1

    def close(self) -> None:
        with self._lock:
            self._db.close()

"""The ``Store`` interface: where keys and their spend live (``MemoryStore``, ``SQLiteStore``).

Stores are synchronous on purpose. The server calls them from its event loop without awaiting
in between a read and the write that depends on it, so no two requests of one process
interleave inside one operation; SQLite calls on a local file are short enough not to need a
thread pool, and each write is one transaction, so several processes may share a file.
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .records import KeyRecord
from .usage import UsageEvent, UsageTotals, Windows

__all__ = ["UPDATABLE_FIELDS", "Store"]

#: The record fields ``Store.update`` may change (everything but the hash, label and creation).
UPDATABLE_FIELDS = frozenset(
    {
        "name",
        "workspace_id",
        "disabled",
        "limit",
        "limit_reset",
        "include_byok_in_limit",
        "updated_at",
        "expires_at",
        "creator_user_id",
        "external_user",
        "last_used_at",
    }
)


def check_changes(changes: Mapping[str, Any]) -> None:
    """Refuse a field ``Store.update`` may not change (a programming error)."""
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"cannot update {', '.join(sorted(unknown))}")


class Store(abc.ABC):
    """Storage of key records (by hash) and of the spend recorded on them."""

    @abc.abstractmethod
    def insert(self, record: KeyRecord) -> bool:
        """Add a new record; return False (and change nothing) if its hash exists."""

    @abc.abstractmethod
    def get(self, key_hash: str) -> KeyRecord | None:
        """Return the record with this hash, or None."""

    @abc.abstractmethod
    def update(self, key_hash: str, changes: Mapping[str, Any]) -> KeyRecord | None:
        """Change only the given fields of a record, atomically; return the record as it is
        afterwards, or None if there is none. Fields not named keep whatever value they have
        in the store at that moment, even if another process just changed them."""

    @abc.abstractmethod
    def delete(self, key_hash: str) -> bool:
        """Remove a record and its spend; return False if there was none."""

    @abc.abstractmethod
    def list(
        self,
        *,
        workspace_id: str,
        include_disabled: bool,
        offset: int,
        limit: int,
        active_at: datetime | None = None,
    ) -> list[KeyRecord]:
        """Return a page of a workspace's records, most recently created first (among equal
        creation times, the later insert first). With ``active_at``, records expired at that
        time are left out. Walking page after page costs the same on every page."""

    @abc.abstractmethod
    def add_usage(self, key_hash: str, event: UsageEvent) -> bool:
        """Record spend on a key; return False if the key does not exist."""

    @abc.abstractmethod
    def usage(self, key_hash: str, windows: Windows) -> UsageTotals:
        """Return the spend totals of a key for the given windows."""

    def usage_of(self, key_hashes: Sequence[str], windows: Windows) -> builtins.list[UsageTotals]:
        """Return the spend totals of several keys (a page of them), in the same order."""
        return [self.usage(key_hash, windows) for key_hash in key_hashes]

    @abc.abstractmethod
    def count(self) -> int:
        """Return the number of stored records."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every record and all spend."""

    @abc.abstractmethod
    def claim_setting(self, name: str, value: str) -> str:
        """Keep ``value`` under ``name`` unless a value is kept there already; return the kept
        one. Settings survive ``clear()``; atomic across processes sharing a file."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do for most stores
        """Release resources; the store is not used afterwards."""

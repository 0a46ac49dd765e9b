"""Everything one server instance knows: management key, store, clock, faults, rate limit.

``ServerState`` is also the Python control surface that tests use instead of the
``/_emulator/`` HTTP endpoints: record spend, move the clock, queue faults, reset.
"""

from __future__ import annotations

import hmac
import json
import math
import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from .clock import Clock
from .connections import DEFAULT_HEADER_TIMEOUT, ConnectionGuard
from .errors import ServerConfigError
from .faults import Fault, FaultInjector
from .memory_store import MemoryStore
from .ratelimit import RateLimiter
from .records import KeyRecord, hash_secret, mask_secret, new_secret
from .redact import install_redaction
from .sqlite_store import SQLiteStore
from .store import Store
from .usage import UsageEvent, to_micros

__all__ = ["MANAGEMENT_KEY_SETTING", "ServerState"]


#: Where a store keeps the management key's SHA-256 and label (JSON).
MANAGEMENT_KEY_SETTING = "management_key"


def _open_store(db: str | Path) -> SQLiteStore:
    path = Path(db)
    if not path.parent.is_dir():
        raise ServerConfigError(f"db: the folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise ServerConfigError(f"db: {str(path)!r} is a folder, not a database file")
    try:
        return SQLiteStore(path)
    except sqlite3.DatabaseError as exc:
        raise ServerConfigError(
            f"db: {str(path)!r} is not an SQLite database or cannot be opened ({exc})"
        ) from None


class ServerState:
    """The state of one server: pass it to ``create_app()`` or a runner.

    ``store`` None keeps keys in memory unless ``db`` names an SQLite file; ``clock`` is a
    ``Clock`` or any callable returning an aware UTC datetime; ``rate_limit`` is requests a
    second per key; ``header_timeout`` (seconds) and ``max_connections`` bound what slow or
    numerous clients can hold (see ``ConnectionGuard``).

    The management key is kept in the store, as a SHA-256 like every key, the first time a
    store is used: ``management_key`` None generates one then (``generated_management_key``
    is True: print it, nobody else knows it). On a store that has one already (an SQLite file
    used before), ``management_key`` None keeps it — known by its hash only, so
    ``management_key`` stays None — and a key that does not match it raises
    ``ServerConfigError``.
    """

    def __init__(
        self,
        *,
        management_key: str | None = None,
        store: Store | None = None,
        db: str | Path | None = None,
        clock: Clock | Callable[[], datetime] | None = None,
        rate_limit: float | None = None,
        header_timeout: float = DEFAULT_HEADER_TIMEOUT,
        max_connections: int | None = None,
    ) -> None:
        # A store passed in is the caller's to close; one made here is ours.
        self._owns_store = store is None
        if store is None:
            store = _open_store(db) if db is not None else MemoryStore()
        self.store: Store = store
        try:
            self._adopt_management_key(management_key or None, db)
        except BaseException:
            self.close()
            raise
        self.clock: Clock = clock if isinstance(clock, Clock) else Clock(clock)
        self.faults = FaultInjector()
        self.rate_limit = rate_limit
        self.limiter: RateLimiter | None = RateLimiter(rate_limit) if rate_limit else None
        self.connections = ConnectionGuard(header_timeout, max_connections)

    def _adopt_management_key(self, given: str | None, db: str | Path | None) -> None:
        candidate = given or new_secret()
        mine = {"sha256": hash_secret(candidate), "label": mask_secret(candidate)}
        kept = json.loads(self.store.claim_setting(MANAGEMENT_KEY_SETTING, json.dumps(mine)))
        if kept["sha256"] == mine["sha256"]:
            self.management_key: str | None = candidate
            self.generated_management_key = given is None
            install_redaction(candidate)
        elif given is not None:
            where = f"the database {str(db)!r}" if db is not None else "this store"
            raise ServerConfigError(
                f"management key: {where} was set up with another management key; start it "
                "with that key, or with none to keep it (the key given is not shown)"
            )
        else:
            self.management_key = None
            self.generated_management_key = False
        self._management_digest = bytes.fromhex(kept["sha256"])
        self.management_label: str = kept["label"]

    def is_management_digest(self, digest: bytes) -> bool:
        """Compare a presented token's SHA-256 with the management key's, in constant time."""
        return hmac.compare_digest(digest, self._management_digest)

    def now(self) -> datetime:
        """Return the emulator's current time."""
        return self.clock.now()

    def record_usage(self, key_hash: str, amount: float, *, byok: bool = False) -> KeyRecord:
        """Record ``amount`` USD of credit (or BYOK) spend on a key, now by the clock.

        Raises ``KeyError`` for an unknown hash and ``ValueError`` for a negative or
        non-finite amount.
        """
        if not math.isfinite(amount) or amount < 0:
            raise ValueError("amount must be a finite, non-negative number")
        now = self.clock.now()
        if not self.store.add_usage(key_hash, UsageEvent(to_micros(now), float(amount), byok)):
            raise KeyError("no key with this hash")
        record = self.store.update(key_hash, {"last_used_at": now})
        if record is None:  # deleted by another process in between
            raise KeyError("no key with this hash")
        return record

    def inject_fault(
        self,
        path: str = "*",
        *,
        method: str = "*",
        status: int | None = None,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
        drop: bool = False,
    ) -> Fault:
        """Queue a fault for the next ``times`` requests matching ``method`` and ``path``.

        ``path`` is an exact path or a glob (``/api/v1/keys*``); a path not under
        ``/api/v1`` is taken relative to it (``/keys*``). See ``Fault`` for what happens.
        """
        return self.faults.add(
            Fault(
                path=path,
                method=method,
                times=times,
                status=status,
                headers=headers or {},
                body=body,
                delay=delay,
                drop=drop,
            )
        )

    def reset(self) -> None:
        """Forget every key, all spend, queued faults and rate-limit buckets; real time again."""
        self.store.clear()
        self.faults.clear()
        if self.limiter is not None:
            self.limiter.reset()
        self.clock.resume()

    def close(self) -> None:
        """Close the store if this state opened it."""
        if self._owns_store:
            self.store.close()

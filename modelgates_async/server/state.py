"""Everything one server instance knows: management key, store, clock, faults, rate limit.

``ServerState`` is also the Python control surface that tests use instead of the
``/_emulator/`` HTTP endpoints: record spend, move the clock, queue faults, reset.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from .clock import Clock
from .faults import Fault, FaultInjector
from .memory_store import MemoryStore
from .ratelimit import RateLimiter
from .records import KeyRecord, hash_secret, mask_secret, new_secret
from .redact import install_redaction
from .sqlite_store import SQLiteStore
from .store import Store
from .usage import UsageEvent, to_micros

__all__ = ["ServerState"]


class ServerState:
    """The state of one server: pass it to ``create_app()`` or a runner.

    ``management_key`` None generates one (see ``generated_management_key``); ``store`` None
    keeps keys in memory unless ``db`` names an SQLite file; ``clock`` is a ``Clock`` or any
    callable returning an aware UTC datetime; ``rate_limit`` is requests a second per key.
    """

    def __init__(
        self,
        *,
        management_key: str | None = None,
        store: Store | None = None,
        db: str | Path | None = None,
        clock: Clock | Callable[[], datetime] | None = None,
        rate_limit: float | None = None,
    ) -> None:
        self.generated_management_key = not management_key
        self.management_key: str = management_key or new_secret()
        self._management_digest = bytes.fromhex(hash_secret(self.management_key))
        self.management_label = mask_secret(self.management_key)
        install_redaction(self.management_key)
        # A store passed in is the caller's to close; one made here is ours.
        self._owns_store = store is None
        if store is None:
            store = SQLiteStore(db) if db is not None else MemoryStore()
        self.store: Store = store
        self.clock: Clock = clock if isinstance(clock, Clock) else Clock(clock)
        self.faults = FaultInjector()
        self.rate_limit = rate_limit
        self.limiter: RateLimiter | None = RateLimiter(rate_limit) if rate_limit else None

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

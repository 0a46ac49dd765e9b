"""A per-key token bucket: N requests a second, so a client pacing itself at N/s passes."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]

_MAX_BUCKETS = 10_000


class RateLimiter:
    """Token buckets of ``rate`` tokens refilled per second, holding at most ``burst``."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(rate, 1.0))
        self._monotonic = monotonic
        self._buckets: dict[str, list[float]] = {}

    def acquire(self, key: str) -> int:
        """Take a token for ``key``; return 0 if allowed, else the seconds to wait (≥ 1)."""
        now = self._monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= _MAX_BUCKETS:
                self._buckets.clear()  # forgetting idle clients only ever lets more through
            bucket = self._buckets[key] = [self.burst, now]
        else:
            bucket[0] = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
            bucket[1] = now
        if bucket[0] >= 1.0:
            bucket[0] -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket[0]) / self.rate))

    def reset(self) -> None:
        """Forget every bucket."""
        self._buckets.clear()

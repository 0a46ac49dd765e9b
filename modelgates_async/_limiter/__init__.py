"""Client-wide rate limiters: the interface, and the in-process adaptive one.

The Redis-shared limiter lives in :mod:`modelgates_async._limiter.shared` and is reached
through :mod:`modelgates_async.redis`, so that importing the client never imports redis.
"""

from __future__ import annotations

from modelgates_async._limiter.adaptive import AdaptiveLimiter
from modelgates_async._limiter.base import RateLimiter

__all__ = ["AdaptiveLimiter", "RateLimiter"]

"""One rate limit for many processes: :class:`RedisRateLimiter` (extra ``redis``).

``pip install 'modelgates-async[redis]'``, then::

    from modelgates_async import AsyncModelGates
    from modelgates_async.redis import RedisRateLimiter

    limiter = RedisRateLimiter("redis://localhost:6379/0", key="modelgates-prod")
    async with AsyncModelGates(rate_limiter=limiter) as mg:
        ...

Every client of every process that uses the same Redis and ``key`` shares the pause a 429
asks for, the window of calls in flight and the optional ``max_rate``. When Redis is down,
clients fall back to their own in-process limiter (one warning) until it returns.
"""

from __future__ import annotations

import os
from typing import Any

from modelgates_async._limiter.shared import RedisRateLimiter

__all__ = ["REDIS_URL_ENV", "RedisRateLimiter", "limiter_from_env_or_url"]

#: The environment variable command-line tools read a Redis URL from.
REDIS_URL_ENV = "MODELGATES_REDIS_URL"


def limiter_from_env_or_url(url: str | None = None, **options: Any) -> RedisRateLimiter | None:
    """A :class:`RedisRateLimiter` for ``url``, else ``$MODELGATES_REDIS_URL``, else None.

    For command-line tools (``--redis URL``): the URL given wins over the environment;
    neither means None, the in-process limiter. ``options`` go to :class:`RedisRateLimiter`.
    """
    url = url or os.environ.get(REDIS_URL_ENV) or None
    if url is None:
        return None
    return RedisRateLimiter(url, **options)

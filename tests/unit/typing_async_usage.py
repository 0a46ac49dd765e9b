"""Code written against the async client; ``test_iterators.py`` runs mypy --strict on it.

``# type: ignore[code]`` lines are mistakes mypy must catch: with ``warn_unused_ignores``
(part of --strict) an ignore that is not needed fails the check.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

from modelgates_async import APIKey, AsyncModelGates, BulkItem, CreatedKey, KeySpec, RetryConfig


async def use(mg: AsyncModelGates) -> None:
    keys = mg.api_keys
    async with aclosing(keys.iter(include_disabled=True)) as every:
        async for key in every:
            print(key.hash)
            break
    async with aclosing(keys.create_many_iter([KeySpec("a")])) as created:
        async for item in created:
            done: BulkItem[CreatedKey] = item
            print(done.index)
    over: AsyncGenerator[APIKey, None] = keys.over_limit(0.8)
    await over.aclose()
    await keys.get_many_iter(["h"]).aclose()
    await keys.delete_many_iter(["h"]).aclose()
    await keys.update_many_iter([("h", {"disabled": True})]).aclose()
    mg.timeout = 5.0  # type: ignore[assignment]
    mg.retries = RetryConfig.disabled()  # type: ignore[assignment]
    limit: float = mg.timeout
    print(limit)

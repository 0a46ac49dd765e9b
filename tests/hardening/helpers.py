"""Helpers of the hardening tests that talk to a hostile server of their own."""

from __future__ import annotations

from typing import Any

from modelgates_async import AsyncModelGates, RetryConfig

KEY = "mgmt-" + "0123abcd" * 6
NO_RETRIES = RetryConfig.disabled()


async def get(base_url: str, path: str, **client: Any) -> Any:
    """One GET through the client's transport (the endpoints' own path); ``client`` holds
    the client's options."""
    async with AsyncModelGates(KEY, base_url=base_url, retries=NO_RETRIES, **client) as mg:
        return await mg._transport.request("GET", path, timeout=30, retries=NO_RETRIES)

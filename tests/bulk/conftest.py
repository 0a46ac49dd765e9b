"""Helpers for the bulk tests: what the server holds."""

from __future__ import annotations

from collections import Counter

from modelgates_async import AsyncModelGates


async def names_on_server(client: AsyncModelGates) -> Counter[str]:
    """How many keys of each name the server holds, disabled ones included."""
    return Counter([key.name async for key in client.api_keys.iter(include_disabled=True)])

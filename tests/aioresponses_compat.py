"""aioresponses 0.7.9 builds ``ClientResponse`` without the ``stream_writer`` that aiohttp
3.14 requires; this supplies a null writer so the mock works on every aiohttp we support."""

from __future__ import annotations

import inspect
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import ClientResponse
from aioresponses import aioresponses
from aioresponses import core as aioresponses_core
from yarl import URL


class _CompatResponse(ClientResponse):
    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", types.SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


_NEEDS_WRITER = "stream_writer" in inspect.signature(ClientResponse.__init__).parameters


@contextmanager
def mocked_aiohttp() -> Iterator[aioresponses]:
    """``aioresponses()`` that works on aiohttp 3.9 … 3.14+."""
    original = aioresponses_core.ClientResponse
    if _NEEDS_WRITER:
        aioresponses_core.ClientResponse = _CompatResponse  # type: ignore[misc]
    try:
        with aioresponses() as mock:
            yield mock
    finally:
        aioresponses_core.ClientResponse = original  # type: ignore[misc]

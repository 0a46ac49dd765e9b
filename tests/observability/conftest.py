"""Fixtures for hooks, spans, raw responses and client copies: recorders and an exporter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from modelgates_async import AsyncModelGates
from modelgates_async.server import LocalServer
from tests.observability.helpers import NO_WAIT, Recorder, traced_in_memory


@pytest.fixture
def recorder() -> Recorder:
    """A fresh hook recorder."""
    return Recorder()


@pytest.fixture
async def client(modelgates_server: LocalServer) -> AsyncIterator[AsyncModelGates]:
    """An async client of the session's server with zero backoff."""
    async with AsyncModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        retries=NO_WAIT,
    ) as mg:
        yield mg


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Trace this SDK into an in-memory exporter for the test (the global provider untouched)."""
    with traced_in_memory() as exporter:
        yield exporter

"""Fixtures for hooks, spans, raw responses and client copies: recorders and an exporter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from modelgates_async import AsyncModelGates, RetryConfig
from modelgates_async._tracing import use_tracer_provider
from modelgates_async.server import LocalServer

NO_WAIT = RetryConfig(initial_backoff=0.0, max_backoff=0.0, jitter=0.0)


class Recorder:
    """Hooks that append ``(kind, event)`` to one list, in call order; sync and async."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def hooks(self) -> dict[str, list[Any]]:
        """One sync request hook, one async response hook, one sync retry hook."""

        def on_request(event: Any) -> None:
            self.events.append(("request", event))

        async def on_response(event: Any) -> None:
            self.events.append(("response", event))

        def on_retry(event: Any) -> None:
            self.events.append(("retry", event))

        return {"request": [on_request], "response": [on_response], "retry": [on_retry]}

    def kinds(self) -> list[tuple[str, int]]:
        """(kind, attempt) of each event, in order."""
        return [(kind, event.attempt) for kind, event in self.events]


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
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        use_tracer_provider(None)
        provider.shutdown()

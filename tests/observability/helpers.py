"""Helpers of the hook, span, raw-response and client-copy tests: a hook recorder, zero
backoff, an in-memory span exporter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from modelgates_async import RetryConfig
from modelgates_async._tracing import use_tracer_provider

NO_WAIT = RetryConfig(initial_backoff=0.0, max_backoff=0.0, jitter=0.0)


@contextmanager
def traced_in_memory() -> Iterator[InMemorySpanExporter]:
    """This SDK traced into an in-memory exporter for the block (the global provider
    untouched)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    use_tracer_provider(provider)
    try:
        yield exporter
    finally:
        use_tracer_provider(None)
        provider.shutdown()


def bulk_parent(
    exporter: InMemorySpanExporter, name: str, item_name: str, items: int
) -> ReadableSpan:
    """The one finished span ``name``, checked to be an INTERNAL span that is the parent of
    exactly the ``items`` finished spans named ``item_name``."""
    finished = exporter.get_finished_spans()
    (parent,) = [span for span in finished if span.name == name]
    children = [span for span in finished if span.name == item_name]
    assert len(children) == items
    assert parent.kind is SpanKind.INTERNAL
    assert parent.context is not None
    assert all(c.parent is not None for c in children)
    assert {c.parent.span_id for c in children if c.parent} == {parent.context.span_id}
    return parent


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

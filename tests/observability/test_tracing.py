"""OpenTelemetry: one CLIENT span per call around its retries, bulk parents, nothing secret."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from contextlib import aclosing

import pytest
from aiohttp import web
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from modelgates_async import AsyncModelGates, BadRequestError, ModelGates, NotFoundError
from modelgates_async._tracing import current_tracer
from modelgates_async.server import LocalServer
from tests.helpers import current_key_record, serving
from tests.observability.helpers import NO_WAIT, bulk_parent

MISSING = "0" * 64


async def test_a_retried_call_is_one_span_with_its_resend_count(
    client: AsyncModelGates, modelgates_server: LocalServer, spans: InMemorySpanExporter
) -> None:
    """Two 503s then 200: one CLIENT span, resend_count 2, final status 200, no error."""
    created = await client.api_keys.create("traced")
    spans.clear()
    modelgates_server.inject_fault("/keys/*", method="GET", status=503, times=2)
    await client.api_keys.get(created.data.hash)
    (span,) = spans.get_finished_spans()
    assert span.name == "api_keys.get"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attributes = dict(span.attributes or {})
    assert attributes == {
        "modelgates.operation": "api_keys.get",
        "http.request.method": "GET",
        "url.template": "/api/v1/keys/{hash}",
        "server.address": "127.0.0.1",
        "server.port": int(modelgates_server.base_url.rsplit(":", 1)[1].split("/")[0]),
        "http.response.status_code": 200,
        "http.request.resend_count": 2,
    }
    assert [(e.name, dict(e.attributes or {})) for e in span.events] == [
        ("retry", {"modelgates.attempt": n, "modelgates.retry.wait": 0.0, "error.type": "503"})
        for n in (1, 2)
    ]


async def test_a_failed_call_records_its_error(
    client: AsyncModelGates, spans: InMemorySpanExporter
) -> None:
    """A 404: error.type "404", status ERROR, the exception recorded as an event."""
    with pytest.raises(NotFoundError):
        await client.api_keys.get(MISSING)
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None
    assert span.attributes["error.type"] == "404"
    assert span.attributes["http.response.status_code"] == 404
    assert "http.request.resend_count" not in span.attributes
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert str(event.attributes["exception.type"]).endswith("NotFoundError")


async def test_a_connection_failure_names_the_exception_class(
    spans: InMemorySpanExporter, unused_tcp_port: int
) -> None:
    """No answer at all: error.type is the SDK exception's class, no status code."""
    from modelgates_async import APIConnectionError, RetryConfig

    async with AsyncModelGates(
        api_key="sk-test-key",
        base_url=f"http://127.0.0.1:{unused_tcp_port}/api/v1",
        retries=RetryConfig.disabled(),
    ) as mg:
        with pytest.raises(APIConnectionError):
            await mg.api_keys.get_current_key_metadata()
    (span,) = spans.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["error.type"] == "APIConnectionError"
    assert "http.response.status_code" not in span.attributes


async def test_a_bulk_call_is_the_parent_of_its_items(
    client: AsyncModelGates, spans: InMemorySpanExporter
) -> None:
    """create_many: an INTERNAL span whose children are the creates' CLIENT spans."""
    result = await client.api_keys.create_many([{"name": f"bulk {i}"} for i in range(3)])
    assert result.succeeded == 3
    parent = bulk_parent(spans, "api_keys.create_many", "api_keys.create", 3)
    assert parent.attributes is not None
    assert parent.attributes["modelgates.bulk.total"] == 3
    assert parent.attributes["modelgates.bulk.failed"] == 0


async def test_no_span_holds_a_secret_a_hash_or_a_body(
    client: AsyncModelGates, modelgates_server: LocalServer, spans: InMemorySpanExporter
) -> None:
    """Every attribute and event of create/get/update/failed-get is free of secrets and hashes."""
    created = await client.api_keys.create("quiet", limit=5)
    await client.api_keys.get(created.data.hash)
    await client.api_keys.update(created.data.hash, name="quieter")
    modelgates_server.inject_fault("/keys/*", method="DELETE", status=400, times=1)
    with pytest.raises(BadRequestError):
        await client.api_keys.delete(created.data.hash)
    finished = spans.get_finished_spans()
    assert len(finished) == 4
    for span in finished:
        shown = repr(dict(span.attributes or {})) + span.name
        shown += "".join(repr(dict(e.attributes or {})) for e in span.events)
        for secret in (created.key, modelgates_server.management_key, created.data.hash, "quiet"):
            assert secret not in shown


async def test_no_span_without_a_configured_provider(client: AsyncModelGates) -> None:
    """With OpenTelemetry's default (proxy) provider, tracing is off: no tracer at all."""
    assert current_tracer() is None
    await client.api_keys.get_current_key_metadata()


def test_the_global_provider_is_picked_up_and_a_missing_api_is_fine(
    modelgates_server: LocalServer,
) -> None:
    """In fresh processes: a global SDK provider gets spans; without the API, calls still work."""
    with_provider = textwrap.dedent(
        f"""
        import asyncio
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from modelgates_async import AsyncModelGates

        import modelgates_async._tracing
        modelgates_async._tracing.PROVIDER_RECHECK_SECONDS = 0.0  # look at every call

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))

        async def main():
            async with AsyncModelGates(api_key={modelgates_server.management_key!r},
                                       base_url={modelgates_server.base_url!r}) as mg:
                await mg.api_keys.get_current_key_metadata()   # before: not traced
                trace.set_tracer_provider(provider)
                await mg.api_keys.get_current_key_metadata()   # after: traced
        asyncio.run(main())
        print([s.name for s in exporter.get_finished_spans()])
        """
    )
    without_api = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.modules["opentelemetry"] = None  # as if not installed
        from modelgates_async import AsyncModelGates
        from modelgates_async._tracing import current_tracer

        async def main():
            async with AsyncModelGates(api_key={modelgates_server.management_key!r},
                                       base_url={modelgates_server.base_url!r}) as mg:
                key = await mg.api_keys.get_current_key_metadata()
            print(key.is_management_key, current_tracer())
        asyncio.run(main())
        """
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        ).stdout.strip()
        for code in (with_provider, without_api)
    ]
    assert outputs == ["['api_keys.get_current_key_metadata']", "True None"]


async def test_a_bulk_iter_call_is_the_parent_of_its_items_and_not_of_the_caller(
    client: AsyncModelGates, spans: InMemorySpanExporter
) -> None:
    """create_many_iter: an INTERNAL parent of the creates' spans, current only while the
    generator runs (the caller's code between items sees its own context)."""
    seen_between: list[bool] = []
    async with aclosing(
        client.api_keys.create_many_iter([{"name": f"iter {i}"} for i in range(3)])
    ) as items:
        async for item in items:
            assert item.ok
            seen_between.append(trace.get_current_span().get_span_context().is_valid)
    assert seen_between == [False, False, False]
    parent = bulk_parent(spans, "api_keys.create_many_iter", "api_keys.create", 3)
    assert parent.attributes is not None
    assert parent.attributes["modelgates.bulk.total"] == 3
    assert parent.attributes["modelgates.bulk.failed"] == 0


async def test_a_collected_bulk_call_makes_one_parent_not_two(
    client: AsyncModelGates, spans: InMemorySpanExporter
) -> None:
    """get_many runs get_many_iter: its own span is the only parent (no ``_iter`` span)."""
    created = await client.api_keys.create("one")
    spans.clear()
    result = await client.api_keys.get_many([created.data.hash, MISSING])
    assert (result.succeeded, result.failed) == (1, 1)
    names = sorted(s.name for s in spans.get_finished_spans())
    assert names == ["api_keys.get", "api_keys.get", "api_keys.get_many"]


async def test_a_bulk_iter_stopped_early_ends_its_span_without_an_error(
    client: AsyncModelGates, spans: InMemorySpanExporter
) -> None:
    """Breaking out of get_many_iter ends the parent span, counting what was yielded."""
    created = await client.api_keys.create("early")
    spans.clear()
    async with aclosing(
        client.api_keys.get_many_iter([MISSING, created.data.hash], concurrency=1)
    ) as items:
        async for item in items:
            assert not item.ok
            break
    (parent,) = [s for s in spans.get_finished_spans() if s.name == "api_keys.get_many_iter"]
    assert parent.status.status_code is StatusCode.UNSET
    assert parent.attributes is not None
    assert parent.attributes["modelgates.bulk.total"] == 1
    assert parent.attributes["modelgates.bulk.failed"] == 1


def test_a_sync_bulk_iter_call_is_the_parent_of_its_items(
    modelgates_server: LocalServer, spans: InMemorySpanExporter
) -> None:
    """The sync facade's delete_many_iter, driven from another thread, parents its deletes."""
    with ModelGates(modelgates_server.management_key, base_url=modelgates_server.base_url) as mg:
        hashes = [mg.api_keys.create(f"sync {i}").data.hash for i in range(2)]
        spans.clear()
        assert [item.ok for item in mg.api_keys.delete_many_iter(hashes)] == [True, True]
    bulk_parent(spans, "api_keys.delete_many_iter", "api_keys.delete", 2)


async def _headers_seen(default_headers: dict[str, str] | None = None) -> list[str]:
    """The traceparent headers a server saw for one call retried once (503, then 200)."""
    seen: list[str] = []

    async def current_key(request: web.Request) -> web.Response:
        seen.append(request.headers.get("traceparent", ""))
        if len(seen) == 1:
            return web.json_response({"error": {"code": 503, "message": "busy"}}, status=503)
        return web.json_response({"data": current_key_record()})

    app = web.Application()
    app.router.add_get("/api/v1/key", current_key)
    async with (
        serving(app) as base_url,
        AsyncModelGates(
            "sk-mg-v1-" + "1" * 64,
            base_url=base_url,
            retries=NO_WAIT,
            default_headers=default_headers,
        ) as mg,
    ):
        await mg.api_keys.get_current_key_metadata()
    return seen


async def test_a_traced_call_sends_its_span_as_traceparent(spans: InMemorySpanExporter) -> None:
    """Every attempt carries the call span's W3C traceparent (replacing a default header of
    that name), so a server that traces can join the caller's trace."""
    seen = await _headers_seen(default_headers={"traceparent": "00-stale"})
    (span,) = spans.get_finished_spans()  # the one call, both attempts in it
    assert span.context is not None
    context = span.context
    expected = f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    assert seen == [expected, expected]


async def test_an_untraced_call_sends_no_traceparent() -> None:
    """No provider configured: the headers are the client's own, nothing added."""
    assert await _headers_seen() == ["", ""]

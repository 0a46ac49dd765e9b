"""The hardening holds on the observed path too (hooks, spans, total_timeout) and in copies.

A call with event hooks, an OpenTelemetry span or a ``total_timeout`` goes through
``_observe.py`` instead of the transport's fast path: its secrets, body cap and session
must be the same there, and a ``with_options()`` copy keeps the cap and the parent's session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from modelgates_async import (
    APIResponseValidationError,
    AsyncModelGates,
    ModelGatesError,
    ResponseEvent,
    RetryConfig,
)
from tests.hardening.helpers import NO_RETRIES
from tests.hardening.secrets import (
    CLIENT_KEY,
    ECHO,
    EXTERNAL,
    echo_body,
    exception_texts,
    leaks,
)
from tests.helpers import mocked_aiohttp, serving
from tests.observability.helpers import traced_in_memory

CAP = 64 * 1024


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """This SDK traced into an in-memory exporter for the test (the global provider untouched)."""
    with traced_in_memory() as exporter:
        yield exporter


@pytest.fixture
async def big() -> AsyncIterator[str]:
    """A server on 127.0.0.1 answering 256 KiB of JSON, streamed without a length."""

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_type = "application/json"
        await response.prepare(request)
        try:
            for _ in range(4):
                await response.write(b" " * CAP)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return response

    async def small(request: web.Request) -> web.Response:
        return web.json_response({"data": "ok"})

    app = web.Application()
    app.router.add_get("/api/v1/big", endless)
    app.router.add_get("/api/v1/small", small)
    async with serving(app) as base_url:
        yield base_url


def span_texts(exporter: InMemorySpanExporter) -> list[str]:
    """Every string value of every finished span's attributes and events."""
    texts: list[str] = []
    for span in exporter.get_finished_spans():
        attribute_sets = [span.attributes or {}, *(e.attributes or {} for e in span.events)]
        for attributes in attribute_sets:
            texts.extend(str(value) for value in attributes.values())
    return texts


async def test_observed_calls_mask_hook_headers_span_texts_and_errors(
    spans: InMemorySpanExporter,
) -> None:
    """Hooks and a span on: a call's own secret is masked in hook headers, spans and errors."""
    base = "https://api.test/api/v1"
    planted = (CLIENT_KEY, ECHO, EXTERNAL)
    events: list[ResponseEvent] = []
    errors: list[BaseException] = []
    echoed = {"X-Echo": " ".join(planted)}
    with mocked_aiohttp() as mock:
        async with AsyncModelGates(
            CLIENT_KEY,
            base_url=base,
            retries=NO_RETRIES,
            event_hooks={"response": [events.append]},
        ) as client:
            mock.get(f"{base}/key", status=200, payload={"data": {}}, headers=echoed)
            mock.get(f"{base}/key", status=403, payload=echo_body(403, *planted), headers=echoed)
            mock.get(f"{base}/key", status=200, body=" ".join(planted))

            async def call() -> Any:
                return await client._transport.request(
                    "GET", "/key", timeout=5, retries=NO_RETRIES, secrets=(EXTERNAL,)
                )

            assert await call() == {"data": {}}
            for _ in range(2):
                with pytest.raises(ModelGatesError) as info:
                    await call()
                errors.append(info.value)
    assert [event.status for event in events] == [200, 403]
    assert [event.headers["X-Echo"] for event in events] == ["*** *** ***"] * 2
    assert len(spans.get_finished_spans()) == 3
    assert leaks(span_texts(spans), planted) == []
    for error in errors:
        assert leaks(exception_texts(error), planted) == []


@pytest.mark.parametrize(
    "observed",
    [
        {"event_hooks": {"request": [lambda event: None]}},
        {"retries": RetryConfig(attempts=1, total_timeout=30.0)},
    ],
    ids=["hooks", "total_timeout"],
)
async def test_the_body_cap_holds_on_the_observed_path(big: str, observed: dict[str, Any]) -> None:
    """With hooks or a total_timeout, a body over max_response_bytes is refused as well."""
    options: dict[str, Any] = {"retries": NO_RETRIES, **observed}
    async with AsyncModelGates(
        CLIENT_KEY, base_url=big, max_response_bytes=CAP, **options
    ) as client:
        assert client._transport.hooks is not None or options["retries"].total_timeout
        with pytest.raises(APIResponseValidationError, match="larger than max_response_bytes"):
            await client._transport.request("GET", "/big", timeout=5, retries=options["retries"])


async def test_a_with_options_copy_keeps_the_cap_and_the_parents_session(big: str) -> None:
    """A copy has its parent's max_response_bytes and calls over the parent's own session."""
    async with AsyncModelGates(
        CLIENT_KEY, base_url=big, retries=NO_RETRIES, max_response_bytes=CAP
    ) as client:
        copy = client.with_options(timeout=5.0)
        assert await copy._transport.request("GET", "/small", timeout=5, retries=NO_RETRIES) == {
            "data": "ok"
        }
        assert await copy._get_session() is await client._get_session()
        with pytest.raises(APIResponseValidationError, match=f"max_response_bytes \\({CAP} "):
            await copy._transport.request("GET", "/big", timeout=5, retries=NO_RETRIES)
        await copy.aclose()
        assert client._session is not None
        assert not client._session.closed

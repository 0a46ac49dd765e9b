"""OpenTelemetry: one CLIENT span per SDK call (its retries inside), a parent span per bulk call.

Only ``opentelemetry-api`` is used (extra ``otel``). It is imported at the first call, not
with the package, and while no tracer provider is configured (or the API is not installed)
:func:`current_tracer` returns None and the transport takes its plain path: nothing is
measured, nothing allocated. Attributes follow the HTTP client semantic conventions
(``http.request.method``, ``url.template``, ``server.address``, ``http.response.status_code``,
``http.request.resend_count``, ``error.type``) plus ``modelgates.operation``; no URL with a
hash, no body, no header and no secret is ever recorded.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from modelgates_async._version import __version__
from modelgates_async.errors import APIStatusError

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = [
    "current_tracer",
    "finish_call_span",
    "retry_event",
    "start_call_span",
    "trace_headers",
    "traced_bulk",
    "traced_items",
]

T = TypeVar("T")

INSTRUMENTATION_NAME = "modelgates_async"
OPERATION = "modelgates.operation"

PROVIDER_RECHECK_SECONDS = 1.0
"""While no provider is configured, how often to look again (asking costs ~2 µs a call)."""

_UNLOADED: Any = object()
_api: Any = _UNLOADED  # the opentelemetry.trace module; None when it is not installed
_provider_override: TracerProvider | None = None
_seen_tracer: Tracer | None = None
_next_check = 0.0  # monotonic time of the next look at the global provider
# True while a ``*_many`` call's span is the parent of what runs: its ``*_many_iter``
# generator then makes no span of its own.
_IN_BULK_SPAN: ContextVar[bool] = ContextVar("modelgates_in_bulk_span", default=False)


def _load() -> Any:
    global _api
    trace: Any
    try:
        from opentelemetry import trace
    except ImportError:
        trace = None
    _api = trace
    return trace


def current_tracer() -> Tracer | None:
    """The tracer to use for this call, or None when tracing is off.

    Off when ``opentelemetry-api`` is not installed or no tracer provider is configured
    (the API's default proxy or no-op provider). Once a provider is configured the tracer
    is made once and kept; until then the global provider is looked at again at most every
    :data:`PROVIDER_RECHECK_SECONDS`, so a provider set after the first calls is picked up
    within a second.
    """
    global _next_check, _seen_tracer
    tracer = _seen_tracer
    if tracer is not None:
        return tracer  # OpenTelemetry sets the global provider once: resolved for good
    api = _api
    if api is None:
        return None
    if api is _UNLOADED:
        api = _load()
        if api is None:
            return None
    now = time.monotonic()
    if now < _next_check:
        return None
    _next_check = now + PROVIDER_RECHECK_SECONDS
    provider = _provider_override or api.get_tracer_provider()
    if isinstance(provider, (api.ProxyTracerProvider, api.NoOpTracerProvider)):
        return None
    _seen_tracer = provider.get_tracer(INSTRUMENTATION_NAME, __version__)
    return _seen_tracer


def use_tracer_provider(provider: TracerProvider | None) -> None:
    """Trace with ``provider`` instead of the global one (None: back to the global).

    OpenTelemetry lets the global provider be set once per process; tests and programs
    that want their own provider for this SDK alone use this instead.
    """
    global _provider_override, _next_check, _seen_tracer
    _provider_override = provider
    _seen_tracer, _next_check = None, 0.0


def start_call_span(
    tracer: Tracer, operation: str, method: str, url_template: str, host: str, port: int | None
) -> Span:
    """Start (not activate: nothing nests below it) the CLIENT span of one SDK call."""
    attributes: dict[str, str | int] = {
        OPERATION: operation,
        "http.request.method": method,
        "url.template": url_template,
        "server.address": host,
    }
    if port is not None:
        attributes["server.port"] = port
    return tracer.start_span(operation, kind=_api.SpanKind.CLIENT, attributes=attributes)


def trace_headers(span: Span) -> dict[str, str]:
    """The headers that carry ``span``'s context to the server (W3C ``traceparent`` with
    OpenTelemetry's default propagators; whatever ``OTEL_PROPAGATORS`` configures, nothing
    for ``none``), as HTTP client instrumentations send them."""
    from opentelemetry import propagate
    from opentelemetry.trace import set_span_in_context

    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=set_span_in_context(span))
    return carrier


def finish_call_span(
    span: Span,
    *,
    status: int | None,
    attempts: int,
    error: BaseException | None,
    redact: Callable[[str], str],
) -> None:
    """Record the outcome of the call (last status, resends, error) and end the span."""
    outcome: dict[str, int] = {}
    if status is not None:
        outcome["http.response.status_code"] = status
    if attempts > 1:
        outcome["http.request.resend_count"] = attempts - 1
    if outcome:
        span.set_attributes(outcome)
    if error is not None:
        _record_error(span, error, redact)
    span.end()


def retry_event(
    span: Span, attempt: int, wait: float, status: int | None, error: BaseException
) -> None:
    """Note on the call's span that ``attempt`` failed and the next follows in ``wait`` s."""
    attributes: dict[str, str | int | float] = {
        "modelgates.attempt": attempt,
        "modelgates.retry.wait": wait,
        "error.type": str(status) if status is not None else type(error).__name__,
    }
    span.add_event("retry", attributes)


def _record_error(span: Span, error: BaseException, redact: Callable[[str], str]) -> None:
    from opentelemetry.trace import Status, StatusCode

    # Semantic conventions: the status code for an HTTP error, else the exception's class.
    error_type = str(error.status) if isinstance(error, APIStatusError) else type(error).__name__
    span.set_attribute("error.type", error_type)
    # The default stack trace would print chained third-party messages as they are.
    span.record_exception(
        error,
        attributes={
            "exception.message": redact(str(error)),
            "exception.stacktrace": redact("".join(traceback.format_exception(error))),
        },
    )
    span.set_status(Status(StatusCode.ERROR, type(error).__name__))


async def traced_bulk(operation: str, call: Awaitable[T]) -> T:
    """Await a bulk call inside an INTERNAL span that is the parent of its items' spans.

    The items run in tasks created while the span is current, so they inherit it.
    """
    tracer = current_tracer()
    if tracer is None:
        return await call
    from opentelemetry.trace import SpanKind

    with tracer.start_as_current_span(
        operation,
        kind=SpanKind.INTERNAL,
        attributes={OPERATION: operation},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        inside = _IN_BULK_SPAN.set(True)
        try:
            result = await call
        except BaseException as exc:
            _record_error(span, exc, str)
            raise
        finally:
            _IN_BULK_SPAN.reset(inside)
        total, failed = getattr(result, "total", None), getattr(result, "failed", None)
        if isinstance(total, int) and isinstance(failed, int):  # a BulkResult
            span.set_attribute("modelgates.bulk.total", total)
            span.set_attribute("modelgates.bulk.failed", failed)
        return result


def traced_items(operation: str, items: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """The items of a ``*_many_iter`` call, inside an INTERNAL span that is their parent.

    ``items`` as it is when tracing is off. A generator cannot keep a span current across
    its ``yield`` (the context is the caller's between items), so the span is made current
    only while ``items`` runs: its workers, started then, inherit it, and the caller's own
    code between items never sees it.
    """
    tracer = current_tracer()
    if tracer is None:
        return items
    return _traced_items(tracer, operation, items)


async def _traced_items(
    tracer: Tracer, operation: str, items: AsyncGenerator[T, None]
) -> AsyncGenerator[T, None]:
    if _IN_BULK_SPAN.get():  # collected by its ``*_many`` twin, whose span is the parent
        async with aclosing(items):
            async for item in items:
                yield item
        return
    from opentelemetry import context
    from opentelemetry.trace import SpanKind, set_span_in_context

    span = tracer.start_span(operation, kind=SpanKind.INTERNAL, attributes={OPERATION: operation})
    current = set_span_in_context(span)
    total = failed = 0
    try:
        while True:
            token = context.attach(current)
            try:
                item = await items.__anext__()
            except StopAsyncIteration:
                break
            finally:
                context.detach(token)
            total += 1
            failed += getattr(item, "ok", True) is False
            yield item
    except GeneratorExit:  # the caller stopped early: not an error of the call
        raise
    except BaseException as exc:
        _record_error(span, exc, str)
        raise
    finally:
        token = context.attach(current)
        try:
            await items.aclose()  # cancels what is in flight, under the span
        finally:
            context.detach(token)
            span.set_attributes({"modelgates.bulk.total": total, "modelgates.bulk.failed": failed})
            span.end()

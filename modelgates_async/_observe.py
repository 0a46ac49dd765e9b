"""One call, observed: event hooks, its OpenTelemetry span, a raw capture, a deadline.

The transport sends a call here only when one of them is on, so a client without hooks,
tracing or ``total_timeout`` never pays for them. The attempts are the transport's own
(:meth:`Transport.attempt`); this module wraps each one and the call as a whole.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp
from yarl import URL

from modelgates_async._hooks import (
    EventHooks,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    operation_name,
    path_template,
    safe_headers,
)
from modelgates_async._raw import CAPTURE, NO_HEADERS, Exchange
from modelgates_async._retry import (
    RetryConfig,
    is_retryable,
    retry_after_first_failure,
    total_timeout_error,
)
from modelgates_async._tracing import (
    current_tracer,
    finish_call_span,
    retry_event,
    start_call_span,
    trace_headers,
)
from modelgates_async.errors import APIStatusError, APITimeoutError, ModelGatesError

if TYPE_CHECKING:
    from collections.abc import Coroutine, Mapping

    from opentelemetry.trace import Span

    from modelgates_async._redact import Redactor

__all__ = ["Attempts", "observed_request"]


class Attempts(Protocol):
    """What an observed request needs of its transport (``_transport.Transport`` has it;
    declared here so that this module, which the transport calls, does not import it)."""

    @property
    def hooks(self) -> EventHooks | None: ...

    @property
    def base_url(self) -> str: ...

    async def attempt(
        self,
        method: str,
        path: str,
        url: URL,
        data: bytes | None,
        client_timeout: aiohttp.ClientTimeout,
        retries: RetryConfig,
        redactor: Redactor,
        first: bool = False,
        exchange: Exchange | None = None,
        idempotent: bool | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Any: ...


_detached: set[asyncio.Task[None]] = set()  # strong references until the hooks are done


@functools.lru_cache(maxsize=64)
def _target(base_url: str) -> tuple[str, str, int | None]:
    """(path prefix, host, port) of a base URL, parsed once."""
    parsed = URL(base_url)
    return parsed.path, parsed.host or "", parsed.port


def _detach(hooks_call: Coroutine[Any, Any, None]) -> None:
    task = asyncio.ensure_future(hooks_call)
    _detached.add(task)
    task.add_done_callback(_detached.discard)


async def observed_request(
    transport: Attempts,
    method: str,
    path: str,
    url: URL,
    data: bytes | None,
    timeout: float,
    client_timeout: aiohttp.ClientTimeout,
    retries: RetryConfig,
    idempotent: bool,
    redactor: Redactor,
) -> Any:
    """Send the request as the transport would, with whatever observes it switched on.

    ``redactor`` (the client's secrets and the call's) masks hook headers and span texts.
    """
    hooks = transport.hooks
    capture = CAPTURE.get()
    tracer = current_tracer()
    template = path_template(path)
    operation = operation_name(method, template)
    clock = asyncio.get_running_loop().time
    total = retries.total_timeout
    deadline = None if total is None else clock() + total
    attempts = 0
    last_status: int | None = None

    async def on_response(number: int, status: int, headers: Mapping[str, str], t0: float) -> None:
        nonlocal last_status
        last_status = status
        if hooks is not None and hooks.response:
            event = ResponseEvent(
                operation,
                method,
                template,
                number,
                status,
                time.perf_counter() - t0,
                safe_headers(headers, redactor.text),
            )
            await hooks.emit(hooks.response, "response", event)

    async def attempt(first: bool = False) -> Any:
        nonlocal attempts
        attempts += 1
        number = attempts
        attempt_timeout = client_timeout
        if deadline is not None:
            remaining = deadline - clock()
            if remaining <= 0:
                raise total_timeout_error(retries, method, path, number - 1, None)
            if remaining < timeout:  # the last attempt that fits: shortened to end in time
                attempt_timeout = aiohttp.ClientTimeout(total=remaining)
        if hooks is not None and hooks.request:
            await hooks.emit(
                hooks.request, "request", RequestEvent(operation, method, template, number)
            )
        exchange = Exchange()
        t0 = time.perf_counter()
        try:
            result = await transport.attempt(
                method,
                path,
                url,
                data,
                attempt_timeout,
                retries,
                redactor,
                first,
                exchange,
                extra_headers=propagated,
            )
        except APIStatusError as exc:
            await on_response(number, exc.status, exc.headers, t0)
            raise
        except APITimeoutError as exc:
            if attempt_timeout is not client_timeout:
                raise total_timeout_error(retries, method, path, number, exc) from exc
            raise
        status, headers = (
            exchange.status or 200,
            exchange.headers or NO_HEADERS,
        )
        if capture is not None:
            capture.status, capture.headers = status, headers
        if idempotent:
            # After the body is read and decoded: a hook that raises is logged, no more.
            await on_response(number, status, headers, t0)
        else:
            # A create's secret is in ``result``: it must not wait on a hook, which a
            # cancellation could interrupt. Its response hooks run in a task of their own.
            _detach(on_response(number, status, headers, t0))
        return result

    async def on_retry(failed: int, wait: float, exc: BaseException) -> None:
        status = exc.status if isinstance(exc, APIStatusError) else None
        if span is not None:
            retry_event(span, failed, wait, status, exc)
        if hooks is not None and hooks.retry:
            event = RetryEvent(
                operation, method, template, failed, wait, status, type(exc).__name__
            )
            await hooks.emit(hooks.retry, "retry", event)

    span: Span | None = None
    propagated: dict[str, str] | None = None
    if tracer is not None:
        prefix, host, port = _target(transport.base_url)
        span = start_call_span(tracer, operation, method, prefix + template, host, port)
        propagated = trace_headers(span) or None
    error: BaseException | None = None
    try:
        try:
            return await attempt(True)
        except ModelGatesError as exc:
            retryable = not (isinstance(exc, APITimeoutError) and exc.total_timeout is not None)
            if (
                not retryable
                or retries.attempts <= 1
                or not is_retryable(exc, retries, idempotent=idempotent)
            ):
                raise
            first_failure = exc
        return await retry_after_first_failure(
            attempt,
            first_failure,
            retries,
            idempotent=idempotent,
            method=method,
            path=path,
            deadline=deadline,
            on_retry=on_retry if span is not None or (hooks is not None and hooks.retry) else None,
        )
    except BaseException as exc:
        error = exc
        raise
    finally:
        if span is not None:
            finish_call_span(
                span,
                status=last_status,
                attempts=attempts,
                error=error,
                # Error texts name the path: the span names the template, never a hash.
                redact=lambda text: redactor.text(text).replace(path, template),
            )

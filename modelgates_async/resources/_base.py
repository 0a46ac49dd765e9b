"""The base of every resource namespace: its client, the per-call options, one request.

A resource reads the client's ``timeout`` / ``retries`` (and its transport) when a call
starts, not when the resource was made, so that there is one place where a client's settings
live. Every endpoint method takes keyword-only ``timeout=`` / ``retries=`` that override them
for that call; :meth:`AsyncResource._options` checks those.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar

from modelgates_async._bulk import (
    BulkItem,
    BulkResult,
    ProgressCallback,
    collect,
    iter_bulk,
    requeue_rate_limited,
)
from modelgates_async._convert import structure
from modelgates_async._retry import RetryConfig
from modelgates_async._tracing import traced_bulk
from modelgates_async._transport import Transport
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._validation import check_retries, check_timeout
from modelgates_async.errors import APIResponseValidationError

__all__ = ["Arguments", "AsyncResource", "ClientSettings", "data_of"]

T = TypeVar("T")

Arguments = tuple[tuple[Any, ...], dict[str, Any]]
"""What a bulk input becomes once checked: the endpoint's positional and keyword arguments."""


class ClientSettings(Protocol):
    """What a resource needs of its client (``AsyncModelGates`` has it)."""

    @property
    def timeout(self) -> float: ...

    @property
    def retries(self) -> RetryConfig: ...

    @property
    def _transport(self) -> Transport: ...


class AsyncResource:
    """A namespace of endpoints on one client (``client.api_keys``)."""

    __slots__ = ("_client",)

    def __init__(self, client: ClientSettings) -> None:
        self._client = client

    def _options(
        self, timeout: float | NotGiven, retries: RetryConfig | NotGiven
    ) -> tuple[float, RetryConfig]:
        """This call's timeout and retry policy: the arguments given, else the client's."""
        client = self._client
        return (
            client.timeout if isinstance(timeout, NotGiven) else check_timeout(timeout),
            client.retries if isinstance(retries, NotGiven) else check_retries(retries),
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        timeout: float | NotGiven,
        retries: RetryConfig | NotGiven,
        **send: Any,
    ) -> Awaitable[Any]:
        """Send one request with this call's options; await it for the decoded JSON body.

        Not a coroutine itself: it checks the options and hands back the transport's
        coroutine, one frame less on every call (bad options still raise at the call).
        """
        client = self._client
        # Inline when neither is given (the usual call): no _options() frame, no tuple.
        return client._transport.request(
            method,
            path,
            timeout=client.timeout if timeout is NOT_GIVEN else check_timeout(timeout),
            retries=client.retries if retries is NOT_GIVEN else check_retries(retries),
            **send,
        )

    async def _bulk(
        self,
        endpoint: Callable[..., Awaitable[T]],
        inputs: Iterable[Any],
        prepare: Callable[[Any], Arguments],
        what: str,
        concurrency: int,
        on_progress: ProgressCallback | None,
        timeout: float | NotGiven,
        retries: RetryConfig | NotGiven,
        *,
        requeue: Callable[[RetryConfig], Callable[[Exception], bool]] = requeue_rate_limited,
    ) -> AsyncGenerator[BulkItem[T], None]:
        """Call ``endpoint`` once per input, ``concurrency`` at a time, with this call's options.

        ``prepare`` runs the endpoint's own checks on an input before anything is sent (an
        input it refuses fails alone) and returns the arguments to call it with. Every bulk
        method is this one path, so a bulk call follows the rules of its single-call twin —
        creates included: the transport's rule for retrying a POST holds. ``requeue`` makes,
        from the call's retry policy, the test of which failures go back into the queue.
        """
        call_timeout, call_retries = self._options(timeout, retries)

        async def call(arguments: Arguments) -> T:
            args, kwargs = arguments
            return await endpoint(*args, **kwargs, timeout=call_timeout, retries=call_retries)

        async for item in iter_bulk(
            inputs,
            prepare,
            call,
            concurrency=concurrency,
            on_progress=on_progress,
            requeue=requeue(call_retries),
            what=what,
        ):
            yield item

    async def _collect(
        self, operation: str, items: AsyncGenerator[BulkItem[T], None]
    ) -> BulkResult[T]:
        """Gather a bulk call's items into a :class:`BulkResult`, inside the call's span.

        ``operation`` (``"api_keys.create_many"``) names the parent span of the items' own
        spans when tracing is on (see ``_tracing.traced_bulk``).
        """
        return await traced_bulk(operation, collect(items))


def data_of(body: Any, cls: type[T]) -> T:
    """The record of ``cls`` in a ``{"data": ...}`` body, or APIResponseValidationError."""
    if not isinstance(body, dict) or "data" not in body:
        raise APIResponseValidationError(
            "The response does not match the schema: $.data: required field missing",
            status=200,
            body=body,
            errors=("$.data: required field missing",),
        )
    return structure(body["data"], cls, path="$.data")

"""The base of every resource namespace: its client, the per-call options, one request.

A client's ``timeout`` / ``retries`` live in its transport (one place; read-only, since
``with_options()`` makes a new client with a transport of its own). Every endpoint method
takes keyword-only ``timeout=`` / ``retries=`` that override them for that call; the
transport's ``request()`` checks those, and :meth:`AsyncResource._options` for bulk calls.
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
from modelgates_async._retry import RetryConfig
from modelgates_async._tracing import traced_bulk
from modelgates_async._transport import Transport
from modelgates_async._types import NotGiven
from modelgates_async._validation import check_retries, check_timeout

__all__ = ["Arguments", "AsyncResource", "ClientSettings"]

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

    __slots__ = ("_client", "_request")

    def __init__(self, client: ClientSettings) -> None:
        self._client = client
        # Endpoints call the transport's request() itself, with their timeout= / retries=
        # (NOT_GIVEN: the client's): no frame of the resource's own on every call.
        self._request = client._transport.request

    def _options(
        self, timeout: float | NotGiven, retries: RetryConfig | NotGiven
    ) -> tuple[float, RetryConfig]:
        """This call's timeout and retry policy: the arguments given, else the client's."""
        client = self._client
        return (
            client.timeout if isinstance(timeout, NotGiven) else check_timeout(timeout),
            client.retries if isinstance(retries, NotGiven) else check_retries(retries),
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

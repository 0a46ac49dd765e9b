"""Raw responses: the status and headers of a call beside its usual record.

``mg.api_keys.with_raw_response.get(h)`` runs the very same ``get`` with a capture slot set
in a context variable; the transport fills it with the last attempt's status and headers
(openai-python's ``with_raw_response``, without a second code path per endpoint).
"""

from __future__ import annotations

from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Generic, TypeVar

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["CAPTURE", "NO_HEADERS", "Exchange", "RawResponse", "capture_raw"]

T = TypeVar("T")


class Exchange:
    """The status and headers of one HTTP answer, filled in by the transport."""

    __slots__ = ("headers", "status")

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: CIMultiDictProxy[str] | None = None


NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
"""The headers of an answer that recorded none (read-only, so one serves everywhere)."""

CAPTURE: ContextVar[Exchange | None] = ContextVar("modelgates_raw_capture", default=None)
"""Set while a ``with_raw_response`` call runs: where the transport puts what it received."""


class RawResponse(Generic[T]):
    """An HTTP answer of the API and the record it holds.

    ``status`` and ``headers`` are the last attempt's (``x-request-id``, ``retry-after``,
    rate-limit headers...); :meth:`parse` returns what the plain method returns.
    """

    __slots__ = ("_value", "headers", "status")

    def __init__(self, status: int, headers: CIMultiDictProxy[str], value: T) -> None:
        self.status = status
        self.headers = headers
        self._value = value

    def __repr__(self) -> str:
        # Never the value or the headers: a create's value holds a secret.
        return f"<RawResponse status={self.status}>"

    def parse(self) -> T:
        """The record the plain method returns (``APIKey``, ``CreatedKey``, ``True`` ...)."""
        return self._value


async def capture_raw(call: Awaitable[T]) -> RawResponse[T]:
    """Await an SDK call and return its value with the status and headers it got."""
    exchange = Exchange()
    token = CAPTURE.set(exchange)
    try:
        value = await call
    finally:
        CAPTURE.reset(token)
    status = exchange.status if exchange.status is not None else 200
    headers = exchange.headers if exchange.headers is not None else NO_HEADERS
    return RawResponse(status, headers, value)

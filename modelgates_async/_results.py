"""What a bulk run gives back: one outcome per input, in input order.

- :class:`BulkItem`: one input's value or exception.
- :class:`BulkResult`: every input's item; ``raise_for_errors()`` raises
  :class:`~modelgates_async.errors.BulkError`.
- :func:`partial_result_of`: the ``.partial_result`` an interrupted bulk call attached to
  its ``CancelledError`` / ``KeyboardInterrupt`` — also when an ``asyncio.timeout`` or
  ``wait_for`` turned it into a ``TimeoutError`` (the cancellation is its ``__cause__``).

Nothing here logs or shows a value: the values of ``create_many`` hold secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar, cast, overload

import attrs

from modelgates_async._redact import redacted_repr
from modelgates_async.errors import BulkError

__all__ = [
    "BulkItem",
    "BulkResult",
    "Progress",
    "ProgressCallback",
    "attach_partial_result",
    "partial_result_of",
]

logger = logging.getLogger("modelgates_async")

T = TypeVar("T")

ProgressCallback = Callable[[int, int, int], object]
"""``on_progress(done, total, failed)``: called once at the start (done=0), then after each
item finishes, in the event loop's thread."""


# An external API key need not look like ``sk-…``: a mapping input's ``external_api_key``
# (or ``"external": {"api_key"}``, the wire's spelling) is masked by its name.
_MASK = "***"


def _masked(value: Any, *, inside_external: bool = False) -> Any:
    if isinstance(value, Mapping):
        return {
            key: _MASK
            if key == "external_api_key" or (inside_external and key == "api_key")
            else _masked(item, inside_external=key == "external")
            for key, item in value.items()
        }
    if isinstance(value, (tuple, list)):
        return type(value)(_masked(item) for item in value)
    return value


def _input_repr(value: Any) -> str:
    """The repr of a bulk input, its external API key and ``sk-…`` values masked."""
    return redacted_repr(_masked(value))


@attrs.frozen
class BulkItem(Generic[T]):
    """What became of one input: ``value`` when ``ok``, else ``error``.

    ``index`` is the input's position; ``input`` is the input as given.
    """

    index: int
    # A secret passed as a hash by mistake, or a mapping spec's external_api_key.
    input: Any = attrs.field(repr=_input_repr)
    value: T | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """True when the call succeeded."""
        return self.error is None

    def unwrap(self) -> T:
        """The value, or raise the item's exception."""
        if self.error is not None:
            raise self.error
        return cast(T, self.value)


class BulkResult(Generic[T]):
    """The outcome of a bulk run: one :class:`BulkItem` per input, in input order.

    Iterate it, index it (``result[3].value``), count it (``succeeded``, ``failed``), or call
    :meth:`raise_for_errors`. ``values`` are the successes' values, in input order.
    """

    __slots__ = ("_failed", "items")

    def __init__(self, items: Iterable[BulkItem[T]]) -> None:
        self.items: tuple[BulkItem[T], ...] = tuple(items)
        self._failed = sum(1 for item in self.items if item.error is not None)

    def __repr__(self) -> str:
        # Counts only: the values of a create_many hold secrets (masked, but still).
        return f"BulkResult(total={self.total}, succeeded={self.succeeded}, failed={self.failed})"

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[BulkItem[T]]:
        return iter(self.items)

    @overload
    def __getitem__(self, index: int) -> BulkItem[T]: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[BulkItem[T], ...]: ...
    def __getitem__(self, index: int | slice) -> BulkItem[T] | tuple[BulkItem[T], ...]:
        return self.items[index]

    @property
    def total(self) -> int:
        """How many inputs there were."""
        return len(self.items)

    @property
    def succeeded(self) -> int:
        """How many inputs succeeded."""
        return len(self.items) - self._failed

    @property
    def failed(self) -> int:
        """How many inputs failed."""
        return self._failed

    @property
    def ok(self) -> bool:
        """True when every input succeeded."""
        return self._failed == 0

    @property
    def values(self) -> list[T]:
        """The values of the inputs that succeeded, in input order."""
        return [cast(T, item.value) for item in self.items if item.error is None]

    @property
    def errors(self) -> list[BulkItem[T]]:
        """The items that failed, in input order."""
        return [item for item in self.items if item.error is not None]

    def raise_for_errors(self) -> BulkResult[T]:
        """Raise :class:`BulkError` if any input failed; else return this result."""
        if self._failed:
            raise BulkError(self)
        return self


class Progress:
    """Counts finished items and calls ``on_progress``; a callback that raises is logged
    once and dropped (a broken display must not cost the caller the results)."""

    __slots__ = ("callback", "done", "failed", "total")

    def __init__(self, callback: ProgressCallback | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0
        self.failed = 0

    def report(self, item: BulkItem[Any] | None) -> None:
        if item is not None:
            self.done += 1
            self.failed += item.error is not None
        callback = self.callback
        if callback is None:
            return
        try:
            callback(self.done, self.total, self.failed)
        except Exception:
            # A broken progress display must not cost the caller the results (the secrets
            # of created keys): say so once, loudly, and carry on without it.
            self.callback = None
            logger.exception("on_progress raised; it is not called again in this bulk run")


def attach_partial_result(interruption: BaseException, result: BulkResult[Any]) -> None:
    """Give an interruption (``CancelledError``, ``KeyboardInterrupt``…) the outcomes so far."""
    interruption.partial_result = result  # type: ignore[attr-defined]


def partial_result_of(exc: BaseException | None) -> BulkResult[Any] | None:
    """The ``.partial_result`` of an interrupted bulk call, found on ``exc`` or on the
    exceptions it was raised from (``__cause__``/``__context__``); None when there is none.

    ``asyncio.timeout()`` and ``asyncio.wait_for()`` raise a ``TimeoutError`` of their own
    from the bulk call's ``CancelledError``: this finds the result behind it.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        result = getattr(exc, "partial_result", None)
        if isinstance(result, BulkResult):
            return result
        exc = exc.__cause__ or exc.__context__
    return None

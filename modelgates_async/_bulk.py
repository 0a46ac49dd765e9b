"""Bulk runs: many calls at bounded concurrency, every input accounted for, in input order.

- :class:`KeySpec` / :class:`KeyUpdate`: what ``create_many`` / ``update_many`` take (plain
  mappings with the same keyword names work too).
- :func:`iter_bulk`: the runner. Each input is checked first (an invalid one fails alone,
  before anything is sent); then at most ``concurrency`` workers send the rest. The
  worker count *is* the bound: no task waits for a pooled connection it cannot get, and the
  client-wide :class:`~modelgates_async._limiter.AdaptiveLimiter` slows every worker
  after a 429.
- :class:`BulkResult`: per input, its value or its exception; one failure never stops or
  loses the others. :class:`BulkError` is what ``raise_for_errors()`` raises.

Nothing here logs a value: the values of ``create_many`` hold secrets.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar, cast, overload

import attrs

from modelgates_async._retry import RetryConfig
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async.errors import InvalidRequestError, ModelGatesError, RateLimitError
from modelgates_async.models import LimitReset

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BulkError",
    "BulkItem",
    "BulkResult",
    "KeySpec",
    "KeyUpdate",
    "ProgressCallback",
    "check_concurrency",
    "collect",
    "iter_bulk",
    "requeue_rate_limited",
]

logger = logging.getLogger("modelgates_async")

T = TypeVar("T")
P = TypeVar("P")

DEFAULT_CONCURRENCY = 16
"""Calls in flight at once in a bulk run unless ``concurrency=`` says otherwise."""

MAX_REQUEUES = 8
"""How many times one input may go back into the queue after a 429 that outlasted the
transport's own retries (see :func:`requeue_rate_limited`)."""

ProgressCallback = Callable[[int, int, int], object]
"""``on_progress(done, total, failed)``: called once at the start (done=0), then after each
item finishes, in the event loop's thread."""


@attrs.frozen
class KeySpec:
    """One key to create: the keyword arguments of ``api_keys.create()`` as a record.

    Fields left at ``NOT_GIVEN`` are not sent. Nothing is checked here: ``create_many``
    checks each spec with the same rules as ``create()``, so a bad spec fails alone.
    """

    name: str
    limit: float | NotGiven | None = NOT_GIVEN
    limit_reset: LimitReset | str | NotGiven | None = NOT_GIVEN
    include_byok_in_limit: bool | NotGiven = NOT_GIVEN
    expires_at: datetime | str | NotGiven | None = NOT_GIVEN
    creator_user_id: str | NotGiven | None = NOT_GIVEN
    workspace_id: str | NotGiven | None = NOT_GIVEN

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``create()`` this spec gives (NOT_GIVEN ones left out)."""
        return _given(self)


@attrs.frozen
class KeyUpdate:
    """One change for ``update_many``: the key's ``hash`` and the fields to change.

    The fields are those of ``api_keys.update()``; ``limit=None`` / ``limit_reset=None``
    clear them, NOT_GIVEN leaves them alone.
    """

    hash: str
    name: str | NotGiven = NOT_GIVEN
    disabled: bool | NotGiven = NOT_GIVEN
    limit: float | NotGiven | None = NOT_GIVEN
    limit_reset: LimitReset | str | NotGiven | None = NOT_GIVEN
    include_byok_in_limit: bool | NotGiven = NOT_GIVEN

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``update()`` (without ``hash``) this change gives."""
        given = _given(self)
        del given["hash"]
        return given


def _given(record: KeySpec | KeyUpdate) -> dict[str, Any]:
    return {
        name: value
        for name, value in attrs.asdict(record, recurse=False).items()
        if not isinstance(value, NotGiven)
    }


_SPEC_FIELDS = frozenset(a.name for a in attrs.fields(KeySpec))
_UPDATE_FIELDS = frozenset(a.name for a in attrs.fields(KeyUpdate)) - {"hash"}


def spec_arguments(spec: object) -> dict[str, Any]:
    """``create()`` keyword arguments from a :class:`KeySpec` or a mapping of them."""
    if isinstance(spec, KeySpec):
        return spec.arguments()
    if isinstance(spec, Mapping):
        _check_fields(spec, _SPEC_FIELDS, "spec")
        if "name" not in spec:
            raise InvalidRequestError("spec has no 'name'", argument="name")
        return dict(spec)
    raise InvalidRequestError(
        f"a key spec must be a KeySpec or a mapping of create() arguments, "
        f"got {type(spec).__name__}",
        argument="spec",
    )


def update_arguments(change: object) -> tuple[Any, dict[str, Any]]:
    """``(hash, update() keyword arguments)`` from a :class:`KeyUpdate`, a
    ``(hash, changes)`` pair or a mapping with a ``hash`` entry."""
    if isinstance(change, KeyUpdate):
        return change.hash, change.arguments()
    if isinstance(change, tuple) and len(change) == 2 and isinstance(change[1], Mapping):
        key_hash, changes = change
        _check_fields(changes, _UPDATE_FIELDS, "changes")
        return key_hash, dict(changes)
    if isinstance(change, Mapping):
        if "hash" not in change:
            raise InvalidRequestError("change has no 'hash'", argument="hash")
        changes = {k: v for k, v in change.items() if k != "hash"}
        _check_fields(changes, _UPDATE_FIELDS, "change")
        return change["hash"], changes
    raise InvalidRequestError(
        "a change must be a KeyUpdate, a (hash, changes) pair or a mapping with 'hash', "
        f"got {type(change).__name__}",
        argument="change",
    )


def _check_fields(given: Mapping[Any, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(str(k) for k in given if k not in allowed)
    if unknown:
        raise InvalidRequestError(
            f"{what} has unknown field(s) {', '.join(map(repr, unknown))}; "
            f"expected some of {', '.join(sorted(allowed))}",
            argument=unknown[0],
        )


@attrs.frozen
class BulkItem(Generic[T]):
    """What became of one input: ``value`` when ``ok``, else ``error``.

    ``index`` is the input's position; ``input`` is the input as given.
    """

    index: int
    input: Any
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


class BulkError(ModelGatesError):
    """Some inputs of a bulk run failed; ``result`` still holds every input's outcome.

    Raised by :meth:`BulkResult.raise_for_errors`, so the values that did succeed (the
    secrets of keys that were created) stay reachable as ``exc.result.values``.
    """

    def __init__(self, result: BulkResult[Any]) -> None:
        errors = result.errors
        kinds = Counter(type(item.error).__name__ for item in errors)
        summary = ", ".join(f"{n} × {name}" for name, n in kinds.most_common())
        first = errors[0]
        super().__init__(
            f"{result.failed} of {result.total} failed ({summary}); "
            f"first: item {first.index}: {first.error}. "
            "Every outcome, the successes included, is in .result."
        )
        self.result = result


def check_concurrency(concurrency: object) -> int:
    """A positive integer bound on calls in flight."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidRequestError(
            f"concurrency must be an integer >= 1, got {concurrency!r}", argument="concurrency"
        )
    return concurrency


def _inputs(inputs: Iterable[Any], what: str) -> list[Any]:
    if isinstance(inputs, (str, bytes, Mapping)) or not isinstance(inputs, Iterable):
        raise InvalidRequestError(
            f"{what} must be an iterable of items (a list, a generator…), "
            f"got {type(inputs).__name__}",
            argument=what,
        )
    return list(inputs)


class _Progress:
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


def requeue_rate_limited(retries: RetryConfig) -> Callable[[Exception], bool]:
    """Whether a failed call goes back into the queue: a 429 that asked for no longer wait
    than ``retries`` accepts. The server did nothing with it, so even a create is safe to
    send again; the client-wide limiter has already slowed every worker down. A config
    that does not retry 429s (one attempt, or 429 left out of ``statuses``) requeues
    nothing."""
    cap = retries.max_retry_after
    if retries.attempts <= 1 or 429 not in retries.statuses:
        return lambda exc: False

    def requeue(exc: Exception) -> bool:
        return isinstance(exc, RateLimitError) and (
            exc.retry_after is None or exc.retry_after <= cap
        )

    return requeue


async def iter_bulk(
    inputs: Iterable[Any],
    prepare: Callable[[Any], P],
    call: Callable[[P], Awaitable[T]],
    *,
    concurrency: int,
    on_progress: ProgressCallback | None = None,
    requeue: Callable[[Exception], bool] | None = None,
    max_requeues: int = MAX_REQUEUES,
    what: str = "items",
) -> AsyncIterator[BulkItem[T]]:
    """Yield one :class:`BulkItem` per input, as each finishes.

    ``prepare`` checks an input and turns it into what ``call`` sends; when it raises, the
    input fails without being sent (those items come first). Then ``concurrency`` workers
    call ``call``; an exception fails only its own item, except that an exception
    ``requeue`` accepts puts the item back at the end of the queue (at most
    ``max_requeues`` times). Closing the iterator early cancels the calls still in flight.
    """
    check_concurrency(concurrency)
    items = _inputs(inputs, what)
    progress = _Progress(on_progress, len(items))
    progress.report(None)
    pending: deque[tuple[int, Any, P]] = deque()
    refused: list[BulkItem[T]] = []
    for index, given in enumerate(items):
        try:
            pending.append((index, given, prepare(given)))
        except Exception as exc:
            refused.append(BulkItem(index, given, error=exc))
    for item in refused:
        progress.report(item)
        yield item
    if not pending:
        return

    finished: asyncio.Queue[BulkItem[T] | BaseException] = asyncio.Queue()

    requeued: Counter[int] = Counter()

    async def worker() -> None:
        while pending:
            index, given, payload = pending.popleft()
            try:
                value = await call(payload)
            except Exception as exc:
                if requeue is not None and requeued[index] < max_requeues and requeue(exc):
                    requeued[index] += 1
                    pending.append((index, given, payload))
                    continue
                finished.put_nowait(BulkItem(index, given, error=exc))
            else:
                finished.put_nowait(BulkItem(index, given, value=value))

    def on_worker_done(task: asyncio.Task[None]) -> None:
        # A worker ends early only on a BaseException (KeyboardInterrupt…): pass it on
        # instead of waiting forever for items it will never finish.
        if not task.cancelled() and task.exception() is not None:
            finished.put_nowait(cast(BaseException, task.exception()))

    count = len(pending)
    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, count))]
    for task in workers:
        task.add_done_callback(on_worker_done)
    try:
        for _ in range(count):
            outcome = await finished.get()
            if isinstance(outcome, BaseException):
                raise outcome
            progress.report(outcome)
            yield outcome
    finally:
        for task in workers:
            task.cancel()
        await asyncio.wait(workers)


async def collect(items: AsyncIterator[BulkItem[T]]) -> BulkResult[T]:
    """Drain :func:`iter_bulk` into a :class:`BulkResult` in input order."""
    outcomes: dict[int, BulkItem[T]] = {}
    try:
        async for item in items:
            outcomes[item.index] = item
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()  # cancels the calls in flight when we stop early
    return BulkResult(outcomes[i] for i in range(len(outcomes)))

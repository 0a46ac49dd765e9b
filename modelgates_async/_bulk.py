"""Bulk runs: many calls at bounded concurrency, every input accounted for, in input order.

- :class:`KeySpec` / :class:`KeyUpdate`: what ``create_many`` / ``update_many`` take (plain
  mappings with the same keyword names work too).
- :func:`iter_bulk`: the runner. Each input is checked first (an invalid one fails alone,
  before anything is sent); then at most ``concurrency`` workers send the rest. The
  worker count *is* the bound: no task waits for a pooled connection it cannot get, and the
  client-wide :class:`~modelgates_async._limiter.AdaptiveLimiter` slows every worker
  after a 429.
- :class:`BulkResult` (``_results.py``): per input, its value or its exception; one failure
  never stops or loses the others. :class:`BulkError` is what ``raise_for_errors()`` raises.
- Interrupted (the task cancelled, ``asyncio.timeout``/``wait_for``, Ctrl-C), a run stops
  starting calls, lets the calls already sent finish, then re-raises the interruption
  itself with ``.partial_result`` (see ``_pool.py``, the worker pool).

Nothing here logs a value: the values of ``create_many`` hold secrets.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs

from modelgates_async._pool import MAX_REQUEUES, check_concurrency, run_prepared
from modelgates_async._results import (
    BulkItem,
    BulkResult,
    ProgressCallback,
    attach_partial_result,
    partial_result_of,
)
from modelgates_async._retry import RetryConfig
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async.errors import InvalidRequestError, RateLimitError
from modelgates_async.models import LimitReset

__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_REQUEUES",
    "BulkItem",
    "BulkResult",
    "KeySpec",
    "KeyUpdate",
    "ProgressCallback",
    "attach_partial_result",
    "check_concurrency",
    "collect",
    "iter_bulk",
    "partial_result_of",
    "requeue_rate_limited",
    "run_prepared",
]

T = TypeVar("T")
P = TypeVar("P")

DEFAULT_CONCURRENCY = 16
"""Calls in flight at once in a bulk run unless ``concurrency=`` says otherwise."""


@attrs.frozen
class KeySpec:
    """One key to create: the keyword arguments of ``api_keys.create()`` as a record.

    Fields left at ``NOT_GIVEN`` are not sent. Nothing is checked here: ``create_many``
    checks each spec with the same rules as ``create()``, so a bad spec fails alone.
    ``external_api_key`` stays out of the repr (and a ``BulkItem``'s repr masks it in a
    plain mapping too).
    """

    name: str
    limit: float | NotGiven | None = NOT_GIVEN
    limit_reset: LimitReset | str | NotGiven | None = NOT_GIVEN
    include_byok_in_limit: bool | NotGiven = NOT_GIVEN
    expires_at: datetime | str | NotGiven | None = NOT_GIVEN
    creator_user_id: str | NotGiven | None = NOT_GIVEN
    workspace_id: str | NotGiven | None = NOT_GIVEN
    external_user: str | NotGiven | None = NOT_GIVEN
    # A secret: never in a repr (a BulkItem's input is this spec).
    external_api_key: str | NotGiven | None = attrs.field(default=NOT_GIVEN, repr=False)

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``create()`` this spec gives (NOT_GIVEN ones left out)."""
        return _given(self)


@attrs.frozen
class KeyUpdate:
    """One change for ``update_many``: the key's ``hash`` and the fields to change.

    The fields are those of ``api_keys.update()``; ``limit=None`` / ``limit_reset=None``
    clear them, NOT_GIVEN leaves them alone; ``workspace_id`` moves the key.
    """

    hash: str
    name: str | NotGiven = NOT_GIVEN
    disabled: bool | NotGiven = NOT_GIVEN
    limit: float | NotGiven | None = NOT_GIVEN
    limit_reset: LimitReset | str | NotGiven | None = NOT_GIVEN
    include_byok_in_limit: bool | NotGiven = NOT_GIVEN
    workspace_id: str | NotGiven = NOT_GIVEN

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


def _inputs(inputs: Iterable[Any], what: str) -> list[Any]:
    if isinstance(inputs, (str, bytes, Mapping)) or not isinstance(inputs, Iterable):
        raise InvalidRequestError(
            f"{what} must be an iterable of items (a list, a generator…), "
            f"got {type(inputs).__name__}",
            argument=what,
        )
    return list(inputs)


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
    ``max_requeues`` times). Closing the iterator early cancels the calls still in flight;
    an interruption while it waits for them is handled as :func:`run_prepared` says.
    """
    check_concurrency(concurrency)
    items = _inputs(inputs, what)
    entries: list[tuple[int, Any, P]] = []
    refused: list[BulkItem[T]] = []
    for index, given in enumerate(items):
        try:
            entries.append((index, given, prepare(given)))
        except Exception as exc:
            refused.append(BulkItem(index, given, error=exc))
    run = run_prepared(
        len(items),
        refused,
        entries,
        call,
        concurrency=concurrency,
        on_progress=on_progress,
        requeue=requeue,
        max_requeues=max_requeues,
    )
    async with contextlib.aclosing(run):  # closing us closes it now, not at GC
        async for item in run:
            yield item


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

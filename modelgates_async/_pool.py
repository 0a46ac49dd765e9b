"""The worker pool of a bulk run, and what an interruption does to it.

:func:`run_prepared` runs ``concurrency`` workers over prepared inputs and yields each
outcome as it is reported. Interrupted (the task cancelled, ``asyncio.timeout``/``wait_for``,
Ctrl-C, or a BaseException in a worker), it stops starting calls, lets the calls already
sent finish (each bounded by its own timeout), then re-raises the interruption itself —
never swallowed, so ``TaskGroup`` and ``asyncio.timeout`` keep working — with
``.partial_result``: a :class:`BulkResult` of every input in input order, those never sent
failing with :class:`~modelgates_async.errors.NotStartedError`. A second interruption during
that wait abandons the calls in flight
(:class:`~modelgates_async.errors.OutcomeUnknownError`).
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from modelgates_async._results import (
    BulkItem,
    BulkResult,
    Progress,
    ProgressCallback,
    attach_partial_result,
)
from modelgates_async.errors import InvalidRequestError, NotStartedError, OutcomeUnknownError

__all__ = ["MAX_REQUEUES", "check_concurrency", "run_prepared"]

T = TypeVar("T")
P = TypeVar("P")

MAX_REQUEUES = 8
"""How many times one input may go back into the queue after a 429 that outlasted the
transport's own retries (see :func:`requeue_rate_limited`)."""


def check_concurrency(concurrency: object) -> int:
    """A positive integer bound on calls in flight."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidRequestError(
            f"concurrency must be an integer >= 1, got {concurrency!r}", argument="concurrency"
        )
    return concurrency


async def run_prepared(
    total: int,
    settled: Sequence[BulkItem[T]],
    entries: Sequence[tuple[int, Any, P]],
    call: Callable[[P], Awaitable[T]],
    *,
    concurrency: int,
    on_progress: ProgressCallback | None = None,
    requeue: Callable[[Exception], bool] | None = None,
    max_requeues: int = MAX_REQUEUES,
    acknowledge: Callable[[BulkItem[T]], asyncio.Future[None] | None] | None = None,
) -> AsyncGenerator[BulkItem[T], None]:
    """The pool under :func:`iter_bulk`: yield ``settled`` items (decided without a call),
    then call ``call(payload)`` for each ``(index, input, payload)`` of ``entries``.

    Indices of ``settled`` and ``entries`` together are ``0 .. total-1``. Interrupted while
    waiting (``CancelledError``, ``KeyboardInterrupt``, any BaseException — also one a
    worker raised), it stops starting calls, waits for those in flight, and re-raises the
    interruption with ``.partial_result`` (every input, in input order). A second
    interruption during that wait cancels the calls in flight and raises the first one.

    ``acknowledge(item)``, when given, returns a future (or None: at once) that must be
    done before the item is reported (yielded, or counted by ``on_progress``) — a journal
    makes the outcome durable there — while its worker already goes on with the next call.
    Whatever that future ends with, the item is then reported.
    """
    check_concurrency(concurrency)
    progress = Progress(on_progress, total)
    progress.report(None)
    reported: dict[int, BulkItem[T]] = {}
    for item in settled:
        reported[item.index] = item
        progress.report(item)
        yield item
    if not entries:
        return

    pending: deque[tuple[int, Any, P]] = deque(entries)
    in_flight: dict[int, Any] = {}
    finished: asyncio.Queue[BulkItem[T] | BaseException] = asyncio.Queue()
    requeued: Counter[int] = Counter()
    # index -> (its outcome, the future that must be done before it is reported)
    acknowledging: dict[int, tuple[BulkItem[T], asyncio.Future[None]]] = {}
    stopping = False

    def report_when_done(outcome: BulkItem[T], waiting: asyncio.Future[None]) -> None:
        acknowledging[outcome.index] = (outcome, waiting)

        def acknowledged(_: asyncio.Future[None]) -> None:
            acknowledging.pop(outcome.index, None)
            finished.put_nowait(outcome)

        waiting.add_done_callback(acknowledged)

    async def worker() -> None:
        while pending:
            index, given, payload = pending.popleft()
            in_flight[index] = given
            try:
                value = await call(payload)
            except Exception as exc:
                if (
                    not stopping
                    and requeue is not None
                    and requeued[index] < max_requeues
                    and requeue(exc)
                ):
                    requeued[index] += 1
                    del in_flight[index]
                    pending.append((index, given, payload))
                    continue
                outcome: BulkItem[T] = BulkItem(index, given, error=exc)
            else:
                outcome = BulkItem(index, given, value=value)
            del in_flight[index]
            waiting = None if acknowledge is None else acknowledge(outcome)
            if waiting is None:
                finished.put_nowait(outcome)
            else:
                report_when_done(outcome, waiting)

    def on_worker_done(task: asyncio.Task[None]) -> None:
        # A worker ends early only on a BaseException (KeyboardInterrupt…): pass it on
        # instead of waiting forever for items it will never finish.
        if not task.cancelled() and task.exception() is not None:
            finished.put_nowait(task.exception())  # type: ignore[arg-type]

    def partial() -> BulkResult[T]:
        unacknowledged = [outcome for outcome, _ in acknowledging.values()]
        return _partial(reported, finished, not_started, in_flight, unacknowledged, progress)

    not_started: list[tuple[int, Any]] = []
    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(entries)))]
    for task in workers:
        task.add_done_callback(on_worker_done)
    try:
        for _ in range(len(entries)):
            outcome = await finished.get()
            if isinstance(outcome, BaseException):
                raise outcome
            reported[outcome.index] = outcome
            progress.report(outcome)
            yield outcome
    except GeneratorExit:
        raise  # closed early by the caller: the finally cancels what is in flight
    except BaseException as interruption:
        stopping = True
        not_started.extend((index, given) for index, given, _ in pending)
        pending.clear()  # the workers end after their current call
        try:
            await asyncio.wait(workers)
            if acknowledging:
                await asyncio.wait({waiting for _, waiting in acknowledging.values()})
        except BaseException as again:
            for task in workers:
                task.cancel()
            attach_partial_result(again, partial())
            raise interruption from None  # the first: its type is what the caller expects
        finally:
            attach_partial_result(interruption, partial())
        raise
    finally:
        for task in workers:
            task.cancel()
        await asyncio.wait(workers)


def _partial(
    reported: dict[int, BulkItem[T]],
    finished: asyncio.Queue[BulkItem[T] | BaseException],
    not_started: list[tuple[int, Any]],
    in_flight: dict[int, Any],
    unacknowledged: Iterable[BulkItem[T]],
    progress: Progress,
) -> BulkResult[T]:
    """Every outcome of an interrupted run, in input order; ``reported`` grows with the
    items that finished while it wound down."""
    while not finished.empty():
        outcome = finished.get_nowait()
        if isinstance(outcome, BulkItem):
            reported[outcome.index] = outcome
            progress.report(outcome)
    outcomes = dict(reported)
    for item in unacknowledged:  # abandoned while being made durable: the value is known
        outcomes.setdefault(item.index, item)
    for index, given in not_started:
        outcomes[index] = BulkItem(index, given, error=NotStartedError())
    for index, given in in_flight.items():
        outcomes.setdefault(index, BulkItem(index, given, error=OutcomeUnknownError()))
    return BulkResult(outcomes[index] for index in sorted(outcomes))

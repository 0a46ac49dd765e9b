"""The runtime of the synchronous facade: one private event loop per process, in one thread.

``ModelGates`` (generated in ``_sync.py``) submits the async client's own coroutines here;
this module knows nothing about endpoints. The loop, its thread and what happens to them at
exit and after fork live in ``_loop_runtime``; here are the calls (:class:`Portal`, :func:`run`).
What the two guarantee:

- The loop and its daemon thread start lazily, once per process, under a lock. Calls from
  any number of threads, and from code that is itself running an event loop, all hand
  their coroutine to that thread and block on a lock of their own until it finishes.
  A call made *on* the loop thread (a callback calling back into the facade) would wait
  for itself forever, so it raises :class:`UsageError` (a ``RuntimeError``) instead.
- Ctrl-C while a call waits cancels the coroutine on the loop, waits for the cancellation
  to finish, and re-raises ``KeyboardInterrupt``. A bulk call winds down first (the calls it
  sent finish, each bounded by its timeout) and its outcomes so far reach the caller as the
  ``KeyboardInterrupt``'s ``.partial_result``. A second Ctrl-C stops that wait: the
  coroutine is cancelled again and given ``CANCEL_GRACE`` seconds. The loop thread blocks
  the usual process signals so that the kernel delivers them to a thread that can act on
  them.
- After ``os.fork()`` the child forgets the parent's loop and sessions *without touching
  them* (closing them would unregister the parent's sockets from the epoll set both
  processes share) and starts its own loop and sessions on first use.
- The loop is uvloop's when uvloop is installed (the ``speed`` extra): handing a call to
  another thread and back costs a fraction of what the selector loop needs.
  ``MODELGATES_SYNC_LOOP=asyncio`` keeps asyncio's own loop.
- At interpreter exit every client still open is closed, async generators and the default
  executor are shut down, and the loop is stopped and closed: no "Unclosed client session",
  "Event loop is closed" or thread warnings.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, TypeVar

from modelgates_async._loop_runtime import (
    AsyncClient,
    runtime,
    schedule_close,
    shut_down_error,
    track,
)
from modelgates_async._loop_runtime import (
    _Runtime as _Runtime,
)
from modelgates_async._results import BulkResult, attach_partial_result, partial_result_of
from modelgates_async.errors import ClientClosedError, UsageError

__all__ = ["Portal", "loop_thread_id", "run"]

# This module reads the runtime through this name, so a test can swap in a fresh one
# (``_Runtime`` is imported for that too).
_runtime = runtime

T = TypeVar("T")

CANCEL_GRACE = 5.0
"""Seconds a second Ctrl-C waits for the cancelled coroutine to unwind before re-raising."""
_HIDDEN_PREFIXES = (os.path.dirname(asyncio.__file__) + os.sep, __file__)
_INTERRUPTIBLE_WAIT = sys.platform != "win32"  # POSIX lock waits wake up for signals


def loop_thread_id() -> int | None:
    """The thread id of the private loop, or None while it has not started."""
    return _runtime.thread_id


class _Call:
    """One awaitable handed to the loop; the caller blocks on ``lock`` until it is done."""

    __slots__ = (
        "awaitable",
        "cancellation",
        "cancelled",
        "done",
        "exc",
        "lock",
        "result",
        "task",
    )

    def __init__(self, awaitable: Awaitable[Any]) -> None:
        self.awaitable: Awaitable[Any] | None = awaitable
        self.lock = threading.Lock()
        self.lock.acquire()
        self.task: asyncio.Task[None] | None = None
        self.result: Any = None
        self.exc: BaseException | None = None
        self.cancelled = False
        self.cancellation: BaseException | None = None
        self.done = False

    def discard(self) -> None:
        """Close the awaitable if it never started (no "never awaited" warning)."""
        awaitable, self.awaitable = self.awaitable, None
        if awaitable is not None:
            _discard(awaitable)

    # The methods below run on the loop thread only.
    def start(self) -> None:
        awaitable, self.awaitable = self.awaitable, None
        if awaitable is not None:
            self.task = asyncio.get_running_loop().create_task(self.main(awaitable))

    async def main(self, awaitable: Awaitable[Any]) -> None:
        # Waking the caller from inside the task, rather than from a done callback, saves
        # one turn of the loop per call; catching BaseException keeps a KeyboardInterrupt
        # or SystemExit raised by the coroutine from stopping the loop thread.
        try:
            self.result = await awaitable
        except asyncio.CancelledError as exc:
            self.cancelled = True
            self.cancellation = exc  # may carry a bulk call's .partial_result
        except BaseException as exc:
            self.exc = exc
        finally:
            self.done = True
            self.task = None
            self.lock.release()

    def cancel(self) -> None:
        if self.done:
            return
        if self.task is None:  # never scheduled: the interrupt came before call_soon
            self.discard()
            self.cancelled = self.done = True
            self.lock.release()
        else:
            self.task.cancel()

    def cancel_again(self) -> None:
        task = self.task
        if task is not None and not self.done:
            task.cancel()


def _pass_on_outcomes(call: _Call, interrupt: BaseException) -> None:
    """Give the caller's interrupt what the cancelled call kept: a bulk call's
    ``.partial_result``, or its whole result when it finished as the interrupt came."""
    result = partial_result_of(call.cancellation) or partial_result_of(call.exc)
    if result is None and isinstance(call.result, BulkResult):
        result = call.result
    if result is not None:
        attach_partial_result(interrupt, result)


def _discard(awaitable: Awaitable[Any]) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()  # no "coroutine was never awaited" warning


def _wait(lock: threading.Lock) -> None:
    if _INTERRUPTIBLE_WAIT:
        lock.acquire()
    else:  # pragma: no cover - Windows: a plain acquire() ignores Ctrl-C
        while not lock.acquire(timeout=0.05):
            pass


def _user_traceback(exc: BaseException) -> BaseException:
    # Drop the frames of this module and of asyncio at the top of the coroutine's
    # traceback: the caller's frames come first, then the SDK code that raised.
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_HIDDEN_PREFIXES):
        tb = tb.tb_next
    return exc.with_traceback(tb)


class _Runner:
    """Runs awaitables on the private loop; :class:`Portal` adds a client and closing."""

    __slots__ = ("closed",)

    def __init__(self) -> None:
        self.closed = False

    def _closed_error(self) -> ClientClosedError:
        return ClientClosedError("closed")

    def run(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` on the private loop and return its result (or raise its
        exception). One frame of ours between the caller and the coroutine."""
        if self.closed:
            _discard(awaitable)
            raise self._closed_error()
        rt = _runtime
        loop = rt.loop
        if loop is None:
            try:
                loop = rt.start()
            except BaseException:
                _discard(awaitable)
                raise
        if threading.get_ident() == rt.thread_id:
            _discard(awaitable)
            raise UsageError(
                "A ModelGates (sync) method was called on the facade's own event-loop thread, "
                "e.g. from a callback; it would wait for itself forever. Use AsyncModelGates "
                "with await there."
            )
        call = _Call(awaitable)
        try:
            loop.call_soon_threadsafe(call.start)
            _wait(call.lock)
        except BaseException as interrupt:
            # Mostly KeyboardInterrupt (or what another signal handler raised): cancel the
            # coroutine and wait for it to unwind (a bulk call lets the calls it sent
            # finish) before re-raising. A second Ctrl-C stops the wait.
            try:
                loop.call_soon_threadsafe(call.cancel)
            except RuntimeError:  # the loop was closed under us: interpreter exit
                call.discard()
                if isinstance(interrupt, RuntimeError):
                    raise shut_down_error() from None
                raise
            try:
                _wait(call.lock)
            except BaseException as again:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(call.cancel_again)
                call.lock.acquire(timeout=CANCEL_GRACE)
                _pass_on_outcomes(call, again)
                raise
            _pass_on_outcomes(call, interrupt)
            raise
        error = call.exc
        if error is not None:
            call.exc = None  # no reference cycle through the traceback
            try:
                raise _user_traceback(error)
            finally:
                del error
        if call.cancelled:
            raise ClientClosedError("The call was cancelled on the ModelGates event loop.")
        result: T = call.result
        return result


run = _Runner().run
"""Run an awaitable on the private loop (for the runtime's own use: no client)."""


async def _run_soon(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _close_async_iterator(iterator: AsyncIterator[Any]) -> None:
    aclose: Callable[[], Awaitable[Any]] | None = getattr(iterator, "aclose", None)
    if aclose is None:
        return
    rt = _runtime
    loop = rt.loop
    if loop is None or rt.shut_down:
        # Never started here (or inherited from the parent): nothing of ours to close.
        return
    if threading.get_ident() == rt.thread_id:
        # Garbage collected on the loop thread itself: cannot block, so schedule it.
        track(loop.create_task(_run_soon(aclose())))
        return
    run(aclose())


class Portal(_Runner):
    """The door of one sync client to the loop: runs its coroutines, knows it is closed.

    A ``weakref.finalize`` on the facade object closes the async client (without blocking)
    when the facade is garbage collected open; interpreter exit closes those still open.
    """

    __slots__ = ("__weakref__", "_client", "_finalizer", "_name")

    def __init__(self, owner: object, client: AsyncClient) -> None:
        super().__init__()
        self._client = client
        self._name = type(owner).__name__
        self._finalizer = weakref.finalize(owner, self._abandon)
        self._finalizer.atexit = False  # our own exit hook closes clients in order
        _runtime.open_portals.add(self)

    def _closed_error(self) -> ClientClosedError:
        return ClientClosedError(f"This {self._name} client is closed; create a new one.")

    def iterate(self, iterator: AsyncIterator[T]) -> Generator[T, None, None]:
        """A generator over an async iterator, pulling one item at a time on the loop.

        Closing it (or dropping it) halfway closes the async generator on the loop.
        """
        finished = False
        try:
            while True:
                try:
                    item = self.run(iterator.__anext__())
                except StopAsyncIteration:
                    finished = True
                    return
                yield item
        finally:
            if not finished:
                _close_async_iterator(iterator)

    def close(self) -> None:
        """Close the client's session; later calls raise. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self._finalizer.detach()
        _runtime.open_portals.discard(self)
        loop = _runtime.loop
        if loop is not None and threading.get_ident() == _runtime.thread_id:
            schedule_close(self._client)  # closed from a callback on the loop: no waiting
            return
        run(self._client.aclose())

    def _abandon(self) -> None:
        # weakref.finalize callback: the facade was collected while open. May run in any
        # thread, the loop thread included, so it only schedules the close.
        self.closed = True
        _runtime.open_portals.discard(self)
        loop = _runtime.loop
        if loop is None or _runtime.shut_down:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed at exit
            loop.call_soon_threadsafe(schedule_close, self._client)

    def _close_at_exit(self) -> AsyncClient:
        # Interpreter exit: the runtime closes the client itself, in order.
        self.closed = True
        self._finalizer.detach()
        return self._client

    def _forget_after_fork(self) -> None:
        _runtime.orphans.append(self._client._forget_session_after_fork())

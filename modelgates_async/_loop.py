"""The runtime of the synchronous facade: one private event loop per process, in one thread.

``ModelGates`` (generated in ``_sync.py``) submits the async client's own coroutines here;
this module knows nothing about endpoints. What it guarantees:

- The loop and its daemon thread start lazily, once per process, under a lock. Calls from
  any number of threads, and from code that is itself running an event loop, all hand
  their coroutine to that thread and block on a lock of their own until it finishes.
  A call made *on* the loop thread (a callback calling back into the facade) would wait
  for itself forever, so it raises ``RuntimeError`` instead.
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
import atexit
import contextlib
import os
import signal
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from typing import Any, Protocol, TypeVar

from modelgates_async._results import BulkResult, attach_partial_result, partial_result_of
from modelgates_async.errors import ModelGatesError

__all__ = ["Portal", "loop_thread_id", "run"]

T = TypeVar("T")

CANCEL_GRACE = 5.0
"""Seconds a second Ctrl-C waits for the cancelled coroutine to unwind before re-raising."""
EXIT_GRACE = 5.0
"""Seconds interpreter exit waits for open clients to close and the loop thread to end."""

LOOP_ENV = "MODELGATES_SYNC_LOOP"
"""Set to ``asyncio`` to run the facade on asyncio's own loop even when uvloop is installed."""

_HIDDEN_PREFIXES = (os.path.dirname(asyncio.__file__) + os.sep, __file__)
_SYNCHRONOUS_SIGNALS = {
    getattr(signal, name)
    for name in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGABRT", "SIGSYS")
    if hasattr(signal, name)
}
_INTERRUPTIBLE_WAIT = sys.platform != "win32"  # POSIX lock waits wake up for signals


class _AsyncClient(Protocol):
    """What the runtime needs of an async client: closing it, forgetting it after fork."""

    async def aclose(self) -> None: ...

    def _forget_session_after_fork(self) -> object: ...


class _Runtime:
    """The per-process state: the loop, its thread, the open clients."""

    __slots__ = (
        "closing",
        "lock",
        "loop",
        "open_portals",
        "orphans",
        "shut_down",
        "thread",
        "thread_id",
    )

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.thread_id: int | None = None
        self.shut_down = False
        self.open_portals: set[Portal] = set()
        # Close tasks scheduled by finalizers; awaited at exit.
        self.closing: set[asyncio.Task[None]] = set()
        # Objects inherited from the parent process, kept alive and untouched (see fork).
        self.orphans: list[object] = []

    def start(self) -> asyncio.AbstractEventLoop:
        with self.lock:
            if self.loop is not None:
                return self.loop
            if self.shut_down:
                raise _shut_down_error()
            loop = _new_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=_serve, args=(loop, ready), name="modelgates-loop", daemon=True
            )
            thread.start()
            ready.wait()
            self.thread = thread
            self.thread_id = thread.ident
            self.loop = loop  # last: other threads read it without the lock
            return loop


_runtime = _Runtime()


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    if hasattr(signal, "pthread_sigmask"):
        # Ctrl-C must reach the thread that waits for a result, not this one.
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals() - _SYNCHRONOUS_SIGNALS)
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


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

    def _closed_error(self) -> ModelGatesError:
        return ModelGatesError("closed")

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
            raise RuntimeError(
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
                    raise _shut_down_error() from None
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
            raise ModelGatesError("The call was cancelled on the ModelGates event loop.")
        result: T = call.result
        return result


run = _Runner().run
"""Run an awaitable on the private loop (for the runtime's own use: no client)."""


def _shut_down_error() -> ModelGatesError:
    return ModelGatesError(
        "The ModelGates sync runtime has shut down (the interpreter is exiting)."
    )


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
        _track(loop.create_task(_run_soon(aclose())))
        return
    run(aclose())


def _track(task: asyncio.Task[Any]) -> None:
    _runtime.closing.add(task)
    task.add_done_callback(_runtime.closing.discard)


class Portal(_Runner):
    """The door of one sync client to the loop: runs its coroutines, knows it is closed.

    A ``weakref.finalize`` on the facade object closes the async client (without blocking)
    when the facade is garbage collected open; interpreter exit closes those still open.
    """

    __slots__ = ("__weakref__", "_client", "_finalizer", "_name")

    def __init__(self, owner: object, client: _AsyncClient) -> None:
        super().__init__()
        self._client = client
        self._name = type(owner).__name__
        self._finalizer = weakref.finalize(owner, self._abandon)
        self._finalizer.atexit = False  # our own exit hook closes clients in order
        _runtime.open_portals.add(self)

    def _closed_error(self) -> ModelGatesError:
        return ModelGatesError(f"This {self._name} client is closed; create a new one.")

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
            _schedule_close(self._client)  # closed from a callback on the loop: no waiting
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
            loop.call_soon_threadsafe(_schedule_close, self._client)

    def _forget_after_fork(self) -> None:
        _runtime.orphans.append(self._client._forget_session_after_fork())


def _schedule_close(client: _AsyncClient) -> None:
    _track(asyncio.get_running_loop().create_task(client.aclose()))


async def _drain(clients: list[_AsyncClient]) -> None:
    loop = asyncio.get_running_loop()
    closing = [loop.create_task(client.aclose()) for client in clients]
    closing.extend(_runtime.closing)
    if closing:
        await asyncio.wait(closing, timeout=EXIT_GRACE)
    for task in closing:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: a failed close at exit is not worth a warning
    current = asyncio.current_task()
    others = [t for t in asyncio.all_tasks() if t is not current]
    for task in others:
        task.cancel()
    if others:
        await asyncio.wait(others, timeout=EXIT_GRACE)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


def _shutdown() -> None:
    """atexit: close open clients, then stop and close the loop and join its thread."""
    rt = _runtime
    with rt.lock:
        rt.shut_down = True
        loop, thread = rt.loop, rt.thread
    if loop is None or thread is None or threading.get_ident() == rt.thread_id:
        return
    clients = [portal._client for portal in list(rt.open_portals)]
    for portal in list(rt.open_portals):
        portal.closed = True
        portal._finalizer.detach()
    rt.open_portals.clear()
    future = asyncio.run_coroutine_threadsafe(_drain(clients), loop)
    try:
        future.result(timeout=2 * EXIT_GRACE + 1)
    except BaseException:  # pragma: no cover - best effort at exit
        future.cancel()
    rt.loop = None
    loop.call_soon_threadsafe(loop.stop)
    thread.join(EXIT_GRACE)
    if not thread.is_alive():
        loop.close()


def _after_fork_in_child() -> None:
    """os.register_at_fork hook: the child starts with no loop and forgets the parent's.

    The parent's loop and sessions are kept referenced and never closed here: their sockets
    and epoll set are shared with the parent, and closing them would unregister the
    parent's file descriptors or write to its connections.
    """
    rt = _runtime
    rt.lock = threading.Lock()  # another thread may have held it at the fork
    if rt.loop is not None:
        rt.orphans.append(rt.loop)
        rt.orphans.extend(rt.closing)
    rt.loop = None
    rt.thread = None
    rt.thread_id = None
    rt.closing = set()
    for portal in list(rt.open_portals):
        portal._forget_after_fork()


atexit.register(_shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when it is installed (the ``speed`` extra): its cross-thread wake-up costs
    a fraction of the selector loop's. ``MODELGATES_SYNC_LOOP=asyncio`` opts out."""
    if os.environ.get(LOOP_ENV, "").strip().lower() != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()

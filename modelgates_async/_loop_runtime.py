"""The sync facade's process-wide runtime: the private loop and its thread, and what happens to
them at interpreter exit and in a child after ``os.fork()``.

``_loop`` runs calls through it (``Portal``); this module knows nothing about calls. The loop
starts once per process, lazily, under a lock; at exit every client still open is closed and
the loop stopped and closed; after a fork the child forgets the parent's loop and sessions
*without touching them* and starts its own on first use.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import threading
from typing import Any, Protocol

from modelgates_async._eventloop import new_event_loop
from modelgates_async.errors import ClientClosedError

__all__ = [
    "EXIT_GRACE",
    "LOOP_ENV",
    "AsyncClient",
    "PortalHandle",
    "runtime",
    "schedule_close",
    "shut_down_error",
    "track",
]

EXIT_GRACE = 5.0
"""Seconds interpreter exit waits for open clients to close and the loop thread to end."""

LOOP_ENV = "MODELGATES_SYNC_LOOP"
"""Set to ``asyncio`` to run the facade on asyncio's own loop even when uvloop is installed."""

_SYNCHRONOUS_SIGNALS = {
    getattr(signal, name)
    for name in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGABRT", "SIGSYS")
    if hasattr(signal, name)
}


class AsyncClient(Protocol):
    """What the runtime needs of an async client: closing it, forgetting it after fork."""

    async def aclose(self) -> None: ...

    def _forget_session_after_fork(self) -> object: ...


class PortalHandle(Protocol):
    """What the runtime needs of an open sync client: closing it at exit, forgetting it after
    fork (``_loop.Portal``)."""

    def _close_at_exit(self) -> AsyncClient: ...

    def _forget_after_fork(self) -> None: ...


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
        self.open_portals: set[PortalHandle] = set()
        # Close tasks scheduled by finalizers; awaited at exit.
        self.closing: set[asyncio.Task[None]] = set()
        # Objects inherited from the parent process, kept alive and untouched (see fork).
        self.orphans: list[object] = []

    def start(self) -> asyncio.AbstractEventLoop:
        with self.lock:
            if self.loop is not None:
                return self.loop
            if self.shut_down:
                raise shut_down_error()
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


runtime = _runtime = _Runtime()


def _serve(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    if hasattr(signal, "pthread_sigmask"):
        # Ctrl-C must reach the thread that waits for a result, not this one.
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals() - _SYNCHRONOUS_SIGNALS)
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


def shut_down_error() -> ClientClosedError:
    return ClientClosedError(
        "The ModelGates sync runtime has shut down (the interpreter is exiting)."
    )


def track(task: asyncio.Task[Any]) -> None:
    _runtime.closing.add(task)
    task.add_done_callback(_runtime.closing.discard)


def schedule_close(client: AsyncClient) -> None:
    track(asyncio.get_running_loop().create_task(client.aclose()))


async def _drain(clients: list[AsyncClient]) -> None:
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
    clients = [portal._close_at_exit() for portal in list(rt.open_portals)]
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
    """uvloop's when it is installed (see ``_eventloop``); ``MODELGATES_SYNC_LOOP=asyncio``
    keeps asyncio's own."""
    if os.environ.get(LOOP_ENV, "").strip().lower() == "asyncio":
        return asyncio.new_event_loop()
    return new_event_loop()

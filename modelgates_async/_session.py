"""The aiohttp session a client creates for itself, and the event loop it belongs to.

aiohttp binds a session to the loop it was made in. A script that calls ``asyncio.run()``
twice with one client used to get "Event loop is closed" and an unclosed-session warning.
Here the session follows the loop it is used from: it is closed when its loop ends (through
an async generator that the loop's ``shutdown_asyncgens()`` closes, as ``asyncio.run``,
``asyncio.Runner`` and the sync facade do before closing a loop), and the next call on
another loop opens a new one.
"""

from __future__ import annotations

import asyncio
from asyncio import current_task
from collections.abc import AsyncGenerator
from threading import get_ident

import aiohttp

from modelgates_async.errors import UsageError

__all__ = ["OwnedSession"]

# Guards of sessions a child process forgot after fork: never finalized there, because
# finalizing one would schedule work on the parent's loop (whose wake-up pipe it shares).
_FORGOTTEN_GUARDS: list[AsyncGenerator[None, None]] = []


async def _close_with_loop(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """Suspended for the session's lifetime; closing it (loop shutdown, aclose) closes it."""
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


class OwnedSession:
    """The client's own session: opened lazily in the running loop, re-opened in a new one."""

    __slots__ = ("_guard", "_loop", "_session", "_thread")

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._guard: AsyncGenerator[None, None] | None = None
        self._thread = 0

    def current(self) -> aiohttp.ClientSession | None:
        """The open session of the running loop, or None (then :meth:`get` opens one).

        Not a coroutine: the every-call check costs no coroutine frame. Nor a call of
        ``asyncio.get_running_loop()``, which asks the kernel for the pid each time: code
        runs in the session's loop when it runs in the thread that opened it while that
        loop has a task in progress (a thread runs one loop at a time; a loop stopped or
        closed has none).
        """
        session = self._session
        if (
            session is not None
            and self._thread == get_ident()
            and current_task(self._loop) is not None
            and not session.closed
        ):
            return session
        return None

    async def get(self) -> aiohttp.ClientSession:
        """The session of the running loop, opened now if there is none."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and self._loop is loop and not session.closed:
            return session
        return await self._open(loop)

    async def _open(self, loop: asyncio.AbstractEventLoop) -> aiohttp.ClientSession:
        old, old_loop = self._session, self._loop
        # An open session of a *closed* loop (closed without shutting down its async
        # generators) cannot be closed from here any more: it is forgotten below.
        if old is not None and not old.closed and old_loop is not None and not old_loop.is_closed():
            raise UsageError(
                "This AsyncModelGates client is in use on another event loop that is still "
                "open; use one client per event loop (or aclose() it on its loop first)."
            )
        self._forget()
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, enable_cleanup_closed=False),
            trust_env=False,  # proxies from the environment are chosen in _network, not netrc
            raise_for_status=False,
        )
        guard = _close_with_loop(session)
        # Set before the first await, so that concurrent first calls share one session.
        self._session, self._loop, self._guard = session, loop, guard
        self._thread = get_ident()
        await guard.asend(None)  # registers it with this loop's shutdown_asyncgens()
        return session

    def _forget(self) -> None:
        self._session = self._loop = self._guard = None

    async def aclose(self) -> None:
        """Close the session (on its own loop; a session of a closed loop is only forgotten)."""
        session, loop, guard = self._session, self._loop, self._guard
        self._forget()
        if session is None or session.closed:
            return
        if loop is not None and loop.is_closed():
            return
        await session.close()
        if guard is not None:
            await guard.aclose()  # the session is closed: it only finishes

    def forget_after_fork(self) -> aiohttp.ClientSession | None:
        """Drop the session without closing it and return it (a child after ``os.fork()``)."""
        session, guard = self._session, self._guard
        if guard is not None:
            _FORGOTTEN_GUARDS.append(guard)
        self._forget()
        return session

"""One place that decides which event loop to use: uvloop's when it is installed (the ``speed``
extra), else asyncio's. uvloop's cross-thread wake-ups and socket I/O cost a fraction of the
selector loop's, so the sync facade, the local server and the benchmarks all prefer it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["new_event_loop", "run", "uvloop_version"]

T = TypeVar("T")


def _uvloop() -> Any:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop


def new_event_loop() -> asyncio.AbstractEventLoop:
    """Return a new event loop: uvloop's when it is installed, else asyncio's."""
    uvloop = _uvloop()
    if uvloop is None:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop :func:`new_event_loop` picks.

    The coroutine runs outside any ``except ImportError`` block, so a traceback it raises is not
    chained to "No module named 'uvloop'"."""
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            return runner.run(main)
    return _run_on_new_loop(main)  # Python 3.10 has no asyncio.Runner


def _run_on_new_loop(main: Coroutine[Any, Any, T]) -> T:
    loop = new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        try:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def uvloop_version() -> str | None:
    """uvloop's version when it is installed, else None."""
    uvloop = _uvloop()
    return None if uvloop is None else str(uvloop.__version__)

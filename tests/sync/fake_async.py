"""A small async client without network, for the generator's and the runtime's tests.

``tests/sync/test_generation.py`` generates a facade for ``AsyncFake`` with the real
generator, so that these tests pin what the generator and ``_loop`` do with each kind of
member: coroutines, async generators, a plain def returning an async iterator, overloads,
positional-only and variadic parameters, properties, attributes, ``aclose`` and
``async with``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import overload

from tests.sync.fake_mixin import FakeMixin


class Probe:
    """What the fake saw, for the tests to look at."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.cancelled = threading.Event()
        self.generator_closed: list[tuple[int, int]] = []  # (items yielded, thread id)
        self.aclosed = 0


class AsyncFakeItems(FakeMixin):
    """Items of the fake client."""

    def __init__(self, probe: Probe) -> None:
        self._probe = probe

    async def echo(
        self, value: int, /, scale: int = 1, *more: int, delay: float = 0.0, **labels: str
    ) -> int:
        """``value`` times ``scale``, plus ``more``; waits ``delay`` seconds first."""
        if delay:
            await asyncio.sleep(delay)
        return value * scale + sum(more) + len(labels)

    async def fail(self, message: str) -> None:
        """Raise ValueError(message)."""
        raise ValueError(message)

    async def count(self, n: int) -> AsyncIterator[int]:
        """0, 1, … n - 1, one at a time."""
        produced = 0
        try:
            for i in range(n):
                await asyncio.sleep(0)
                yield i
                produced += 1
        finally:
            self._probe.generator_closed.append((produced, threading.get_ident()))

    def numbers(self, n: int) -> AsyncIterator[int]:
        """Same as :meth:`count`, from a plain def."""
        return self.count(n)

    async def block(self) -> None:
        """Wait until cancelled."""
        self._probe.entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self._probe.cancelled.set()
            raise

    async def thread_id(self) -> int:
        """The id of the thread that runs this coroutine."""
        return threading.get_ident()

    async def call(self, callback: Callable[[], object]) -> object:
        """Call ``callback`` on the loop and return what it returns."""
        return callback()

    @overload
    async def pick(self, value: int) -> int: ...
    @overload
    async def pick(self, value: str) -> str: ...
    async def pick(self, value: int | str) -> int | str:
        """``value`` itself."""
        return value

    def describe(self) -> str:
        """A plain method: no I/O."""
        return "items"


class AsyncFake:
    """Async fake client. Use ``async with`` or call :meth:`aclose`."""

    def __init__(self, name: str = "fake", *, probe: Probe | None = None) -> None:
        self.name = name
        self.probe: Probe = probe or Probe()
        self.items = AsyncFakeItems(self.probe)
        self._closed = False

    def __repr__(self) -> str:
        return f"AsyncFake(name={self.name!r})"

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._closed

    def _forget_session_after_fork(self) -> None:
        return None

    async def aclose(self) -> None:
        """Close the fake."""
        self._closed = True
        self.probe.aclosed += 1

    async def __aenter__(self) -> AsyncFake:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

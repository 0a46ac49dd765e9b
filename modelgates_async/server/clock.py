"""The emulator's clock: real UTC time by default, settable and advanceable for tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

__all__ = ["Clock", "utc_now"]


def utc_now() -> datetime:
    """Return the current aware UTC datetime."""
    return datetime.now(timezone.utc)


class Clock:
    """An injectable UTC clock.

    ``clock()`` (or ``clock.now()``) answers ``source() + offset``, or a frozen instant after
    ``set()``. ``advance()`` moves either one forward. It is safe to drive from another thread
    than the server's, which is how the threaded test server exposes it.
    """

    def __init__(self, source: Callable[[], datetime] | None = None) -> None:
        self._source = source or utc_now
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen: datetime | None = None

    def now(self) -> datetime:
        """Return the emulator's current time, an aware UTC datetime."""
        frozen = self._frozen
        if frozen is not None:
            return frozen
        return (self._source() + self._offset).astimezone(timezone.utc)

    __call__ = now

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still at a time given to ``set()``."""
        return self._frozen is not None

    def set(self, when: datetime) -> None:
        """Freeze the clock at ``when`` (an aware datetime) until ``advance()`` or ``resume()``."""
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("the clock needs an aware datetime")
        with self._lock:
            self._frozen = when.astimezone(timezone.utc)

    def advance(self, delta: timedelta | float) -> datetime:
        """Move the clock forward by ``delta`` (a timedelta or seconds); return the new time."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            if self._frozen is not None:
                self._frozen += step
            else:
                self._offset += step
        return self.now()

    def resume(self) -> None:
        """Go back to the source's time, with no offset and not frozen."""
        with self._lock:
            self._frozen = None
            self._offset = timedelta(0)

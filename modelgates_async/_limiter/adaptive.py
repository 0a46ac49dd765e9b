"""The client-wide adaptive limiter: every call of one client slows down after a 429.

One :class:`AdaptiveLimiter` belongs to each client's transport and sees every attempt.
While no 429 has been seen it is *idle*: an attempt only bumps an in-flight counter (and
keeps a round number), so a plain ``get()`` pays a few attribute reads for it. A 429 moves it
to *engaged*, where it acts like a congestion window (AIMD):

- the server's ``Retry-After`` (or, when it named none, the retry policy's first backoff)
  pauses every new call of the client until then — not only the one that was refused;
- the window of attempts allowed in flight is cut to half of those in flight, once per
  round: the 429s of attempts sent before the cut do not cut again;
- each success then grows the window by ``1/window`` (about one more slot per round trip);
- after ``quiet_period`` seconds without a 429 it goes back to idle and unbounded.

An attempt waits for a window slot *before* the transport asks aiohttp for a pooled
connection, so a paused client holds no connection and no aiohttp timeout runs while it
waits. The limiter has no opinion on whether a refused call is retried: that stays the
retry policy's (``_retry.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable

from modelgates_async import _retry

__all__ = ["AdaptiveLimiter"]


class AdaptiveLimiter:
    """AIMD concurrency window and shared pause, driven by the 429s a client receives.

    ``clock`` is a monotonic clock in seconds; the pauses go through
    ``modelgates_async._retry.sleep``, which ``modelgates_async.testing.no_backoff()`` skips.
    """

    __slots__ = (
        "_clock",
        "_last_limited",
        "_resume_at",
        "_waiters",
        "engaged",
        "in_flight",
        "quiet_period",
        "rate_limited",
        "round",
        "window",
    )

    def __init__(
        self, *, quiet_period: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.quiet_period = quiet_period
        self._clock = clock
        #: False until a 429 arrives, and again once it has been quiet for a while.
        self.engaged = False
        #: Attempts of this client between ``acquire()`` and ``release()``.
        self.in_flight = 0
        #: How many attempts may be in flight while engaged (``inf`` while idle).
        self.window = math.inf
        #: Bumped at each cut; an attempt remembers it to tell old 429s from new ones.
        self.round = 0
        #: 429s seen in all (a figure for progress displays and tests).
        self.rate_limited = 0
        self._resume_at = 0.0
        self._last_limited = 0.0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __repr__(self) -> str:
        state = f"engaged, window={self.window:.1f}" if self.engaged else "idle"
        return f"<AdaptiveLimiter {state}, in_flight={self.in_flight}>"

    @property
    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when not paused)."""
        return max(0.0, self._resume_at - self._clock())

    async def acquire(self, *, wait_pause: bool = True) -> None:
        """Take a slot in the window, then wait out any pause (engaged mode only).

        Idle mode skips this: the transport only does ``in_flight += 1``. Every acquire,
        and every ``in_flight += 1``, is matched by one :meth:`release`.
        """
        if self.in_flight < self.window and not self._waiters:
            self.in_flight += 1
        else:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter  # release() hands the slot over before waking us
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self.release()  # the slot arrived together with the cancellation
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                raise
        if not wait_pause:
            return
        try:
            await self._wait_pause()
        except BaseException:
            self.release()
            raise

    async def _wait_pause(self) -> None:
        # Holding the slot while paused bounds the burst at the end of the pause.
        while True:
            target = self._resume_at
            delay = target - self._clock()
            if delay <= 0:
                return
            await _retry.sleep(delay)
            # Sleep again only if a new 429 moved the end of the pause meanwhile: never
            # spin on the clock (a test's sleep may return at once).
            if self._resume_at <= target:
                return

    def release(self) -> None:
        """Give a slot back and hand free slots to waiting attempts, oldest first."""
        self.in_flight -= 1
        if self._waiters:
            self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        while waiters and self.in_flight < self.window:
            waiter = waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(None)

    def on_success(self) -> None:
        """An attempt sent while engaged succeeded: grow the window, or go idle when quiet."""
        if self._clock() - self._last_limited >= self.quiet_period:
            self.engaged = False
            self.window = math.inf
        else:
            self.window += 1.0 / self.window
        if self._waiters:
            self._wake()

    def on_rate_limited(self, pause: float, started_round: int) -> None:
        """An attempt started in ``started_round`` got a 429: pause everyone, cut once.

        Only the first 429 of a round (an attempt sent after the last cut) acts. ``pause``
        is what the transport makes of it: the server's ``Retry-After``, or the retry
        policy's first backoff when it named none, capped by ``max_retry_after`` — a server
        asking for longer gets its error raised, and the client should not hang meanwhile.
        """
        now = self._clock()
        self.rate_limited += 1
        self._last_limited = now
        if started_round != self.round:
            # Sent before the last cut: it met the same exhausted budget as the 429 that
            # made the cut, so it says nothing new (its own retry still honours its wait).
            return
        self.round += 1
        self.window = max(1.0, min(self.window, float(self.in_flight)) / 2.0)
        self.engaged = True
        self._resume_at = max(self._resume_at, now + pause)

    async def aclose(self) -> None:
        """Nothing to close: the state lives in this object."""

"""The interface between the transport and a limiter: what every limiter provides.

The transport drives a limiter around each attempt, in this order, in one task::

    started_round = limiter.round
    if limiter.engaged:
        await limiter.acquire(wait_pause=first)
    else:
        limiter.in_flight += 1            # the idle fast path: no call at all
    try:
        ...send...                        # on a 429: limiter.on_rate_limited(pause, started_round)
    finally:
        limiter.release()
    if limiter.engaged:
        limiter.on_success()              # right after release(), with no await in between

The fast path is why this is a set of attributes and plain methods rather than an async
context manager: the in-process limiter, while idle, costs one attribute read and two integer
updates per attempt. A limiter that always needs :meth:`acquire` (the Redis-shared one) keeps
``engaged`` True.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["RateLimiter"]


@runtime_checkable
class RateLimiter(Protocol):
    """What ``AsyncModelGates(rate_limiter=...)`` accepts; see the module docstring."""

    #: True when every attempt must go through :meth:`acquire` (False: the fast path).
    engaged: bool
    #: Attempts between ``acquire()`` (or the fast path's ``+= 1``) and ``release()``.
    in_flight: int
    #: A number that changes at each window cut; a 429 names the one its attempt started in.
    round: int
    #: 429s seen (a figure for progress displays, tests and benchmarks).
    rate_limited: int

    async def acquire(self, *, wait_pause: bool = True) -> None:
        """Take a slot for one attempt; with ``wait_pause``, wait out a 429's pause too."""
        ...

    def release(self) -> None:
        """Give the attempt's slot back (every acquire is matched by one release)."""
        ...

    def on_success(self) -> None:
        """The attempt just released succeeded (called only while ``engaged``)."""
        ...

    def on_rate_limited(self, pause: float, started_round: int) -> None:
        """The attempt got a 429 asking for ``pause`` seconds (already capped)."""
        ...

    async def aclose(self) -> None:
        """Close what the limiter opened in the running loop (connections); it stays usable."""
        ...

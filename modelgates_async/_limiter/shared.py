"""RedisRateLimiter: one adaptive limiter for every process that uses the same Redis and key.

The state machine is the in-process limiter's (a pause on 429, an AIMD window of calls in
flight) plus a pace learned from rounds of 429s and an optional ceiling in requests per second;
it lives in Redis and changes only inside Lua scripts (:mod:`._limiter.scripts`). This module
is the client side: leases, waiting, and what happens when Redis is not there.

Redis unreachable, slow or failing: the call goes through the process's own
:class:`AdaptiveLimiter` instead, one WARNING is logged when that starts (not one per call),
and Redis is tried again every ``retry_interval`` seconds — one probe at a time, so calls never
queue behind a dead Redis. Each Redis command is bounded by ``redis_timeout``; redis-py's
exceptions never reach the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import logging
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import redis.asyncio
import redis.exceptions
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from modelgates_async import _retry
from modelgates_async._limiter.adaptive import AdaptiveLimiter
from modelgates_async._limiter.scripts import Grant, SharedState
from modelgates_async.errors import InvalidRequestError

__all__ = ["RedisRateLimiter"]

logger = logging.getLogger("modelgates_async")

_T = TypeVar("_T")
_REDIS_DOWN: tuple[type[BaseException], ...] = (
    redis.exceptions.RedisError,
    OSError,
    asyncio.TimeoutError,
)
# While the window is full: ask again after 1 ms, doubling up to 20 ms (one asker per process).
_POLL_FIRST = 0.001
_POLL_MAX = 0.02

if sys.version_info >= (3, 11):

    async def _bounded(call: Awaitable[_T], seconds: float) -> _T:
        async with asyncio.timeout(seconds):
            return await call

else:  # pragma: no cover - Python 3.10 has no asyncio.timeout

    async def _bounded(call: Awaitable[_T], seconds: float) -> _T:
        return await asyncio.wait_for(call, seconds)


@dataclass(slots=True)
class _Attempt:
    """One attempt between acquire() and its release, for the task that runs it."""

    lease: str | None  # None: the attempt went through the in-process fallback
    round: int
    outcome: str
    pause: float
    started: float  # monotonic seconds when it was let through
    rtt: float = 0.0  # how long it took, once released


# The transport runs acquire, release and on_success/on_rate_limited of one attempt in one
# task, in order: the attempt is found again through the task's context.
_current: contextvars.ContextVar[_Attempt | None] = contextvars.ContextVar(
    "modelgates_shared_attempt", default=None
)


class _Connection:
    """The redis client and scripts of one event loop (redis-py binds connections to it)."""

    __slots__ = ("gate", "loop", "state")

    def __init__(self, state: SharedState, loop: asyncio.AbstractEventLoop) -> None:
        self.state = state
        self.loop = loop
        # One task per process asks Redis for a slot at a time; the others queue here.
        self.gate = asyncio.Lock()


class RedisRateLimiter:
    """A rate limiter shared through Redis by every client using the same ``key``.

    ``redis_url_or_client`` is a URL (``redis://host:6379/0``; connections are opened lazily
    in the loop that uses them and closed by :meth:`aclose`, which the client's ``aclose``
    calls) or a ``redis.asyncio.Redis`` you own (used, never closed). Shared by all of them:

    - the pause a 429 asks for (``Retry-After``, up to the client's ``max_retry_after``);
    - a window of calls in flight that starts at ``initial_window`` for everyone together,
      grows by about one slot per window's worth of successes up to ``max_window`` — only
      while the calls complete about as fast as the fastest seen, not when more calls would
      only wait in queues — and is halved once per round of 429s;
    - when rounds of 429s come back to back (less than 15 s apart), a pace: 95 % of the calls
      the account let through over the last round, pause included, growing by 2 % a second;
    - with ``max_rate``, a fixed ceiling in requests per second, calls spaced evenly.

    A call's slot is a lease that expires ``lease_ttl`` seconds after it was taken, so a
    process that dies holding slots gives them back; the state itself expires after
    ``state_ttl`` idle seconds. Redis commands wait at most ``redis_timeout`` seconds; when
    Redis fails, calls use this process's own limiter (one WARNING) and Redis is tried again
    every ``retry_interval`` seconds. ``clock`` (seconds) replaces Redis's clock in tests.
    """

    def __init__(
        self,
        redis_url_or_client: str | redis.asyncio.Redis,
        *,
        key: str = "modelgates",
        max_rate: float | None = None,
        initial_window: float = 2.0,
        max_window: float = 64.0,
        lease_ttl: float = 10.0,
        state_ttl: float = 60.0,
        redis_timeout: float = 0.25,
        retry_interval: float = 2.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not isinstance(redis_url_or_client, (str, redis.asyncio.Redis)):
            raise InvalidRequestError(
                "redis_url_or_client must be a redis:// URL or a redis.asyncio.Redis client",
                argument="redis_url_or_client",
            )
        if isinstance(redis_url_or_client, str) and "://" not in redis_url_or_client:
            raise InvalidRequestError(
                "redis_url_or_client must be a URL such as redis://localhost:6379/0",
                argument="redis_url_or_client",
            )
        if not isinstance(key, str) or not key or "{" in key or "}" in key:
            raise InvalidRequestError(
                "key must be a non-empty string without braces", argument="key"
            )
        if max_rate is not None:
            _check_positive("max_rate", max_rate)
        for name, value in (
            ("initial_window", initial_window),
            ("max_window", max_window),
            ("lease_ttl", lease_ttl),
            ("state_ttl", state_ttl),
            ("redis_timeout", redis_timeout),
            ("retry_interval", retry_interval),
        ):
            _check_positive(name, value)
        if initial_window < 1 or max_window < initial_window:
            raise InvalidRequestError(
                "need 1 <= initial_window <= max_window", argument="initial_window"
            )
        self._source = redis_url_or_client
        self.key = key
        self.max_rate = max_rate
        self.initial_window = float(initial_window)
        self.max_window = float(max_window)
        self.lease_ttl = float(lease_ttl)
        self.state_ttl = float(state_ttl)
        self.redis_timeout = float(redis_timeout)
        self.retry_interval = float(retry_interval)
        self._clock = clock
        #: Always True: every attempt goes through :meth:`acquire`.
        self.engaged = True
        #: Attempts of this process between ``acquire()`` and ``release()``.
        self.in_flight = 0
        #: The shared round last seen (the attempt's own round is kept with the attempt).
        self.round = 0
        #: 429s seen by this process.
        self.rate_limited = 0
        #: Used while Redis is unreachable.
        self.fallback = AdaptiveLimiter()
        self._sharing = True
        self._retry_at = 0.0
        self._conn: _Connection | None = None
        self._finishing: set[asyncio.Task[None]] = set()
        self._lease_prefix = f"{os.getpid()}-{uuid.uuid4().hex[:12]}-"
        self._lease_ids = itertools.count()

    def __repr__(self) -> str:
        mode = "shared" if self._sharing else "local fallback"
        return f"<RedisRateLimiter key={self.key!r} {mode}, in_flight={self.in_flight}>"

    @property
    def sharing(self) -> bool:
        """False while Redis is unreachable and calls use the in-process fallback."""
        return self._sharing

    # -- the RateLimiter interface ------------------------------------------------------

    async def acquire(self, *, wait_pause: bool = True) -> None:
        """Take a shared slot (waiting for the pause and the window), or a local one."""
        attempt = None
        if self._sharing or time.monotonic() >= self._retry_at:
            attempt = await self._acquire_shared(wait_pause)
        if attempt is None:
            await self.fallback.acquire(wait_pause=wait_pause)
            attempt = _Attempt(None, self.fallback.round, "other", 0.0, 0.0)
        _current.set(attempt)
        self.in_flight += 1

    def release(self) -> None:
        """Give the slot back; the shared one in a task that runs right after this step."""
        self.in_flight -= 1
        attempt = _current.get()
        if attempt is None or attempt.lease is None:
            self.fallback.release()
            return
        attempt.rtt = time.monotonic() - attempt.started
        # on_success() follows without an await, so the outcome is known when this runs.
        self._finish_later(attempt)

    def on_success(self) -> None:
        """Count a success: it grows the shared window (or the fallback's)."""
        attempt = _current.get()
        if attempt is None or attempt.lease is None:
            if self.fallback.engaged:
                self.fallback.on_success()
        else:
            attempt.outcome = "ok"

    def on_rate_limited(self, pause: float, started_round: int) -> None:
        """Record a 429: everyone pauses ``pause`` seconds; the window is cut once a round."""
        self.rate_limited += 1
        attempt = _current.get()
        if attempt is None or attempt.lease is None:
            # The fallback's own round, kept at acquire: ``started_round`` is the shared one.
            own_round = self.fallback.round if attempt is None else attempt.round
            self.fallback.on_rate_limited(pause, own_round)
        else:
            attempt.outcome = "limited"
            attempt.pause = pause

    async def aclose(self) -> None:
        """Send the releases still pending and close the connections opened from a URL."""
        if self._finishing:
            await asyncio.gather(*self._finishing, return_exceptions=True)
        conn, self._conn = self._conn, None
        owned = isinstance(self._source, str)  # opened from a URL here, not given to us
        if conn is not None and owned and conn.loop is asyncio.get_running_loop():
            with contextlib.suppress(*_REDIS_DOWN):
                await _bounded(conn.state.client.aclose(), self.redis_timeout)

    # -- Redis -----------------------------------------------------------------------------

    def _connection(self) -> _Connection:
        loop = asyncio.get_running_loop()
        conn = self._conn
        if conn is not None and conn.loop is loop:
            return conn
        source = self._source
        if isinstance(source, str):
            timeout = self.redis_timeout
            client = redis.asyncio.Redis.from_url(
                source,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
        else:
            client = source
        self._conn = conn = _Connection(
            SharedState(
                client,
                self.key,
                initial_window=self.initial_window,
                max_window=self.max_window,
                lease_ttl=self.lease_ttl,
                state_ttl=self.state_ttl,
                max_rate=self.max_rate,
            ),
            loop,
        )
        return conn

    async def _redis(self, call: asyncio.Future[_T]) -> _T:
        """Wait for ``call`` at most ``redis_timeout``; cancellable even where redis-py is not.

        redis-py's asyncio client swallows a cancellation that arrives at some points of a
        command; waiting through ``shield`` keeps our own task cancellable (and the timeout
        exact) whatever the command does. The command is cancelled when we stop waiting.
        """
        try:
            return await _bounded(asyncio.shield(call), self.redis_timeout)
        except BaseException:
            call.cancel()
            raise

    def _now(self) -> float | None:
        return None if self._clock is None else self._clock()

    async def _acquire_shared(self, wait_pause: bool) -> _Attempt | None:
        """A shared slot, or None when Redis failed (then the caller falls back)."""
        probe = not self._sharing
        if probe:
            self._retry_at = time.monotonic() + self.retry_interval  # one probe at a time
        lease = f"{self._lease_prefix}{next(self._lease_ids)}"
        call: asyncio.Future[Grant] | None = None  # the last acquire sent
        try:
            conn = self._connection()
            async with conn.gate:
                if not self._sharing and not probe:
                    return None  # Redis failed while we queued: do not wait on it in turn
                poll = _POLL_FIRST
                slept_until = -1.0
                while True:
                    call = asyncio.ensure_future(
                        conn.state.acquire(lease, wait_pause=wait_pause, now=self._now())
                    )
                    grant = await self._redis(call)
                    self.round = grant.round
                    if grant.granted:
                        break
                    if grant.wait >= 0:  # paused
                        if grant.resume_at <= slept_until:
                            # Slept that very pause already: never spin on a clock (a test's
                            # sleep may return at once); only a new 429 makes us wait again.
                            wait_pause = False
                            continue
                        slept_until = grant.resume_at
                        await _retry.sleep(grant.wait)
                        continue
                    await asyncio.sleep(poll)  # the window is full
                    poll = min(poll * 2, _POLL_MAX)
        except _REDIS_DOWN as exc:
            self._fall_back(exc)
            self._forget(lease, call)
            return None
        except BaseException:
            self._forget(lease, call)  # cancelled: the script may have granted the lease
            raise
        if not self._sharing:
            self._sharing = True
            logger.info("Redis is reachable again: rate limit shared under key %r", self.key)
        if grant.wait > 0:  # max_rate: our turn comes later; the lease covers the wait
            try:
                await asyncio.sleep(grant.wait)
            except BaseException:
                self._forget(lease, call)
                raise
        return _Attempt(lease, grant.round, "other", 0.0, time.monotonic())

    def _forget(self, lease: str, call: asyncio.Future[Grant] | None = None) -> None:
        """Drop a lease in the background, once ``call`` (that may grant it) is over."""
        if call is None:
            return  # never asked for
        self._finish_later(_Attempt(lease, -1, "other", 0.0, 0.0), after=call)

    def _finish_later(self, attempt: _Attempt, after: asyncio.Future[Grant] | None = None) -> None:
        """Run :meth:`_finish` in a task of its own, which :meth:`aclose` waits for."""
        task = asyncio.get_running_loop().create_task(self._finish(attempt, after))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def _finish(self, attempt: _Attempt, after: asyncio.Future[Grant] | None = None) -> None:
        assert attempt.lease is not None
        if after is not None:
            # Never raises; bounded even if the call ignores its cancellation.
            await asyncio.wait({after}, timeout=self.redis_timeout)
        conn = self._conn
        if conn is None or not self._sharing:
            return  # the lease expires on its own
        try:
            self.round, _ = await self._redis(
                asyncio.ensure_future(
                    conn.state.release(
                        attempt.lease,
                        outcome=attempt.outcome,
                        round=attempt.round,
                        pause=attempt.pause,
                        rtt=attempt.rtt,
                        now=self._now(),
                    )
                )
            )
        except _REDIS_DOWN as exc:
            self._fall_back(exc)

    def _fall_back(self, exc: BaseException) -> None:
        self._retry_at = time.monotonic() + self.retry_interval
        if self._sharing:
            self._sharing = False
            # The exception's type only: its text may name the host, never needed here.
            logger.warning(
                "Redis is unreachable (%s): rate limit for key %r falls back to this "
                "process alone until it returns",
                type(exc).__name__,
                self.key,
            )


def _check_positive(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not value > 0
        or value == float("inf")
    ):
        raise InvalidRequestError(f"{name} must be a positive number, got {value!r}", argument=name)

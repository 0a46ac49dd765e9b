"""Retry policy: :class:`RetryConfig`, which failures are retried, and how long to wait.

The transport runs the first attempt inline (tenacity costs ~20 µs a call even when nothing
fails) and hands a retryable failure to the tenacity controller built here.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from modelgates_async.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ModelGatesError,
    RateLimitError,
)

if TYPE_CHECKING:
    from tenacity import RetryCallState

__all__ = ["DEFAULT_STATUSES", "RetryConfig", "parse_retry_after"]

logger = logging.getLogger("modelgates_async")

DEFAULT_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})


def _non_negative(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    try:
        finite = not isinstance(value, bool) and math.isfinite(value)
    except OverflowError:  # an int too large to be a float (10**400)
        finite = False
    if not finite or value < 0:
        raise ValueError(
            f"RetryConfig.{attribute.name} must be a finite number >= 0, got {value!r}"
        )


def _positive_or_none(_: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"RetryConfig.{attribute.name} must be a number or None, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"RetryConfig.{attribute.name} must be a finite number > 0, got {value!r}")


def _positive_int(_: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"RetryConfig.{attribute.name} must be an integer >= 1, got {value!r}")


def _fraction(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(f"RetryConfig.{attribute.name} must be between 0 and 1, got {value!r}")


def _statuses(value: Iterable[int]) -> frozenset[int]:
    # A typed converter: with a bare ``frozenset`` mypy cannot type ``statuses={500}``.
    return frozenset(value)


@attrs.frozen
class RetryConfig:
    """How a call is retried on 429, 5xx, connection errors and timeouts.

    - ``attempts``: tries in all, the first included (1 turns retries off).
    - ``initial_backoff`` / ``max_backoff``: exponential backoff (seconds), doubled after
      each failure and capped; ``jitter`` removes up to that fraction at random so that
      many clients do not retry in step.
    - ``statuses``: the HTTP statuses worth another try.
    - ``max_retry_after``: the longest ``Retry-After`` / ``retry-after-ms`` honoured; a
      server that asks for longer gets the error raised at once instead of a long sleep.
    - ``retry_non_idempotent``: ``create`` (POST) is retried by default only where the
      server provably did nothing (429; a connection never established). True retries it
      on 5xx and dropped connections too, at the risk of a second key.

    - ``total_timeout``: a deadline (seconds) for the whole call — attempts, backoff and
      ``Retry-After`` waits together. The last attempt's timeout is shortened to fit; a
      wait that would end past it is not slept; past it, :class:`APITimeoutError` with
      ``total_timeout`` set. None (the default) keeps the bound below.

    Without ``total_timeout``, the total time of one call is bounded by
    ``attempts * timeout + (attempts - 1) * max(max_backoff, max_retry_after)``:
    with the defaults and ``timeout=30``, 3 × 30 + 2 × 30 = 150 seconds at the very most.
    """

    attempts: int = attrs.field(default=3, validator=_positive_int)
    initial_backoff: float = attrs.field(default=0.5, validator=_non_negative)
    max_backoff: float = attrs.field(default=8.0, validator=_non_negative)
    jitter: float = attrs.field(default=0.5, validator=_fraction)
    statuses: frozenset[int] = attrs.field(default=DEFAULT_STATUSES, converter=_statuses)
    max_retry_after: float = attrs.field(default=30.0, validator=_non_negative)
    retry_non_idempotent: bool = False
    total_timeout: float | None = attrs.field(default=None, validator=_positive_or_none)

    @classmethod
    def disabled(cls) -> RetryConfig:
        """A config that never retries."""
        return cls(attempts=1)

    def max_total_time(self, timeout: float) -> float:
        """The longest one call can take with this config and a per-attempt ``timeout``."""
        longest_wait = max(self.max_backoff, self.max_retry_after)
        bound = self.attempts * timeout + (self.attempts - 1) * longest_wait
        return bound if self.total_timeout is None else min(bound, self.total_timeout)

    def backoff(self, failures: int) -> float:
        """The wait after ``failures`` failed attempts when the server named none."""
        base = min(self.max_backoff, self.initial_backoff * 2.0 ** (failures - 1))
        return base * (1.0 - self.jitter * random.random())


def parse_retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, or ``Retry-After`` as
    seconds or as an HTTP date. ``None`` when it said nothing usable."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value):
            return max(0.0, value)
    header = headers.get("retry-after")
    if header is None:
        return None
    try:
        value = float(header)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0.0, when.timestamp() - now())
    return max(0.0, value) if math.isfinite(value) else None


def server_wait(exc: BaseException) -> float | None:
    """The wait a failed attempt's response asked for, if any."""
    if isinstance(exc, RateLimitError):
        return exc.retry_after  # parsed once, when the transport built the error
    if isinstance(exc, APIStatusError):
        return parse_retry_after(exc.headers)
    return None


def is_retryable(exc: BaseException, config: RetryConfig, *, idempotent: bool) -> bool:
    """Whether another attempt may follow this failure (before looking at attempt counts)."""
    if isinstance(exc, APIStatusError):
        if exc.status not in config.statuses:
            return False
        wait = server_wait(exc)
        if wait is not None and wait > config.max_retry_after:
            return False  # longer than we are willing to sleep: give the caller the error
        # A 429 means the request was refused unprocessed: safe even for create.
        return idempotent or exc.status == 429 or config.retry_non_idempotent
    if isinstance(exc, APIConnectionError):
        # Never connected: the server cannot have acted on the request.
        return idempotent or not exc.connected or config.retry_non_idempotent
    return False


# Test mode, switched by ``modelgates_async.testing.no_backoff()``: ``None`` sleeps for real;
# otherwise each pause is handed to this callable instead of being slept. A module global
# rather than a ContextVar so that it also reaches the sync facade's event-loop thread; one
# read per pause is all it costs.
skip_waits: Callable[[float], object] | None = None


async def sleep(seconds: float) -> None:
    """The pause between attempts and the rate limiter's pause (skipped in test mode)."""
    on_skip = skip_waits
    if on_skip is None:
        await asyncio.sleep(seconds)
        return
    on_skip(seconds)
    await asyncio.sleep(0)  # still a point where the task yields and may be cancelled


RetryCallback = Callable[[int, float, BaseException], Awaitable[None]]
"""``on_retry(failed_attempt, wait, exception)``, awaited before each wait."""


def total_timeout_error(
    config: RetryConfig, method: str, path: str, attempts: int, last: BaseException | None
) -> APITimeoutError:
    """The error of a call that ran out of ``config.total_timeout``."""
    exc = APITimeoutError(
        f"{method} {path} did not finish within RetryConfig.total_timeout="
        f"{config.total_timeout:g}s ({attempts} attempt(s); the last: {_describe(last)}).",
        method=method,
        path=path,
    )
    exc.total_timeout = config.total_timeout
    return exc


async def retry_after_first_failure(
    attempt: Callable[[], Awaitable[Any]],
    first_failure: ModelGatesError,
    config: RetryConfig,
    *,
    idempotent: bool,
    method: str,
    path: str,
    deadline: float | None = None,
    on_retry: RetryCallback | None = None,
) -> Any:
    """Run the remaining attempts under tenacity, replaying the inline first failure.

    ``deadline`` (the loop's clock) ends the call with :func:`total_timeout_error` instead
    of a wait that would end past it; ``on_retry`` hears of each retry before its wait.
    """
    # Imported on the first retry, not with the package: most programs never retry, and
    # tenacity is a sizeable share of ``import modelgates_async`` (see benchmarks/).
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

    pending: list[ModelGatesError] = [first_failure]
    attempts = 1
    # The failure after which the next wait would pass the deadline: the call ends there.
    out_of_time: list[BaseException] = []
    next_retry: list[tuple[int, float, BaseException]] = []
    clock = asyncio.get_running_loop().time

    async def call() -> Any:
        nonlocal attempts
        if pending:
            raise pending.pop()
        if out_of_time:
            last = out_of_time[0]
            raise total_timeout_error(config, method, path, attempts, last) from last
        attempts += 1
        return await attempt()

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = server_wait(exc) if exc is not None else None
        seconds = asked if asked is not None else config.backoff(state.attempt_number)
        if deadline is not None and exc is not None and clock() + seconds >= deadline:
            out_of_time.append(exc)
            return 0.0
        return seconds

    def should_retry(exc: BaseException) -> bool:
        if isinstance(exc, APITimeoutError) and exc.total_timeout is not None:
            return False
        return is_retryable(exc, config, idempotent=idempotent)

    def before_sleep(state: RetryCallState) -> None:
        if out_of_time:
            return
        exc = state.outcome.exception() if state.outcome else None
        wait_s = state.next_action.sleep if state.next_action else 0.0
        if on_retry is not None and exc is not None:
            next_retry.append((state.attempt_number, wait_s, exc))
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s failed (%s); retrying in %.3fs (attempt %d of %d)",
                method,
                path,
                _describe(exc),
                wait_s,
                state.attempt_number + 1,
                config.attempts,
            )

    async def pause(seconds: float) -> None:
        if out_of_time:
            return
        if next_retry and on_retry is not None:
            await on_retry(*next_retry.pop())
        await sleep(seconds)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(config.attempts),
        wait=wait,
        retry=retry_if_exception(should_retry),
        sleep=pause,
        before_sleep=before_sleep,
        reraise=True,
    )
    return await retrying(call)


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, APIStatusError):
        return f"status {exc.status}"
    if exc is None:
        return "unknown"
    return type(exc).__name__

"""One API request: URL, headers, JSON, status → error mapping, and the retry loop.

aiohttp's exceptions are mapped to ours here and nowhere else (httpcore's
``map_exceptions`` idea); they stay reachable as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from modelgates_async._body import DEFAULT_MAX_RESPONSE_BYTES, read_capped, reads_whole
from modelgates_async._convert import created_key_in_text
from modelgates_async._hooks import EventHooks
from modelgates_async._limiter import AdaptiveLimiter, RateLimiter
from modelgates_async._network import SSLOption
from modelgates_async._observe import observed_request
from modelgates_async._raw import CAPTURE, Exchange
from modelgates_async._redact import Redactor, install_log_filter, scrub_exception
from modelgates_async._retry import (
    RetryConfig,
    is_retryable,
    retry_after_first_failure,
)
from modelgates_async._status import NO_JSON, body_text, decode_json, status_error
from modelgates_async._tracing import current_tracer
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._validation import check_retries, check_timeout
from modelgates_async.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    ModelGatesError,
    RateLimitError,
)

__all__ = ["Transport"]

logger = logging.getLogger("modelgates_async")
install_log_filter(logger)

# Connection failures where no byte of the request reached the server.
_NOT_CONNECTED: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    *(c for c in (getattr(aiohttp, "ConnectionTimeoutError", None),) if c is not None),
)


# json.dumps(body, separators=...) builds a JSONEncoder on every call; one made once is the same.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode
# Answers whose JSON object is the result as it is (any other goes through _answer).
_PLAIN_OK = (200, 201)
# The ClientTimeout of each total (building one costs ~2 µs), read inline: ~0.2 µs less
# than an lru_cache hit. Bounded: computed deadlines give a new total per call.
_TIMEOUTS: dict[float, aiohttp.ClientTimeout] = {}


def _client_timeout(total: float) -> aiohttp.ClientTimeout:
    if len(_TIMEOUTS) >= 32:
        _TIMEOUTS.clear()
    made = _TIMEOUTS[total] = aiohttp.ClientTimeout(total=total)
    return made


class Transport:
    """Sends requests for one client: fixed headers, base URL, session, secrets to redact."""

    __slots__ = (
        "_base_url",
        "_get_session",
        "_headers",
        "_json_headers",
        "_max_response_bytes",
        "_proxy",
        "_redactor",
        "_ssl",
        "hooks",
        "limiter",
        "ready_session",
        "retries",
        "timeout",
    )

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        get_session: Callable[[], Awaitable[aiohttp.ClientSession]],
        ready_session: Callable[[], aiohttp.ClientSession | None] = lambda: None,
        secrets: tuple[str, ...],
        timeout: float,
        retries: RetryConfig,
        limiter: RateLimiter | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        hooks: EventHooks | None = None,
        proxy: str | None = None,
        ssl: SSLOption = True,
    ) -> None:
        #: The client's timeout and retry policy: what a call that passes none uses.
        self.timeout, self.retries = timeout, retries
        # Shared by every call of the client: a 429 anywhere slows all of them down.
        self.limiter = limiter if limiter is not None else AdaptiveLimiter()
        self._base_url = base_url
        # Read-only multidicts: aiohttp copies a dict into a new CIMultiDict on every call.
        self._headers = CIMultiDictProxy(CIMultiDict(headers))
        json_headers = CIMultiDict(headers)
        json_headers["Content-Type"] = "application/json"  # replaces any other spelling
        self._json_headers = CIMultiDictProxy(json_headers)
        # ready_session() without a frame of its own when it has one; else get_session().
        self._get_session, self.ready_session = get_session, ready_session
        self._redactor = Redactor(secrets)
        self._max_response_bytes = max_response_bytes
        # None, not an empty EventHooks: the plain path checks ``is None`` and nothing else.
        self.hooks = hooks if hooks else None
        self._proxy = proxy
        self._ssl = ssl

    @property
    def base_url(self) -> str:
        """The API's base URL, e.g. ``https://modelgates.ai/api/v1``."""
        return self._base_url

    def redact(self, text: str) -> str:
        """Replace every known secret and every ``sk-…``-shaped value in ``text`` with a mask."""
        return self._redactor.text(text)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: Mapping[str, Any] | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
        idempotent: bool = True,
        secrets: tuple[str | None, ...] = (),
    ) -> Awaitable[Any]:
        """Send a request; await it for the decoded JSON body, retried as ``retries`` says.

        ``timeout`` / ``retries`` not given are the client's (:attr:`timeout`,
        :attr:`retries`); given ones are checked here, so that bad options raise at the
        call, before anything is sent. ``secrets`` are this call's own (an external API key
        in the body): they are masked, with the client's, in every error and log record of
        the call. Not a coroutine itself: it hands back the first attempt's (one frame less
        on every call), which goes on to the retries when it fails.
        """
        timeout = self.timeout if timeout is NOT_GIVEN else check_timeout(timeout)
        retries = self.retries if retries is NOT_GIVEN else check_retries(retries)
        url = URL(self._base_url + path + query, encoded=True)
        data = None if body is None else _ENCODE(body).encode()
        client_timeout = _TIMEOUTS.get(timeout) or _client_timeout(timeout)
        redactor = self._redactor
        if secrets and any(secrets):  # most calls have none: no any() call for them
            redactor = redactor.with_secrets(secrets)

        if (
            self.hooks is None
            and retries.total_timeout is None
            and CAPTURE.get() is None
            and current_tracer() is None
        ):
            return self.attempt(
                method, path, url, data, client_timeout, retries, redactor, True, None, idempotent
            )
        # Hooks, a span, a raw capture or a deadline: the same attempts, observed.
        return observed_request(
            self, method, path, url, data, timeout, client_timeout, retries, idempotent, redactor
        )

    async def attempt(
        self,
        method: str,
        path: str,
        url: URL,
        data: bytes | None,
        client_timeout: aiohttp.ClientTimeout,
        retries: RetryConfig,
        redactor: Redactor,
        first: bool = False,
        exchange: Exchange | None = None,
        idempotent: bool | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One attempt: a place under the limiter, the request, its decoded JSON body.

        ``redactor`` masks the call's secrets in its errors; ``exchange``, when given,
        receives the status and headers of a 2xx answer. ``idempotent`` is given on the
        plain path only: then a failure that ``retries`` allows goes on to the remaining
        attempts from here (otherwise every failure is raised, for the caller to retry).
        ``extra_headers`` (a traced call's ``traceparent``) are sent with the client's.
        """
        headers = self._headers if data is None else self._json_headers
        if extra_headers is not None:
            merged = CIMultiDict(headers)
            merged.update(extra_headers)  # replaces a default header of the same name
            headers = CIMultiDictProxy(merged)
        limiter = self.limiter
        started_round = limiter.round
        if limiter.engaged:
            # Before aiohttp is asked for a connection. A retry has just waited on its
            # own (backoff or Retry-After), so only a first attempt waits for the pause.
            await limiter.acquire(wait_pause=first)
        else:
            limiter.in_flight += 1  # idle: all the limiter costs
        # The exchange itself is inline, not a coroutine of its own: one frame less on the
        # call and on every resumption of it while aiohttp waits for the network.
        failure: ModelGatesError | None = None
        try:
            session = self.ready_session() or await self._get_session()
            try:
                async with session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    timeout=client_timeout,
                    allow_redirects=False,
                    proxy=self._proxy,
                    ssl=self._ssl,
                ) as response:
                    status = response.status
                    response_headers = response.headers
                    cap = self._max_response_bytes
                    if reads_whole(response, cap):
                        raw, too_large = await response.read(), False  # no coroutine of ours
                    else:
                        raw, too_large = await read_capped(response, cap)
            except _NOT_CONNECTED as exc:
                raise _not_connected_error(exc, method, path, redactor) from exc
            except asyncio.TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too
                scrub_exception(exc, redactor)
                raise APITimeoutError(
                    f"{method} {path} timed out after {client_timeout.total}s.",
                    method=method,
                    path=path,
                ) from exc
            except aiohttp.ClientError as exc:
                scrub_exception(exc, redactor)
                raise APIConnectionError(
                    redactor.text(
                        f"Connection error during {method} {path}: {type(exc).__name__}: {exc}"
                    ),
                    method=method,
                    path=path,
                ) from exc
            if (
                status in _PLAIN_OK
                and not too_large
                and exchange is None
                and type(result := decode_json(raw)) is dict
            ):
                # The usual answer, taken here: no _answer frame on every call.
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("%s %s -> %d", method, path, status)
            else:
                result = self._answer(
                    method, path, status, response_headers, raw, too_large, redactor, exchange
                )
        except ModelGatesError as exc:
            if isinstance(exc, RateLimitError):
                wait = exc.retry_after if exc.retry_after is not None else retries.initial_backoff
                limiter.on_rate_limited(min(wait, retries.max_retry_after), started_round)
            if idempotent is None:
                raise
            failure = exc
        finally:
            limiter.release()
        if failure is None:
            if limiter.engaged:
                limiter.on_success()
            return result
        # The plain path's first attempt failed (this attempt's place is released).
        if (
            idempotent is None  # never here: such failures were raised above
            or retries.attempts <= 1
            or not is_retryable(failure, retries, idempotent=idempotent)
        ):
            raise failure
        return await retry_after_first_failure(
            lambda: self.attempt(method, path, url, data, client_timeout, retries, redactor),
            failure,
            retries,
            idempotent=idempotent,
            method=method,
            path=path,
        )

    def _answer(
        self,
        method: str,
        path: str,
        status: int,
        response_headers: CIMultiDictProxy[str],
        raw: bytes,
        too_large: bool,
        redactor: Redactor,
        exchange: Exchange | None,
    ) -> Any:
        """The decoded JSON body of a 2xx answer; the error to raise for any other."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s -> %d", method, path, status)
        if 200 <= status < 300:
            if too_large:
                limit = self._max_response_bytes
                raise APIResponseValidationError(
                    f"{method} {path} answered {status} with a body larger than "
                    f"max_response_bytes ({limit} bytes); it was not read further.",
                    status=status,
                    errors=(f"$: response body too large (over {limit} bytes)",),
                )
            if exchange is not None:
                exchange.status, exchange.headers = status, response_headers
            decoded = decode_json(raw)
            if status == 201 and not isinstance(decoded, dict):
                # A key was made, but the answer is no record: keep its secret (promise 1).
                text = raw.decode("utf-8", "replace")
                kept = created_key_in_text(text, redactor, method=method, path=path, status=status)
                if kept is not None:
                    raise kept
            if decoded is NO_JSON:
                # Raised outside any except block: json's error keeps the whole document
                # (``.doc``), secrets included, and would ride along as __context__.
                raise APIResponseValidationError(
                    f"{method} {path} answered {status} with a body that is not JSON.",
                    status=status,
                    body=body_text(raw, redactor),
                )
            return decoded
        raise status_error(method, path, status, raw, response_headers, redactor)


def _not_connected_error(
    exc: BaseException, method: str, path: str, redactor: Redactor
) -> APIConnectionError:
    """The error of a request that never reached the server (raise it ``from exc``)."""
    scrub_exception(exc, redactor)
    if isinstance(exc, asyncio.TimeoutError):
        return APITimeoutError(
            f"Timed out connecting for {method} {path}.",
            method=method,
            path=path,
            connected=False,
        )
    return APIConnectionError(
        redactor.text(f"Could not connect for {method} {path}: {exc}"),
        method=method,
        path=path,
        connected=False,
    )

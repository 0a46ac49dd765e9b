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

from modelgates_async._limiter import AdaptiveLimiter, RateLimiter
from modelgates_async._retry import (
    RetryConfig,
    is_retryable,
    parse_retry_after,
    retry_after_first_failure,
)
from modelgates_async.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    ModelGatesError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

__all__ = ["Transport"]

logger = logging.getLogger("modelgates_async")

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}
_MAX_ERROR_TEXT = 2000
# Connection failures where no byte of the request reached the server.
_NOT_CONNECTED: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    *(c for c in (getattr(aiohttp, "ConnectionTimeoutError", None),) if c is not None),
)


class Transport:
    """Sends requests for one client: fixed headers, base URL, session, secrets to redact."""

    __slots__ = (
        "_base_url",
        "_get_session",
        "_headers",
        "_json_headers",
        "_secrets",
        "_timeouts",
        "limiter",
    )

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        get_session: Callable[[], Awaitable[aiohttp.ClientSession]],
        secrets: tuple[str, ...],
        limiter: RateLimiter | None = None,
    ) -> None:
        # Shared by every call of the client: a 429 anywhere slows all of them down.
        self.limiter = limiter if limiter is not None else AdaptiveLimiter()
        self._base_url = base_url
        self._headers = dict(headers)
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._get_session = get_session
        self._secrets = tuple(s for s in secrets if s)
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def redact(self, text: str) -> str:
        """Replace every known secret in ``text`` with a mask."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: Mapping[str, Any] | None = None,
        timeout: float,
        retries: RetryConfig,
        idempotent: bool = True,
    ) -> Any:
        """Send a request and return its decoded JSON body, retrying as ``retries`` says."""
        url = URL(self._base_url + path + query, encoded=True)
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        client_timeout = self._timeouts.get(timeout)
        if client_timeout is None:
            client_timeout = self._timeouts[timeout] = aiohttp.ClientTimeout(total=timeout)

        limiter = self.limiter

        async def attempt(first: bool = False) -> Any:
            started_round = limiter.round
            if limiter.engaged:
                # Before aiohttp is asked for a connection. A retry has just waited on its
                # own (backoff or Retry-After), so only a first attempt waits for the pause.
                await limiter.acquire(wait_pause=first)
            else:
                limiter.in_flight += 1  # idle: all the limiter costs
            try:
                result = await self._send(method, path, url, data, client_timeout)
            except RateLimitError as exc:
                wait = exc.retry_after if exc.retry_after is not None else retries.initial_backoff
                limiter.on_rate_limited(min(wait, retries.max_retry_after), started_round)
                raise
            finally:
                limiter.release()
            if limiter.engaged:
                limiter.on_success()
            return result

        try:
            return await attempt(True)
        except ModelGatesError as exc:
            if retries.attempts <= 1 or not is_retryable(exc, retries, idempotent=idempotent):
                raise
            first_failure = exc
        return await retry_after_first_failure(
            attempt, first_failure, retries, idempotent=idempotent, method=method, path=path
        )

    async def _send(
        self,
        method: str,
        path: str,
        url: URL,
        data: bytes | None,
        timeout: aiohttp.ClientTimeout,
    ) -> Any:
        session = await self._get_session()
        headers = self._headers if data is None else self._json_headers
        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                status = response.status
                raw = await response.read()
                response_headers = response.headers
        except _NOT_CONNECTED as exc:
            if isinstance(exc, asyncio.TimeoutError):
                raise APITimeoutError(
                    f"Timed out connecting for {method} {path}.",
                    method=method,
                    path=path,
                    connected=False,
                ) from exc
            raise APIConnectionError(
                self.redact(f"Could not connect for {method} {path}: {exc}"),
                method=method,
                path=path,
                connected=False,
            ) from exc
        except asyncio.TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too
            raise APITimeoutError(
                f"{method} {path} timed out after {timeout.total}s.", method=method, path=path
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                self.redact(
                    f"Connection error during {method} {path}: {type(exc).__name__}: {exc}"
                ),
                method=method,
                path=path,
            ) from exc
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s %s -> %d", method, path, status)
        if 200 <= status < 300:
            try:
                return json.loads(raw)
            except ValueError as exc:
                raise APIResponseValidationError(
                    f"{method} {path} answered {status} with a body that is not JSON.",
                    status=status,
                    body=self.redact(raw[:_MAX_ERROR_TEXT].decode("utf-8", "replace")),
                ) from exc
        raise self._status_error(method, path, status, raw, response_headers)

    def _text(self, raw: bytes) -> str:
        return self.redact(raw[:_MAX_ERROR_TEXT].decode("utf-8", "replace"))

    def _status_error(
        self, method: str, path: str, status: int, raw: bytes, headers: CIMultiDictProxy[str]
    ) -> APIStatusError:
        code: int | None = None
        metadata: Mapping[str, Any] | None = None
        user_id: str | None = None
        body: object
        message: str | None = None
        try:
            body = json.loads(raw)
        except ValueError:
            body = self._text(raw)
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                if isinstance(error.get("message"), str):
                    message = self.redact(error["message"])
                if isinstance(error.get("code"), int):
                    code = error["code"]
                if isinstance(error.get("metadata"), dict):
                    metadata = error["metadata"]
            elif isinstance(error, str):
                message = self.redact(error)
            if isinstance(body.get("user_id"), str):
                user_id = body["user_id"]
        elif isinstance(body, str) and body.strip():
            message = f"HTTP {status}: {_first_line(body)}"
        if message is None:
            message = f"HTTP {status}"
        cls = _STATUS_ERRORS.get(status)
        if cls is None:
            cls = InternalServerError if status >= 500 else APIStatusError
        kwargs: dict[str, Any] = {
            "status": status,
            "code": code,
            "metadata": metadata,
            "user_id": user_id,
            "headers": CIMultiDict(headers),
            "body": body,
            "method": method,
            "path": path,
        }
        if cls is RateLimitError:
            return RateLimitError(message, retry_after=parse_retry_after(headers), **kwargs)
        return cls(message, **kwargs)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:200]

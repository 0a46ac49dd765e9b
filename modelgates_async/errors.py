"""The exception hierarchy of modelgates-async.

::

    ModelGatesError
    ├── InvalidRequestError (also ValueError) — refused before anything is sent
    ├── APIConnectionError — no HTTP answer
    │   └── APITimeoutError (also TimeoutError)
    ├── APIResponseValidationError — a 2xx whose body is not what the spec says
    └── APIStatusError — the server answered 4xx/5xx
        ├── BadRequestError 400
        ├── AuthenticationError 401
        ├── PermissionDeniedError 403
        ├── NotFoundError 404
        ├── RateLimitError 429 (.retry_after)
        └── InternalServerError 5xx

Two more carry records, so they live beside them: ``BulkError`` (``_bulk.py``, from
``BulkResult.raise_for_errors()``; ``.result`` keeps every outcome) and ``RotationError``
(``_usecases.py``; ``.new_key`` keeps a replacement that was created). Both are
``ModelGatesError`` subclasses exported from the package.

No message, repr or attribute of these exceptions carries the API key or a created key's
secret: the transport redacts them before an exception is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "InternalServerError",
    "InvalidRequestError",
    "ModelGatesError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
]


class ModelGatesError(Exception):
    """Base class of every error raised by modelgates-async."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(ModelGatesError, ValueError):
    """An argument was refused before any request was sent; ``argument`` names it."""

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class APIConnectionError(ModelGatesError):
    """No HTTP answer was received (DNS, refused connection, reset, TLS …).

    The aiohttp exception is kept as ``__cause__``. ``connected`` is False when the
    connection was never established, so the server provably did nothing.
    """

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        method: str = "",
        path: str = "",
        connected: bool = True,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.connected = connected


class APITimeoutError(APIConnectionError, TimeoutError):
    """The request did not complete within its timeout.

    ``total_timeout`` is set (seconds) when the whole call ran out of
    ``RetryConfig.total_timeout``, waits included; None when one attempt timed out.
    """

    total_timeout: float | None = None

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        method: str = "",
        path: str = "",
        connected: bool = True,
    ) -> None:
        super().__init__(message, method=method, path=path, connected=connected)


class APIResponseValidationError(ModelGatesError):
    """A successful response whose body does not match the API's schema.

    ``errors`` lists one message per offending field, e.g. ``data.limit: expected a number``.
    """

    def __init__(
        self, message: str, *, status: int, body: object = None, errors: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.errors = errors


class APIStatusError(ModelGatesError):
    """The server answered with a 4xx or 5xx status.

    ``code``, ``message`` and ``metadata`` come from the error body
    (``{"error": {"code", "message", "metadata"}}``); a body that is not JSON (an HTML page
    from a proxy) keeps its text in ``body`` and still maps by status.
    """

    status: int

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | None = None,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: object = None,
        method: str = "",
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.metadata = metadata
        self.user_id = user_id
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self.body = body
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method else ""
        return f"{self.status}{where}: {self.message}"


class BadRequestError(APIStatusError):
    """400: invalid parameters or malformed input."""


class AuthenticationError(APIStatusError):
    """401: missing, malformed, unknown, disabled or expired API key."""


class PermissionDeniedError(APIStatusError):
    """403: authenticated, but this key may not do that (e.g. not a management key)."""


class NotFoundError(APIStatusError):
    """404: no such key (or route)."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's wait in seconds, if it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the server failed."""

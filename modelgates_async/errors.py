"""Every exception of modelgates-async, in one tree.

::

    ModelGatesError
    ├── InvalidRequestError (also ValueError) — refused before anything is sent
    ├── APIConnectionError — no HTTP answer
    │   └── APITimeoutError (also TimeoutError)
    ├── APIResponseValidationError — a 2xx whose body is not what the spec says
    │   └── CreatedKeyValidationError — … of a create: the key exists, .key is its secret
    ├── BulkError — BulkResult.raise_for_errors(); .result keeps every outcome
    ├── RotationError — rotate() stopped part-way; .stage, .new_key
    ├── PaginationError — iter() got a full page with no key it had not seen; .offset
    ├── NotStartedError — a bulk run was interrupted before this input was sent
    ├── OutcomeUnknownError — a bulk call was abandoned after it was sent
    ├── JournalError — a bulk journal cannot be used (.path)
    │   └── JournalMismatchError — the journal was written for other specs (.index)
    ├── ClientClosedError — a call on a closed client, or on a sync runtime that shut down
    ├── UsageError (also RuntimeError) — used in a way that cannot work: no API key, an
    │                                    aiohttp session of another loop, a sync call made
    │                                    on the facade's own loop thread
    └── APIStatusError — the server answered 4xx/5xx
        ├── BadRequestError 400
        ├── AuthenticationError 401
        ├── PermissionDeniedError 403
        ├── NotFoundError 404
        ├── ConflictError 409
        ├── RateLimitError 429 (.retry_after)
        └── InternalServerError 5xx

No message, repr or attribute of these exceptions carries the API key or a created key's
secret: the transport redacts them before an exception is built, and every exception masks
``sk-…``-shaped values in what it is given once more (``_redact``). One documented exception:
``CreatedKeyValidationError.key`` keeps the secret of a key that was created (promise 1); it
is an attribute only, never in ``str()`` or ``repr()``.

An interrupted bulk call (``CancelledError``, ``KeyboardInterrupt``) carries every outcome so
far as ``.partial_result`` (``modelgates_async._pool``, ``modelgates_async._loop``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from modelgates_async._redact import REDACTOR, redact
from modelgates_async.models import CreatedKey

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BulkError",
    "ClientClosedError",
    "ConflictError",
    "CreatedKeyValidationError",
    "InternalServerError",
    "InvalidRequestError",
    "JournalError",
    "JournalMismatchError",
    "ModelGatesError",
    "NotFoundError",
    "NotStartedError",
    "OutcomeUnknownError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RotationError",
    "UsageError",
]


class ModelGatesError(Exception):
    """Base class of every error raised by modelgates-async."""

    def __init__(self, message: str) -> None:
        message = redact(message)
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
        self.body = redact(body)
        self.errors: tuple[str, ...] = redact(errors)


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
        self.metadata: Mapping[str, Any] | None = redact(metadata)
        self.user_id = redact(user_id)
        self.headers: Mapping[str, str] = REDACTOR.headers(headers) if headers is not None else {}
        self.body = redact(body)
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


class ConflictError(APIStatusError):
    """409: the key was changed concurrently, or cannot be moved to that workspace."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` is the server's wait in seconds, if it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


# --- what the errors carry -----------------------------------------------------------------
# The bulk records import this module (raise_for_errors raises BulkError), so it does not
# import them: these protocols say what BulkError holds, and BulkResult satisfies them.


class BulkOutcome(Protocol):
    """One input's outcome, as :class:`~modelgates_async.BulkItem` has it."""

    @property
    def index(self) -> int: ...
    @property
    def input(self) -> Any: ...
    @property
    def value(self) -> Any: ...
    @property
    def error(self) -> Exception | None: ...
    @property
    def ok(self) -> bool: ...
    def unwrap(self) -> Any: ...


class BulkOutcomes(Protocol):
    """Every outcome of a bulk run, as :class:`~modelgates_async.BulkResult` has them."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[BulkOutcome]: ...
    def __getitem__(self, index: int) -> BulkOutcome: ...
    @property
    def items(self) -> Sequence[BulkOutcome]: ...
    @property
    def total(self) -> int: ...
    @property
    def succeeded(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def ok(self) -> bool: ...
    @property
    def values(self) -> list[Any]: ...
    @property
    def errors(self) -> Sequence[BulkOutcome]: ...


class BulkError(ModelGatesError):
    """Some inputs of a bulk run failed; ``result`` still holds every input's outcome.

    Raised by :meth:`BulkResult.raise_for_errors`, so the values that did succeed (the
    secrets of keys that were created) stay reachable as ``exc.result.values``. ``result``
    is that :class:`~modelgates_async.BulkResult` (typed by what it offers, :class:`BulkOutcomes`).
    """

    def __init__(self, result: BulkOutcomes) -> None:
        errors = result.errors
        kinds = Counter(type(item.error).__name__ for item in errors)
        summary = ", ".join(f"{n} × {name}" for name, n in kinds.most_common())
        first = errors[0]
        super().__init__(
            f"{result.failed} of {result.total} failed ({summary}); "
            f"first: item {first.index}: {first.error}. "
            "Every outcome, the successes included, is in .result."
        )
        self.result = result


class RotationError(ModelGatesError):
    """A rotation stopped half-way; the old key is unchanged.

    ``new_key`` is the replacement when it was created but could not be finished or the
    old key could not be retired: its secret (``new_key.key``) is shown nowhere else, so
    keep it. ``new_key`` is None when no replacement remains. ``old_hash`` names the old key,
    ``stage`` says which step failed: ``"create"`` (no replacement remains),
    ``"disable"`` (the replacement of a disabled key could be neither disabled nor deleted:
    it is enabled, in ``new_key``) or ``"retire"``; ``__cause__`` is the error of that
    step. The message never contains a secret.
    """

    def __init__(
        self, message: str, *, old_hash: str, stage: str, new_key: CreatedKey | None = None
    ) -> None:
        super().__init__(message)
        self.old_hash = old_hash
        self.stage = stage
        self.new_key = new_key


class PaginationError(ModelGatesError):
    """A walk over the pages of ``GET /keys`` stopped: a full page held no key it had not
    already seen, so going on could loop forever.

    Either the server repeats pages (it ignores ``offset``), or keys were created faster
    than the walk moves (more than ``iter()``'s documented bound between two pages).
    ``offset`` is where the page that brought nothing new started.
    """

    def __init__(self, message: str, *, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class ClientClosedError(ModelGatesError):
    """The client is closed (or the sync runtime shut down at exit); create a new client."""


class UsageError(ModelGatesError, RuntimeError):
    """The client was used in a way that cannot work; the message says what to change.

    No API key, an aiohttp session that belongs to another event loop, or a call of the sync
    facade made on the facade's own event-loop thread (it would wait for itself forever).
    """


# --- promise 1: outcomes that must not be lost ---------------------------------------------


class CreatedKeyValidationError(APIResponseValidationError):
    """A create (or a rotation's create) answered 2xx, so the key exists, but its record
    does not match the schema (a new enum value, a null, a missing field).

    The secret is not lost: ``key`` holds it and ``key_hash`` the key's hash when the body
    named one (else None). ``str()``/``repr()`` never show the secret; store it, then fix or
    delete the key. ``errors`` names the offending fields as for any validation error.

    A 201 whose body is no JSON object at all raises this too when the body holds exactly
    one ``sk-…`` value other than the client's own key: ``key`` is that value.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str,
        key_hash: str | None,
        status: int,
        errors: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, status=status, errors=errors)
        self.key = key
        self.key_hash = key_hash

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, key_hash={self.key_hash!r})"


class NotStartedError(ModelGatesError):
    """The error of a bulk input that was never sent: the run was interrupted first.

    Found in the ``.partial_result`` of an interrupted bulk call; nothing was done for
    this input, so running it again is safe.
    """

    def __init__(self, message: str = "Not started: the bulk run was interrupted first.") -> None:
        super().__init__(message)


class OutcomeUnknownError(ModelGatesError):
    """The error of a bulk input whose call was sent but abandoned before its answer (a
    second interruption, or the worker died). The call may have taken effect: for a
    create, a key may exist whose secret never arrived — a journal resume finds and
    deletes such an orphan."""

    def __init__(
        self, message: str = "Outcome unknown: the call was sent, then abandoned."
    ) -> None:
        super().__init__(message)


class JournalError(ModelGatesError):
    """A bulk journal cannot be used: unreadable, corrupt, readable by others, or in use
    by another process. ``path`` names the file; nothing was sent."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class JournalMismatchError(JournalError):
    """The journal was written for other specs than the ones given (another file, edited
    or reordered specs). ``index`` is the first spec that differs (None when the count
    differs first). Nothing was sent: resume with the specs of the journal, or start a
    new journal."""

    def __init__(self, message: str, *, path: str, index: int | None) -> None:
        super().__init__(message, path=path)
        self.index = index

"""Reading an answer: its JSON body, and the error to raise for a non-2xx status.

Split from ``_transport`` (which sends and retries) so that each stays small.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from multidict import CIMultiDictProxy

from modelgates_async._redact import Redactor
from modelgates_async._retry import parse_retry_after
from modelgates_async.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

__all__ = ["NO_JSON", "body_text", "decode_json", "status_error"]

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}
_MAX_ERROR_TEXT = 2000

NO_JSON: Any = object()
"""What :func:`decode_json` returns for a body that is not JSON."""
_DECODER = json.JSONDecoder()
_DECODE = _DECODER.decode
# The C scanner under ``decode``: a body that is one JSON value from its first character
# to its last (what servers send) needs nothing else; ``decode`` adds two regex matches
# and two Python frames around it (~0.4 µs of a get).
# (An attribute decode's __init__ sets; typeshed does not declare it.)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def status_error(
    method: str,
    path: str,
    status: int,
    raw: bytes,
    headers: CIMultiDictProxy[str],
    redactor: Redactor,
) -> APIStatusError:
    """The error to raise for a non-2xx answer, its body and headers redacted."""
    # A body cut at max_response_bytes is not JSON: it is kept as (truncated) text.
    code: int | None = None
    metadata: Mapping[str, Any] | None = None
    user_id: str | None = None
    body: object = decode_json(raw)
    message: str | None = None
    body = body_text(raw, redactor) if body is NO_JSON else redactor.value(body)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            if isinstance(error.get("message"), str):
                message = error["message"]
            if isinstance(error.get("code"), int):
                code = error["code"]
            if isinstance(error.get("metadata"), dict):
                metadata = error["metadata"]
        elif isinstance(error, str):
            message = error
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
        "headers": redactor.headers(headers),
        "body": body,
        "method": method,
        "path": path,
    }
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=parse_retry_after(headers), **kwargs)
    return cls(message, **kwargs)


def decode_json(raw: bytes) -> Any:
    """The decoded body, or ``NO_JSON`` (a nesting too deep for json counts as not JSON)."""
    try:
        # UTF-8, as servers send JSON: decoding it first skips json's encoding sniffing,
        # and the decoder's own method skips json.loads' checks (a BOM fails either way).
        text = raw.decode()
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:  # no value at the first character: leading space, or none
            return _DECODE(text)
        # Anything after the value (whitespace, or extra data to refuse): decode's rules.
        return value if end == len(text) else _DECODE(text)
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(raw)  # what that refused: a BOM, UTF-16/32, lone surrogates
    except (ValueError, RecursionError):
        return NO_JSON


def body_text(raw: bytes, redactor: Redactor) -> str:
    """The start of a body as text, secrets masked (for an error's ``body``)."""
    return redactor.text(raw[:_MAX_ERROR_TEXT].decode("utf-8", "replace"))


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:200]

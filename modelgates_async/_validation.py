"""Argument checks, run before any request is sent.

Each ``check_*`` returns the value to send (or raises :class:`InvalidRequestError` naming the
argument). ``_request_body`` builds the JSON of a create / an update from them; the bulk
methods run them on every input before the first call.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

from modelgates_async._redact import looks_like_secret
from modelgates_async._retry import RetryConfig
from modelgates_async._types import NotGiven
from modelgates_async.errors import InvalidRequestError
from modelgates_async.models import RETIRE_MODES, LimitReset, RetireMode, parse_datetime

__all__ = [
    "check_bool",
    "check_encodable",
    "check_expires_at",
    "check_external",
    "check_hash",
    "check_limit",
    "check_limit_reset",
    "check_name",
    "check_offset",
    "check_optional_str",
    "check_retire",
    "check_retries",
    "check_threshold",
    "check_timeout",
    "check_workspace_id",
]

# Characters that cannot change the URL path: no "/", "?", "#", "%", whitespace, "\\".
_SAFE_HASH = re.compile(r"[A-Za-z0-9._~-]+")
_RESET_VALUES = ", ".join(repr(r.value) for r in LimitReset)
# Offsets beyond what any server counts (a 64-bit integer) are refused, not sent.
_MAX_OFFSET = 2**63 - 1


def _type_name(value: object) -> str:
    return type(value).__name__


def _show(value: object) -> str:
    """``repr(value)`` for a message, short; an integer too long to print is described."""
    try:
        text = repr(value)
    except ValueError:  # int of more than 4300 digits
        return f"an {_type_name(value)} too large to print"
    return text if len(text) <= 80 else text[:77] + "..."


def check_hash(value: Any, argument: str = "hash") -> str:
    """A key hash that is safe to put in the URL path."""
    if type(value) is str and value.isascii() and value.isalnum():
        # The usual hash (hex): ASCII letters and digits only, so not empty, no "." and no
        # "-" (no "sk-" secret either). Two C calls; anything else gets every check below.
        return value
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{argument} must be a string, got {_type_name(value)}", argument=argument
        )
    if not value:
        raise InvalidRequestError(f"{argument} must not be empty", argument=argument)
    if looks_like_secret(value):
        # Never echoed: it is most likely a created key's secret, passed by mistake.
        raise InvalidRequestError(
            f"{argument} looks like a key's secret (sk-…), not its hash: pass the key's "
            "hash (CreatedKey.data.hash, APIKey.hash); the secret was not sent",
            argument=argument,
        )
    if not _SAFE_HASH.fullmatch(value) or ".." in value or value == ".":
        raise InvalidRequestError(
            f"{argument} {value[:80]!r} is not a key hash: it may only contain letters, digits "
            "and '._~-' (no '/', '..', '?', '#', '%' or whitespace)",
            argument=argument,
        )
    return value


def check_name(value: Any, argument: str = "name") -> str:
    """A key name: a string that is not blank."""
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{argument} must be a string, got {_type_name(value)}", argument=argument
        )
    if not value.strip():
        raise InvalidRequestError(f"{argument} must not be empty or blank", argument=argument)
    return check_encodable(value, argument)


def check_encodable(value: str, argument: str) -> str:
    """A string that UTF-8 can encode (no lone surrogates such as ``"\\ud800"``)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"{argument} contains a character UTF-8 cannot encode (a lone surrogate "
            f"{value[exc.start]!r} at index {exc.start})",
            argument=argument,
        ) from None
    return value


def _as_float(value: int | float, argument: str) -> float:
    """``float(value)``, or InvalidRequestError for an integer too large to be one."""
    try:
        return float(value)
    except OverflowError:
        raise InvalidRequestError(
            f"{argument} is too large to be a number (it exceeds 1.8e308)", argument=argument
        ) from None


def check_limit(value: Any, argument: str = "limit") -> float | int | None:
    """A spending limit in USD: a finite number >= 0, or None to clear it."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(
            f"{argument} must be a number of USD or None, got {_type_name(value)}",
            argument=argument,
        )
    if not math.isfinite(_as_float(value, argument)):
        raise InvalidRequestError(
            f"{argument} must be finite, got {_show(value)}", argument=argument
        )
    if value < 0:
        raise InvalidRequestError(f"{argument} must be >= 0, got {_show(value)}", argument=argument)
    return value


def check_limit_reset(value: Any, argument: str = "limit_reset") -> str | None:
    """``LimitReset`` or one of its string values, or None for no reset; returns the wire value."""
    if value is None:
        return None
    if isinstance(value, LimitReset):
        return value.value
    if isinstance(value, str):
        try:
            return LimitReset(value).value
        except ValueError:
            pass
    raise InvalidRequestError(
        f"{argument} must be one of {_RESET_VALUES} or None, got {_show(value)}", argument=argument
    )


def check_bool(value: Any, argument: str) -> bool:
    """A real ``bool`` (not 0/1, not a string)."""
    if value is True or value is False:
        return bool(value)
    raise InvalidRequestError(
        f"{argument} must be True or False, got {_type_name(value)}", argument=argument
    )


def check_optional_str(value: Any, argument: str) -> str | None:
    """A string or None."""
    if value is None:
        return value
    if isinstance(value, str):
        return check_encodable(value, argument)
    raise InvalidRequestError(
        f"{argument} must be a string or None, got {_type_name(value)}", argument=argument
    )


def check_workspace_id(value: Any, argument: str = "workspace_id") -> str | None:
    """A workspace id, or None (the default workspace); blank strings are refused."""
    if value is None or isinstance(value, NotGiven):
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{argument} must be a string or None, got {_type_name(value)}", argument=argument
        )
    if not value.strip():
        raise InvalidRequestError(f"{argument} must not be blank", argument=argument)
    return check_encodable(value, argument)


def check_expires_at(value: Any, argument: str = "expires_at") -> str | None:
    """An aware datetime (converted to UTC) or an ISO 8601 string already in UTC.

    Returns the wire form, ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``; None means "never expires".
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise InvalidRequestError(
                f"{argument} must be timezone-aware (e.g. datetime(..., tzinfo=timezone.utc)); "
                "a naive datetime is ambiguous",
                argument=argument,
            )
        try:
            utc = value.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:  # datetime.max at UTC-1 is past year 9999 in UTC
            raise InvalidRequestError(
                f"{argument} {value.isoformat()} is out of range once converted to UTC",
                argument=argument,
            ) from None
        return utc.isoformat() + "Z"
    if isinstance(value, str):
        if not value.endswith(("Z", "z", "+00:00")):
            raise InvalidRequestError(
                f"{argument} string must be an ISO 8601 UTC timestamp ending in 'Z' or "
                f"'+00:00', got {_show(value)}; pass an aware datetime to have it converted",
                argument=argument,
            )
        try:
            parse_datetime(value)
        except ValueError:
            raise InvalidRequestError(
                f"{argument} is not an ISO 8601 timestamp: {_show(value)}", argument=argument
            ) from None
        if "T" not in value.upper():
            raise InvalidRequestError(
                f"{argument} must include a time, got {_show(value)}", argument=argument
            )
        return value
    raise InvalidRequestError(
        f"{argument} must be a datetime, an ISO 8601 UTC string or None, got {_type_name(value)}",
        argument=argument,
    )


MIN_EXTERNAL_API_KEY = 32
"""The shortest ``external_api_key`` the API accepts."""


def check_external(user: Any, api_key: Any) -> dict[str, str] | None:
    """The ``external`` object of a create — ``{"user", "api_key"}`` — or None to send none.

    ``external_user`` is a non-blank string; ``external_api_key`` (optional, at least 32
    characters) needs an ``external_user`` beside it, as the API requires. None or
    NOT_GIVEN leave a part out. The key is a secret: no message here ever quotes it.
    """
    user = None if isinstance(user, NotGiven) else user
    api_key = None if isinstance(api_key, NotGiven) else api_key
    if api_key is not None:
        if not isinstance(api_key, str):
            raise InvalidRequestError(
                f"external_api_key must be a string, got {_type_name(api_key)}",
                argument="external_api_key",
            )
        if len(api_key) < MIN_EXTERNAL_API_KEY:
            raise InvalidRequestError(
                f"external_api_key must be at least {MIN_EXTERNAL_API_KEY} characters long",
                argument="external_api_key",
            )
        if user is None:
            raise InvalidRequestError(
                "external_api_key needs external_user: the API stores an external key only "
                "with the external user it belongs to",
                argument="external_user",
            )
    if user is None:
        return None
    external = {"user": check_name(user, "external_user")}
    if api_key is not None:
        external["api_key"] = api_key
    return external


def check_offset(value: Any, argument: str = "offset") -> int:
    """A page offset: an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(
            f"{argument} must be an integer, got {_type_name(value)}", argument=argument
        )
    if value < 0:
        raise InvalidRequestError(f"{argument} must be >= 0, got {_show(value)}", argument=argument)
    if value > _MAX_OFFSET:
        raise InvalidRequestError(f"{argument} must be < 2**63", argument=argument)
    return value


def _positive_finite(value: Any, argument: str, kind: str, hint: str = "") -> float:
    """A finite number > 0 (``kind`` says what it counts; ``hint`` follows "> 0")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(
            f"{argument} must be {kind}, got {_type_name(value)}", argument=argument
        )
    number = _as_float(value, argument)
    if not math.isfinite(number) or number <= 0:
        raise InvalidRequestError(
            f"{argument} must be a finite number > 0{hint}, got {_show(value)}",
            argument=argument,
        )
    return number


def check_timeout(value: Any, argument: str = "timeout") -> float:
    """A timeout in seconds: a finite number > 0."""
    return _positive_finite(value, argument, "a number of seconds")


def check_retries(value: Any, argument: str = "retries") -> RetryConfig:
    """A :class:`RetryConfig`."""
    if not isinstance(value, RetryConfig):
        raise InvalidRequestError(
            f"{argument} must be a RetryConfig, got {_type_name(value)}", argument=argument
        )
    return value


def check_threshold(value: Any, argument: str = "threshold") -> float:
    """A share of a key's limit: a finite number > 0 (1.0: at the limit)."""
    return _positive_finite(value, argument, "a number", " (1.0: at the limit)")


def check_retire(value: Any, argument: str = "retire") -> RetireMode:
    """What ``rotate()`` does with the old key: ``"disable"`` or ``"delete"``."""
    for mode in RETIRE_MODES:
        if value == mode and isinstance(value, str):
            return mode
    raise InvalidRequestError(
        f"{argument} must be 'disable' or 'delete', got {_show(value)}", argument=argument
    )

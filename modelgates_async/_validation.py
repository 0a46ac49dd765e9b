"""Argument checks and request bodies, run before any request is sent.

Each ``check_*`` returns the value to send (or raises :class:`InvalidRequestError` naming the
argument); :func:`create_body` / :func:`update_body` build the JSON of a create / an update
from ``create()``'s / ``update()``'s keyword arguments with those checks; the bulk methods run
them on every input before the first call.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from modelgates_async._retry import RetryConfig
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async.errors import InvalidRequestError
from modelgates_async.models import RETIRE_MODES, LimitReset, RetireMode, parse_datetime

__all__ = [
    "check_bool",
    "check_expires_at",
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
    "create_body",
    "query_string",
    "update_body",
]

# Characters that cannot change the URL path: no "/", "?", "#", "%", whitespace, "\\".
_SAFE_HASH = re.compile(r"[A-Za-z0-9._~-]+")
_RESET_VALUES = ", ".join(repr(r.value) for r in LimitReset)


def _type_name(value: object) -> str:
    return type(value).__name__


def check_hash(value: Any, argument: str = "hash") -> str:
    """A key hash that is safe to put in the URL path."""
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{argument} must be a string, got {_type_name(value)}", argument=argument
        )
    if not value:
        raise InvalidRequestError(f"{argument} must not be empty", argument=argument)
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
    return value


def check_limit(value: Any, argument: str = "limit") -> float | int | None:
    """A spending limit in USD: a finite number >= 0, or None to clear it."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(
            f"{argument} must be a number of USD or None, got {_type_name(value)}",
            argument=argument,
        )
    if not math.isfinite(value):
        raise InvalidRequestError(f"{argument} must be finite, got {value!r}", argument=argument)
    if value < 0:
        raise InvalidRequestError(f"{argument} must be >= 0, got {value!r}", argument=argument)
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
        f"{argument} must be one of {_RESET_VALUES} or None, got {value!r}", argument=argument
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
    if value is None or isinstance(value, str):
        return value
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
    return value


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
        utc = value.astimezone(timezone.utc).replace(tzinfo=None)
        return utc.isoformat() + "Z"
    if isinstance(value, str):
        if not value.endswith(("Z", "z", "+00:00")):
            raise InvalidRequestError(
                f"{argument} string must be an ISO 8601 UTC timestamp ending in 'Z' or "
                f"'+00:00', got {value!r}; pass an aware datetime to have it converted",
                argument=argument,
            )
        try:
            parse_datetime(value)
        except ValueError:
            raise InvalidRequestError(
                f"{argument} is not an ISO 8601 timestamp: {value!r}", argument=argument
            ) from None
        if "T" not in value.upper():
            raise InvalidRequestError(
                f"{argument} must include a time, got {value!r}", argument=argument
            )
        return value
    raise InvalidRequestError(
        f"{argument} must be a datetime, an ISO 8601 UTC string or None, got {_type_name(value)}",
        argument=argument,
    )


def check_offset(value: Any, argument: str = "offset") -> int:
    """A page offset: an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequestError(
            f"{argument} must be an integer, got {_type_name(value)}", argument=argument
        )
    if value < 0:
        raise InvalidRequestError(f"{argument} must be >= 0, got {value}", argument=argument)
    return value


def check_timeout(value: Any, argument: str = "timeout") -> float:
    """A timeout in seconds: a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(
            f"{argument} must be a number of seconds, got {_type_name(value)}", argument=argument
        )
    if not math.isfinite(value) or value <= 0:
        raise InvalidRequestError(
            f"{argument} must be a finite number > 0, got {value!r}", argument=argument
        )
    return float(value)


def check_retries(value: Any, argument: str = "retries") -> RetryConfig:
    """A :class:`RetryConfig`."""
    if not isinstance(value, RetryConfig):
        raise InvalidRequestError(
            f"{argument} must be a RetryConfig, got {_type_name(value)}", argument=argument
        )
    return value


def check_threshold(value: Any, argument: str = "threshold") -> float:
    """A share of a key's limit: a finite number > 0 (1.0: at the limit)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidRequestError(
            f"{argument} must be a number, got {_type_name(value)}", argument=argument
        )
    if not math.isfinite(value) or value <= 0:
        raise InvalidRequestError(
            f"{argument} must be a finite number > 0 (1.0: at the limit), got {value!r}",
            argument=argument,
        )
    return float(value)


def check_retire(value: Any, argument: str = "retire") -> RetireMode:
    """What ``rotate()`` does with the old key: ``"disable"`` or ``"delete"``."""
    for mode in RETIRE_MODES:
        if value == mode and isinstance(value, str):
            return mode
    raise InvalidRequestError(
        f"{argument} must be 'disable' or 'delete', got {value!r}", argument=argument
    )


def create_body(
    name: Any,
    *,
    limit: Any = NOT_GIVEN,
    limit_reset: Any = NOT_GIVEN,
    include_byok_in_limit: Any = NOT_GIVEN,
    expires_at: Any = NOT_GIVEN,
    creator_user_id: Any = NOT_GIVEN,
    workspace_id: Any = NOT_GIVEN,
) -> dict[str, Any]:
    """The JSON body of a create, validated; raises InvalidRequestError naming the argument."""
    body: dict[str, Any] = {"name": check_name(name)}
    if not isinstance(limit, NotGiven):
        body["limit"] = check_limit(limit)
    if not isinstance(limit_reset, NotGiven):
        body["limit_reset"] = check_limit_reset(limit_reset)
    if not isinstance(include_byok_in_limit, NotGiven):
        body["include_byok_in_limit"] = check_bool(include_byok_in_limit, "include_byok_in_limit")
    if not isinstance(expires_at, NotGiven):
        body["expires_at"] = check_expires_at(expires_at)
    if not isinstance(creator_user_id, NotGiven):
        body["creator_user_id"] = check_optional_str(creator_user_id, "creator_user_id")
    workspace = check_workspace_id(workspace_id)
    if workspace is not None:
        body["workspace_id"] = workspace
    return body


def update_body(
    *,
    name: Any = NOT_GIVEN,
    disabled: Any = NOT_GIVEN,
    limit: Any = NOT_GIVEN,
    limit_reset: Any = NOT_GIVEN,
    include_byok_in_limit: Any = NOT_GIVEN,
) -> dict[str, Any]:
    """The JSON body of an update, validated; refuses an update that changes nothing."""
    body: dict[str, Any] = {}
    if not isinstance(name, NotGiven):
        body["name"] = check_name(name)
    if not isinstance(disabled, NotGiven):
        body["disabled"] = check_bool(disabled, "disabled")
    if not isinstance(limit, NotGiven):
        body["limit"] = check_limit(limit)
    if not isinstance(limit_reset, NotGiven):
        body["limit_reset"] = check_limit_reset(limit_reset)
    if not isinstance(include_byok_in_limit, NotGiven):
        body["include_byok_in_limit"] = check_bool(include_byok_in_limit, "include_byok_in_limit")
    if not body:
        raise InvalidRequestError(
            "update() needs at least one of name, disabled, limit, limit_reset, "
            "include_byok_in_limit",
            argument="update",
        )
    return body


def query_string(params: dict[str, str]) -> str:
    """``?a=1&b=2`` with values percent-encoded, or ``""`` when there is nothing to send."""
    if not params:
        return ""
    return "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())

"""Checks on request bodies and query strings; each failure names the offending field."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from .usage import LIMIT_RESETS

__all__ = [
    "EXTERNAL_API_KEY_MIN_LENGTH",
    "UPDATE_FIELDS",
    "CreateRequest",
    "InvalidField",
    "ListQuery",
    "check_text",
    "parse_body",
    "parse_create",
    "parse_list_query",
    "parse_update",
    "parse_utc_timestamp",
]

# RFC 3339 date-time that is explicitly UTC, the only zone the API accepts.
_UTC_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|z|\+00:00)"
)
_DIGITS = re.compile(r"[0-9]+")
#: The fields ``PATCH /keys/{hash}`` accepts.
UPDATE_FIELDS = (
    "name",
    "disabled",
    "include_byok_in_limit",
    "limit",
    "limit_reset",
    "workspace_id",
)
#: Shortest ``external.api_key`` the API accepts.
EXTERNAL_API_KEY_MIN_LENGTH = 32
#: Offsets beyond this list nothing anyway.
MAX_OFFSET = 2**62


class InvalidField(ValueError):
    """A request that breaks a field rule (answered with 400)."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_body(raw: bytes) -> dict[str, Any]:
    """Decode a JSON object body whose every string is valid Unicode."""
    if not raw.strip():
        raise InvalidField(None, "Request body is required")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidField(None, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidField(None, "Request body must be a JSON object")
    _check_encodable(body, None)
    return body


def check_text(value: str, field: str | None) -> str:
    """Refuse a string that UTF-8 cannot encode (a lone surrogate such as ``\\ud800``).

    JSON escapes can spell one; SQLite would fail on it and the memory store would keep it, so
    both stores answer the same 400 instead.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        where = f"{field} " if field else "The request "
        raise InvalidField(
            field, f"{where}contains a lone surrogate: strings must be valid Unicode"
        ) from None
    return value


def _check_encodable(value: Any, field: str | None) -> None:
    # Iterative: a deeply nested body must not exhaust the stack here either.
    pending = [(value, field)]
    while pending:
        item, name = pending.pop()
        if isinstance(item, str):
            check_text(item, name)
        elif isinstance(item, dict):
            for key, child in item.items():
                check_text(key, name)
                pending.append((child, key if name is None else f"{name}.{key}"))
        elif isinstance(item, list):
            pending.extend((child, name) for child in item)


def parse_utc_timestamp(value: str, field: str) -> datetime:
    """Parse an ISO 8601 UTC timestamp (``Z`` or ``+00:00``); other zones are refused."""
    match = _UTC_TIMESTAMP.fullmatch(value)
    if match is None:
        raise InvalidField(
            field, f"{field} must be an ISO 8601 UTC timestamp (ending in Z or +00:00)"
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7) or ""
    micros = int((fraction + "000000")[:6])
    try:
        # A leap second (…:60) is valid RFC 3339; Python has no such second, so keep :59.
        return datetime(year, month, day, hour, minute, min(second, 59), micros, timezone.utc)
    except ValueError:
        raise InvalidField(field, f"{field} is not a valid date and time") from None


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidField("name", "name must be a string")
    if not value.strip():
        raise InvalidField("name", "name must not be blank")
    return value


def _bool(body: dict[str, Any], field: str) -> bool:
    value = body[field]
    if not isinstance(value, bool):
        raise InvalidField(field, f"{field} must be a boolean")
    return value


def _limit(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidField("limit", "limit must be a number or null")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidField("limit", "limit must be a finite number") from None
    if not math.isfinite(number):
        raise InvalidField("limit", "limit must be a finite number")
    if number < 0:
        raise InvalidField("limit", "limit must not be negative")
    return number


def _limit_reset(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in LIMIT_RESETS:
        raise InvalidField("limit_reset", "limit_reset must be daily, weekly, monthly or null")
    return value


def _uuid(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidField(field, f"{field} must be a UUID string")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidField(field, f"{field} must be a UUID") from None


def _external(value: Any) -> tuple[str, str | None]:
    """Check ``external``: ``user`` (not blank) and an optional ``api_key`` (≥ 32 chars).

    Returns the user and the SHA-256 of the API key. Messages never quote the key: it is a
    partner's secret.
    """
    if not isinstance(value, dict):
        raise InvalidField("external", "external must be an object with a user")
    if "user" not in value:
        raise InvalidField("external.user", "external.user is required")
    user = value["user"]
    if not isinstance(user, str):
        raise InvalidField("external.user", "external.user must be a string")
    if not user.strip():
        raise InvalidField("external.user", "external.user must not be blank")
    if "api_key" not in value:
        return user, None
    api_key = value["api_key"]
    if not isinstance(api_key, str):
        raise InvalidField("external.api_key", "external.api_key must be a string")
    if len(api_key) < EXTERNAL_API_KEY_MIN_LENGTH:
        raise InvalidField(
            "external.api_key",
            f"external.api_key must be at least {EXTERNAL_API_KEY_MIN_LENGTH} characters",
        )
    return user, hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def _nullable_str(value: Any, field: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidField(field, f"{field} must be a string or null")
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class CreateRequest:
    """A checked ``POST /keys`` body."""

    name: str
    limit: float | None
    limit_reset: str | None
    include_byok_in_limit: bool
    expires_at: datetime | None
    creator_user_id: str | None
    workspace_id: str | None
    external_user: str | None
    external_api_key_sha256: str | None


def parse_create(body: dict[str, Any]) -> CreateRequest:
    """Check a create body; raise ``InvalidField`` naming the first bad field."""
    if "name" not in body:
        raise InvalidField("name", "name is required")
    expires = body.get("expires_at")
    if expires is not None and not isinstance(expires, str):
        raise InvalidField("expires_at", "expires_at must be a string or null")
    user, api_key_sha256 = _external(body["external"]) if "external" in body else (None, None)
    return CreateRequest(
        name=_name(body["name"]),
        limit=_limit(body.get("limit")),
        limit_reset=_limit_reset(body.get("limit_reset")),
        include_byok_in_limit=(
            _bool(body, "include_byok_in_limit") if "include_byok_in_limit" in body else False
        ),
        expires_at=None if expires is None else parse_utc_timestamp(expires, "expires_at"),
        creator_user_id=_nullable_str(body.get("creator_user_id"), "creator_user_id"),
        workspace_id=(
            _uuid(body["workspace_id"], "workspace_id") if "workspace_id" in body else None
        ),
        external_user=user,
        external_api_key_sha256=api_key_sha256,
    )


def parse_update(body: dict[str, Any]) -> dict[str, Any]:
    """Check a patch body; return only the fields present (nulls kept: they clear).

    A body with none of the accepted fields is refused, as the live API does.
    """
    if not any(field in body for field in UPDATE_FIELDS):
        raise InvalidField(None, "No update fields provided")
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = _name(body["name"])
    if "disabled" in body:
        changes["disabled"] = _bool(body, "disabled")
    if "include_byok_in_limit" in body:
        changes["include_byok_in_limit"] = _bool(body, "include_byok_in_limit")
    if "limit" in body:
        changes["limit"] = _limit(body["limit"])
    if "limit_reset" in body:
        changes["limit_reset"] = _limit_reset(body["limit_reset"])
    if "workspace_id" in body:
        changes["workspace_id"] = _uuid(body["workspace_id"], "workspace_id")
    return changes


@dataclasses.dataclass(frozen=True, slots=True)
class ListQuery:
    """Checked ``GET /keys`` query parameters."""

    offset: int
    include_disabled: bool
    workspace_id: str | None
    include_expired: bool = False


_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def parse_list_query(query: Any) -> ListQuery:
    """Check ``offset``, ``include_disabled`` and ``workspace_id`` of a list request."""
    offset = 0
    raw_offset = query.get("offset")
    if raw_offset is not None:
        if not _DIGITS.fullmatch(raw_offset):
            raise InvalidField("offset", "offset must be a non-negative integer")
        # Past any real store; also keeps huge numbers out of SQLite's int64.
        offset = MAX_OFFSET if len(raw_offset) > 18 else min(int(raw_offset), MAX_OFFSET)
    raw_workspace = query.get("workspace_id")
    workspace = None if raw_workspace is None else _uuid(raw_workspace, "workspace_id")
    return ListQuery(
        offset,
        _flag(query, "include_disabled"),
        workspace,
        _flag(query, "include_expired"),
    )


def _flag(query: Any, name: str) -> bool:
    raw = query.get(name)
    if raw is None:
        return False
    flag = raw.lower()
    if flag not in _TRUE and flag not in _FALSE:
        raise InvalidField(name, f"{name} must be true or false")
    return flag in _TRUE

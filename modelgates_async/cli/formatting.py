"""How the ``modelgates`` commands write values for people: money, a key's status, dates and
limit resets — one formatter each, used by every table and every record the CLI prints, so
``keys list``, ``keys get`` and ``keys create`` agree (``$50.00``, ``enabled``,
``2026-01-31 14:05 UTC``). ``--json`` output is not formatted: programs get the raw values.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from modelgates_async.models import APIKey, CurrentKey, LimitReset

__all__ = ["NONE", "field_text", "money", "reset", "status", "when"]

NONE = "—"
"""What a missing value looks like in a table."""

_MONEY_FIELDS = frozenset({"limit", "limit_remaining"})
_DATE_FIELDS = frozenset({"created_at", "updated_at", "expires_at", "last_used_at"})


def money(value: float | None, *, none: str = NONE) -> str:
    """USD with cents and thousands separators (``$1,250.00``), or ``none``."""
    return none if value is None else f"${value:,.2f}"


def when(value: datetime | None, *, none: str = NONE) -> str:
    """A timestamp to the minute in UTC (``2026-01-31 14:05 UTC``), or ``none``."""
    if value is None:
        return none
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def reset(value: LimitReset | str | None) -> str:
    """When a limit starts over: ``daily``, ``weekly``, ``monthly`` or ``never``."""
    if value is None:
        return "never"
    return value.value if isinstance(value, LimitReset) else str(value)


def status(key: APIKey | CurrentKey, *, now: datetime | None = None) -> str:
    """``disabled``, ``expired`` (its expiry has passed) or ``enabled``."""
    if isinstance(key, APIKey) and key.disabled:
        return "disabled"
    if key.expires_at is not None and key.expires_at <= (now or datetime.now(timezone.utc)):
        return "expired"
    return "enabled"


def field_text(name: str, value: Any) -> str:
    """One field of a record as the detail view shows it (money, dates, resets, yes/no)."""
    if name in _MONEY_FIELDS or name.startswith(("usage", "byok_usage")):
        return money(value, none="no limit" if name.startswith("limit") else NONE)
    if name in _DATE_FIELDS:
        if name == "expires_at" and value is None:
            return "never"
        return when(value)
    if name == "limit_reset":
        return reset(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return NONE
    if isinstance(value, (tuple, list, dict)) or hasattr(value, "__attrs_attrs__"):
        from modelgates_async._convert import unstructure

        return json.dumps(unstructure(value), default=str)
    return str(value)

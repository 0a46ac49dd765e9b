"""Records returned by the API and the rules of a record (the cattrs converter is in ``_convert``).

- :class:`APIKey`, :class:`CreatedKey`, :class:`CurrentKey` and their parts; :class:`LimitReset`
  and :data:`RetireMode`, the enumerations the endpoints take.
- The rules of a key record: :meth:`APIKey.usage_in_limit_window` (the spend that counts
  against its limit now) and :meth:`APIKey.is_over_limit`.
- :func:`parse_datetime`: the API's ISO 8601 timestamps, on every Python version.

Records are frozen attrs classes with slots and no ``__weakref__`` slot (values, like
tuples; the slot would keep ``_record_fn`` from filling them quickly). ``_convert.py``
builds them from JSON (and raises the errors of a body that does not validate), so this
module imports no other of the package and ``errors.py`` can name the records its
exceptions carry.
"""

from __future__ import annotations

import enum
import re
import sys
from datetime import datetime, timezone
from typing import Literal

import attrs

__all__ = [
    "APIKey",
    "CreatedKey",
    "CurrentKey",
    "FreeModelDailyRequests",
    "KeyBudget",
    "LimitReset",
    "RateLimitInfo",
    "RetireMode",
    "mask_secret",
    "usage_in_limit_window",
]

_FRACTION = re.compile(r"\.(\d+)")


class LimitReset(str, enum.Enum):
    """How often a key's spending limit resets (midnight UTC; weeks run Monday–Sunday)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"

    def __str__(self) -> str:
        return self.value


RetireMode = Literal["disable", "delete"]
"""What ``rotate()`` does with the old key once its replacement exists."""
RETIRE_MODES: tuple[RetireMode, ...] = ("disable", "delete")


def mask_secret(secret: str) -> str:
    """Mask a key for display as the API's labels do: ``sk-mg-v1-abc...123``.

    Only the scheme prefix and three characters at each end show; anything that is not
    long enough to keep most of it hidden is masked whole.
    """
    if len(secret) < 24:
        return "***"
    prefix_end = secret.rfind("-", 0, 12) + 1  # "sk-mg-v1-" is a scheme, not secret
    return f"{secret[: prefix_end + 3]}...{secret[-3:]}"


@attrs.frozen(weakref_slot=False)
class APIKey:
    """An API key record as the management endpoints return it (``/keys``).

    ``limit_remaining`` is ``None`` when the key has no limit. Usage figures are in USD;
    ``*_daily``/``*_weekly``/``*_monthly`` cover the current UTC day, Monday–Sunday week
    and month.
    """

    hash: str
    name: str
    label: str
    disabled: bool
    limit: float | None
    limit_remaining: float | None
    limit_reset: LimitReset | None
    include_byok_in_limit: bool
    usage: float
    usage_daily: float
    usage_weekly: float
    usage_monthly: float
    byok_usage: float
    byok_usage_daily: float
    byok_usage_weekly: float
    byok_usage_monthly: float
    created_at: datetime
    updated_at: datetime | None
    creator_user_id: str | None
    workspace_id: str
    # The seeds do not list these three; a server that omits them still parses.
    expires_at: datetime | None = None
    external_user: str | None = None
    last_used_at: datetime | None = None

    def usage_in_limit_window(self) -> float:
        """The spend (USD) that counts against ``limit`` now.

        That is the usage of the current reset window — ``usage_daily``/``weekly``/``monthly``
        as ``limit_reset`` says, all-time ``usage`` when the limit never resets — plus the BYOK
        usage of the same window when ``include_byok_in_limit`` is set.
        """
        usage_field, byok_field = _WINDOWS[self.limit_reset]
        spend: float = getattr(self, usage_field)
        if self.include_byok_in_limit:
            spend += getattr(self, byok_field)
        return spend

    def is_over_limit(self, threshold: float = 1.0) -> bool:
        """Whether the key has a limit and has spent at least ``threshold`` × that limit."""
        return self.limit is not None and self.usage_in_limit_window() >= threshold * self.limit


_WINDOWS = {
    LimitReset.DAILY: ("usage_daily", "byok_usage_daily"),
    LimitReset.WEEKLY: ("usage_weekly", "byok_usage_weekly"),
    LimitReset.MONTHLY: ("usage_monthly", "byok_usage_monthly"),
    None: ("usage", "byok_usage"),
}


def usage_in_limit_window(key: APIKey) -> float:
    """The spend (USD) that counts against ``key.limit`` now (see the method of that name)."""
    return key.usage_in_limit_window()


@attrs.frozen(weakref_slot=False)
class CreatedKey:
    """A key just created: ``key`` is the secret, shown this once; ``data`` is its record.

    The secret never appears in ``repr()`` or ``str()``; read ``.key`` to hand it on.
    """

    key: str = attrs.field(repr=False)
    data: APIKey

    def __repr__(self) -> str:
        return f"CreatedKey(key={mask_secret(self.key)!r}, data={self.data!r})"

    __str__ = __repr__


@attrs.frozen(weakref_slot=False)
class KeyBudget:
    """One spending budget that applies to the current key."""

    budget_id: str
    guardrail_id: str | None
    include_byok: bool
    limit_usd: float
    remaining_usd: float
    reset_interval: str | None
    resets_at: datetime | None
    scope: str
    spend_usd: float


@attrs.frozen(weakref_slot=False)
class FreeModelDailyRequests:
    """Daily request allowance on free models."""

    limit: int
    remaining: int
    used: int


@attrs.frozen(weakref_slot=False)
class RateLimitInfo:
    """Deprecated request rate limit of the current key (kept for completeness)."""

    interval: str
    note: str
    requests: int


@attrs.frozen(weakref_slot=False)
class CurrentKey:
    """The record of the key that made the request (``GET /key``); any key may ask."""

    label: str
    limit: float | None
    limit_remaining: float | None
    limit_reset: LimitReset | None
    include_byok_in_limit: bool
    usage: float
    usage_daily: float
    usage_weekly: float
    usage_monthly: float
    byok_usage: float
    byok_usage_daily: float
    byok_usage_weekly: float
    byok_usage_monthly: float
    is_free_tier: bool
    is_management_key: bool
    creator_user_id: str | None
    organization_id: str | None
    workspace_id: str | None
    allowed_data_regions: tuple[str, ...]
    budgets: tuple[KeyBudget, ...]
    effective_budget: KeyBudget | None
    free_model_daily_requests: FreeModelDailyRequests
    expires_at: datetime | None = None
    # Deprecated upstream; optional so a server that drops them still parses.
    is_provisioning_key: bool | None = None
    rate_limit: RateLimitInfo | None = None


def _fraction_as_micros(match: re.Match[str]) -> str:
    return "." + match.group(1)[:6].ljust(6, "0")


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 timestamp into an aware datetime (UTC when it names no zone)."""
    if sys.version_info >= (3, 11):
        # From 3.11 on, fromisoformat takes "Z" and fractions of any length itself, so most
        # timestamps need no rewriting; what it refuses (a lowercase "z") goes the long way.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return _parse_rewritten(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
    return _parse_rewritten(value)


def _parse_rewritten(value: str) -> datetime:
    if value.endswith(("Z", "z")):
        # Python 3.10's fromisoformat does not accept "Z".
        value = value[:-1] + "+00:00"
    if sys.version_info < (3, 11):
        # ... nor fractions of other than 3 or 6 digits ("…:27.5+00:00").
        value = _FRACTION.sub(_fraction_as_micros, value, count=1)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed

"""Spend windows (UTC day, Monday week, month) and what is left of a key's limit."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

__all__ = [
    "LIMIT_RESETS",
    "UsageEvent",
    "UsageTotals",
    "Windows",
    "limit_remaining",
    "next_reset",
    "spend_in_limit_window",
    "to_micros",
]

LIMIT_RESETS = frozenset({"daily", "weekly", "monthly"})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_micros(when: datetime) -> int:
    """Return an aware datetime as integer microseconds since the epoch (exact, sortable)."""
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """Invert ``to_micros``."""
    return _EPOCH + timedelta(microseconds=micros)


@dataclasses.dataclass(frozen=True, slots=True)
class UsageEvent:
    """One recorded spend: when (epoch microseconds), how much (USD), and whether BYOK."""

    at: int
    amount: float
    byok: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Windows:
    """Start of the current UTC day, week (Monday) and month, in epoch microseconds."""

    day: int
    week: int
    month: int

    @classmethod
    def at(cls, now: datetime) -> Windows:
        """Return the windows that contain ``now``."""
        day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        week = day - timedelta(days=day.weekday())
        month = day.replace(day=1)
        return cls(to_micros(day), to_micros(week), to_micros(month))


@dataclasses.dataclass(frozen=True, slots=True)
class UsageTotals:
    """Credit and BYOK spend: all time and in the current day, week and month."""

    usage: float = 0.0
    usage_daily: float = 0.0
    usage_weekly: float = 0.0
    usage_monthly: float = 0.0
    byok_usage: float = 0.0
    byok_usage_daily: float = 0.0
    byok_usage_weekly: float = 0.0
    byok_usage_monthly: float = 0.0

    @classmethod
    def of(cls, events: list[UsageEvent], windows: Windows) -> UsageTotals:
        """Sum ``events`` over the windows (events later than now still count as now's)."""
        credit = [0.0, 0.0, 0.0, 0.0]
        byok = [0.0, 0.0, 0.0, 0.0]
        for event in events:
            acc = byok if event.byok else credit
            acc[0] += event.amount
            if event.at >= windows.month:
                acc[3] += event.amount
            if event.at >= windows.week:
                acc[2] += event.amount
            if event.at >= windows.day:
                acc[1] += event.amount
        return cls(*credit, *byok)


ZERO = UsageTotals()


def spend_in_limit_window(
    totals: UsageTotals, limit_reset: str | None, include_byok: bool
) -> float:
    """Return the spend that counts against the limit in the current reset window."""
    if limit_reset == "daily":
        spend, byok = totals.usage_daily, totals.byok_usage_daily
    elif limit_reset == "weekly":
        spend, byok = totals.usage_weekly, totals.byok_usage_weekly
    elif limit_reset == "monthly":
        spend, byok = totals.usage_monthly, totals.byok_usage_monthly
    else:
        spend, byok = totals.usage, totals.byok_usage
    return spend + byok if include_byok else spend


def limit_remaining(
    limit: float | None, totals: UsageTotals, limit_reset: str | None, include_byok: bool
) -> float | None:
    """Return max(0, limit − spend in the window), or None when there is no limit."""
    if limit is None:
        return None
    return max(0.0, limit - spend_in_limit_window(totals, limit_reset, include_byok))


def next_reset(now: datetime, limit_reset: str | None) -> datetime | None:
    """Return the next midnight UTC at which a ``limit_reset`` window starts over."""
    if limit_reset not in LIMIT_RESETS:
        return None
    day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if limit_reset == "daily":
        return day + timedelta(days=1)
    if limit_reset == "weekly":
        return day + timedelta(days=7 - day.weekday())
    if day.month == 12:
        return day.replace(year=day.year + 1, month=1, day=1)
    return day.replace(month=day.month + 1, day=1)

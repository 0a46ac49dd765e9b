"""Key records as the API shows them: ``APIKey`` and ``CurrentKey`` JSON objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .records import DEFAULT_WORKSPACE_ID, KeyRecord, format_time
from .usage import ZERO, UsageTotals, limit_remaining, next_reset, spend_in_limit_window

__all__ = ["current_key_data", "key_data", "management_key_data"]


def _limit_fields(record: KeyRecord, totals: UsageTotals) -> dict[str, Any]:
    # The same four fields, in the same order, in APIKey and CurrentKey.
    return {
        "limit": record.limit,
        "limit_remaining": limit_remaining(
            record.limit, totals, record.limit_reset, record.include_byok_in_limit
        ),
        "limit_reset": record.limit_reset,
        "include_byok_in_limit": record.include_byok_in_limit,
    }


def _usage_fields(totals: UsageTotals) -> dict[str, float]:
    return {
        "usage": totals.usage,
        "usage_daily": totals.usage_daily,
        "usage_weekly": totals.usage_weekly,
        "usage_monthly": totals.usage_monthly,
        "byok_usage": totals.byok_usage,
        "byok_usage_daily": totals.byok_usage_daily,
        "byok_usage_weekly": totals.byok_usage_weekly,
        "byok_usage_monthly": totals.byok_usage_monthly,
    }


def key_data(record: KeyRecord, totals: UsageTotals) -> dict[str, Any]:
    """Return the ``APIKey`` object of a record, with every required field."""
    # One literal, no helper calls: this runs for every key of every listed page.
    return {
        "hash": record.hash,
        "name": record.name,
        "label": record.label,
        "disabled": record.disabled,
        "limit": record.limit,
        "limit_remaining": limit_remaining(
            record.limit, totals, record.limit_reset, record.include_byok_in_limit
        ),
        "limit_reset": record.limit_reset,
        "include_byok_in_limit": record.include_byok_in_limit,
        "usage": totals.usage,
        "usage_daily": totals.usage_daily,
        "usage_weekly": totals.usage_weekly,
        "usage_monthly": totals.usage_monthly,
        "byok_usage": totals.byok_usage,
        "byok_usage_daily": totals.byok_usage_daily,
        "byok_usage_weekly": totals.byok_usage_weekly,
        "byok_usage_monthly": totals.byok_usage_monthly,
        "created_at": format_time(record.created_at),
        "updated_at": format_time(record.updated_at),
        "expires_at": format_time(record.expires_at),
        "creator_user_id": record.creator_user_id,
        "workspace_id": record.workspace_id,
        "external_user": record.external_user,
        "last_used_at": format_time(record.last_used_at),
    }


def _rate_limit(rate_limit: float | None) -> dict[str, Any]:
    if rate_limit:
        return {"requests": int(rate_limit), "interval": "1s", "note": "per key"}
    return {"requests": -1, "interval": "10s", "note": "Deprecated; no rate limit is set."}


def _budget(record: KeyRecord, totals: UsageTotals, now: datetime) -> dict[str, Any] | None:
    if record.limit is None:
        return None
    spend = spend_in_limit_window(totals, record.limit_reset, record.include_byok_in_limit)
    return {
        "budget_id": f"key-limit-{record.hash[:16]}",
        "guardrail_id": None,
        "include_byok": record.include_byok_in_limit,
        "limit_usd": record.limit,
        "remaining_usd": max(0.0, record.limit - spend),
        "reset_interval": record.limit_reset,
        "resets_at": format_time(next_reset(now, record.limit_reset)),
        "scope": "key_limit",
        "spend_usd": spend,
    }


def _extras(is_management: bool, rate_limit: float | None) -> dict[str, Any]:
    return {
        "is_free_tier": False,
        "is_management_key": is_management,
        "is_provisioning_key": is_management,
        "organization_id": None,
        "allowed_data_regions": ["global"],
        "free_model_daily_requests": {"limit": 1000, "remaining": 1000, "used": 0},
        "rate_limit": _rate_limit(rate_limit),
    }


def current_key_data(
    record: KeyRecord, totals: UsageTotals, now: datetime, rate_limit: float | None
) -> dict[str, Any]:
    """Return the ``CurrentKey`` object of a regular key."""
    budget = _budget(record, totals, now)
    data: dict[str, Any] = {
        "label": record.label,
    }
    data.update(_limit_fields(record, totals))
    data.update(_usage_fields(totals))
    data.update(_extras(False, rate_limit))
    data["creator_user_id"] = record.creator_user_id
    data["workspace_id"] = record.workspace_id
    data["expires_at"] = format_time(record.expires_at)
    data["budgets"] = [] if budget is None else [budget]
    data["effective_budget"] = budget
    return data


def management_key_data(label: str, rate_limit: float | None) -> dict[str, Any]:
    """Return the ``CurrentKey`` object of the management key (no limit, no spend)."""
    data: dict[str, Any] = {
        "label": label,
        "limit": None,
        "limit_remaining": None,
        "limit_reset": None,
        "include_byok_in_limit": False,
    }
    data.update(_usage_fields(ZERO))
    data.update(_extras(True, rate_limit))
    data["creator_user_id"] = None
    data["workspace_id"] = DEFAULT_WORKSPACE_ID
    data["expires_at"] = None
    data["budgets"] = []
    data["effective_budget"] = None
    return data

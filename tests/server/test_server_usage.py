"""Spend, limits and midnight-UTC resets, driven by the emulator's clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from modelgates_async.server import AsyncLocalServer, Clock
from modelgates_async.server.usage import UsageEvent, UsageTotals, Windows, next_reset, to_micros

from .helpers import Api

UTC = timezone.utc
# 2025-01-05 is a Sunday; 2025-01-06 a Monday.
SUNDAY_LATE = datetime(2025, 1, 5, 23, 0, tzinfo=UTC)
WEDNESDAY_LATE = datetime(2025, 1, 29, 23, 0, tzinfo=UTC)
MONTH_END = datetime(2025, 1, 31, 23, 0, tzinfo=UTC)


def usage_of(data: dict[str, Any]) -> tuple[float, ...]:
    """(usage, daily, weekly, monthly) of a record."""
    return (data["usage"], data["usage_daily"], data["usage_weekly"], data["usage_monthly"])


def byok_of(data: dict[str, Any]) -> tuple[float, ...]:
    """(byok_usage, daily, weekly, monthly) of a record."""
    return (
        data["byok_usage"],
        data["byok_usage_daily"],
        data["byok_usage_weekly"],
        data["byok_usage_monthly"],
    )


async def test_recorded_spend_shows_in_every_window(api: Api, server: AsyncLocalServer) -> None:
    """Credit spend adds to usage and to the daily, weekly and monthly windows."""
    server.clock.set(WEDNESDAY_LATE)
    _, data = await api.create("k")
    server.record_usage(data["hash"], 1.25)
    server.record_usage(data["hash"], 0.75)
    fetched = await api.get(data["hash"])
    assert usage_of(fetched) == (2.0, 2.0, 2.0, 2.0)
    assert byok_of(fetched) == (0, 0, 0, 0)


async def test_daily_limit_resets_at_midnight_utc(api: Api, server: AsyncLocalServer) -> None:
    """With limit_reset daily, limit_remaining is whole again after midnight UTC."""
    server.clock.set(WEDNESDAY_LATE)
    _, data = await api.create("k", limit=10, limit_reset="daily")
    server.record_usage(data["hash"], 4)
    assert (await api.get(data["hash"]))["limit_remaining"] == 6
    server.clock.advance(timedelta(minutes=59, seconds=59))
    assert (await api.get(data["hash"]))["limit_remaining"] == 6
    server.clock.advance(1)  # Thursday 00:00:00 UTC
    after = await api.get(data["hash"])
    assert after["limit_remaining"] == 10
    assert usage_of(after) == (4, 0, 4, 4)


async def test_weekly_limit_resets_on_monday(api: Api, server: AsyncLocalServer) -> None:
    """With limit_reset weekly, the window starts over at Monday 00:00 UTC, not before."""
    server.clock.set(datetime(2025, 1, 4, 12, 0, tzinfo=UTC))  # Saturday
    _, data = await api.create("k", limit=10, limit_reset="weekly")
    server.record_usage(data["hash"], 3)
    server.clock.set(SUNDAY_LATE)
    server.record_usage(data["hash"], 2)
    sunday = await api.get(data["hash"])
    assert sunday["limit_remaining"] == 5
    assert usage_of(sunday) == (5, 2, 5, 5)
    server.clock.advance(timedelta(hours=1))  # Monday 00:00
    monday = await api.get(data["hash"])
    assert monday["limit_remaining"] == 10
    assert usage_of(monday) == (5, 0, 0, 5)


async def test_monthly_limit_resets_on_the_first(api: Api, server: AsyncLocalServer) -> None:
    """With limit_reset monthly, the window starts over on the 1st at 00:00 UTC."""
    server.clock.set(MONTH_END)
    _, data = await api.create("k", limit=10, limit_reset="monthly")
    server.record_usage(data["hash"], 7)
    assert (await api.get(data["hash"]))["limit_remaining"] == 3
    server.clock.advance(timedelta(hours=1))  # 2025-02-01 00:00, a Saturday
    feb = await api.get(data["hash"])
    assert feb["limit_remaining"] == 10
    assert usage_of(feb) == (7, 0, 7, 0)


async def test_without_limit_reset_the_limit_counts_all_spend(
    api: Api, server: AsyncLocalServer
) -> None:
    """limit_reset null: spend never leaves the limit window; remaining never below 0."""
    server.clock.set(MONTH_END)
    _, data = await api.create("k", limit=5)
    server.record_usage(data["hash"], 3)
    server.clock.advance(timedelta(days=40))
    server.record_usage(data["hash"], 4)
    fetched = await api.get(data["hash"])
    assert fetched["limit_remaining"] == 0
    assert usage_of(fetched) == (7, 4, 4, 4)


async def test_byok_counts_toward_the_limit_only_when_included(
    api: Api, server: AsyncLocalServer
) -> None:
    """BYOK spend is reported apart and counts against the limit iff include_byok_in_limit."""
    server.clock.set(WEDNESDAY_LATE)
    _, data = await api.create("k", limit=10, limit_reset="daily")
    server.record_usage(data["hash"], 1)
    server.record_usage(data["hash"], 4, byok=True)
    fetched = await api.get(data["hash"])
    assert byok_of(fetched) == (4, 4, 4, 4)
    assert fetched["limit_remaining"] == 9
    _, body, _ = await api.call(
        "PATCH", f"/keys/{data['hash']}", json={"include_byok_in_limit": True}
    )
    assert body["data"]["limit_remaining"] == 5


async def test_current_key_reports_spend_and_the_budget_reset(
    api: Api, server: AsyncLocalServer
) -> None:
    """GET /key by the key shows its spend, remaining limit and next reset time."""
    server.clock.set(SUNDAY_LATE)
    secret, data = await api.create("k", limit=8, limit_reset="weekly")
    server.record_usage(data["hash"], 2)
    _, body, _ = await api.call("GET", "/key", key=secret)
    me = body["data"]
    assert me["usage_weekly"] == 2
    assert me["limit_remaining"] == 6
    budget = me["effective_budget"]
    assert budget["spend_usd"] == 2
    assert budget["remaining_usd"] == 6
    assert budget["resets_at"] == "2025-01-06T00:00:00+00:00"


async def test_recorded_usage_sets_last_used_at(api: Api, server: AsyncLocalServer) -> None:
    """Spend recorded on a key marks it used at that time."""
    server.clock.set(WEDNESDAY_LATE)
    _, data = await api.create("k")
    server.record_usage(data["hash"], 0.5)
    assert (await api.get(data["hash"]))["last_used_at"] == WEDNESDAY_LATE.isoformat()


def test_record_usage_refuses_unknown_keys_and_bad_amounts(server: AsyncLocalServer) -> None:
    """record_usage raises KeyError for an unknown hash and ValueError for a bad amount."""
    with pytest.raises(KeyError):
        server.record_usage("0" * 64, 1)
    with pytest.raises(ValueError, match="amount"):
        server.state.record_usage("0" * 64, float("nan"))
    with pytest.raises(ValueError, match="amount"):
        server.state.record_usage("0" * 64, -1)


async def test_usage_control_endpoint_records_spend(api: Api, server: AsyncLocalServer) -> None:
    """POST /_emulator/usage records credit or BYOK spend and answers the record."""
    _, data = await api.create("k", limit=10)
    base = server.url + "/_emulator"
    status, body, _ = await api.call(
        "POST", "/usage", base=base, json={"hash": data["hash"], "amount": 2.5}
    )
    assert status == 200
    assert body["data"]["usage"] == 2.5
    status, body, _ = await api.call(
        "POST", "/usage", base=base, json={"hash": data["hash"], "amount": 1, "byok": True}
    )
    assert body["data"]["byok_usage"] == 1
    assert body["data"]["limit_remaining"] == 7.5
    status, _, _ = await api.call("POST", "/usage", base=base, json={"hash": "x", "amount": 1})
    assert status == 404
    status, _, _ = await api.call(
        "POST", "/usage", base=base, json={"hash": data["hash"], "amount": -1}
    )
    assert status == 400


async def test_clock_control_endpoint_sets_and_advances(api: Api, server: AsyncLocalServer) -> None:
    """POST /_emulator/clock freezes at a time, advances it, and resumes real time."""
    base = server.url + "/_emulator"
    status, body, _ = await api.call(
        "POST", "/clock", base=base, json={"now": "2025-01-05T23:00:00Z"}
    )
    assert status == 200
    assert body == {"now": "2025-01-05T23:00:00+00:00", "frozen": True}
    _, body, _ = await api.call("POST", "/clock", base=base, json={"advance_seconds": 3600})
    assert body["now"] == "2025-01-06T00:00:00+00:00"
    _, body, _ = await api.call("GET", "/clock", base=base)
    assert body["now"] == "2025-01-06T00:00:00+00:00"
    _, body, _ = await api.call("POST", "/clock", base=base, json={"resume": True})
    assert body["frozen"] is False
    status, _, _ = await api.call("POST", "/clock", base=base, json={"now": "2025-01-05"})
    assert status == 400


@pytest.mark.parametrize("path", ["/usage", "/clock", "/faults", "/reset"])
async def test_control_endpoints_need_the_management_key(api: Api, path: str) -> None:
    """/_emulator/ routes answer 401 without a key and 403 for a regular key."""
    base = api.server.url + "/_emulator"
    secret, _ = await api.create("k")
    status, _, _ = await api.call("POST", path, base=base, auth="", json={})
    assert status == 401
    status, _, _ = await api.call("POST", path, base=base, key=secret, json={})
    assert status == 403


def test_clock_set_advance_resume_with_an_injected_source() -> None:
    """Clock follows its source plus an offset, or a frozen time, and refuses naive times."""
    source_time = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    clock = Clock(lambda: source_time)
    assert clock() == source_time
    clock.advance(60)
    assert clock.now() == source_time + timedelta(seconds=60)
    clock.set(datetime(2025, 1, 1, tzinfo=UTC))
    assert clock.frozen
    assert clock.advance(timedelta(days=1)) == datetime(2025, 1, 2, tzinfo=UTC)
    clock.resume()
    assert clock() == source_time
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("now", "reset", "expected"),
    [
        (datetime(2025, 1, 5, 23, tzinfo=UTC), "daily", datetime(2025, 1, 6, tzinfo=UTC)),
        (datetime(2025, 1, 5, 23, tzinfo=UTC), "weekly", datetime(2025, 1, 6, tzinfo=UTC)),
        (datetime(2025, 1, 6, 0, tzinfo=UTC), "weekly", datetime(2025, 1, 13, tzinfo=UTC)),
        (datetime(2025, 12, 31, 1, tzinfo=UTC), "monthly", datetime(2026, 1, 1, tzinfo=UTC)),
        (datetime(2025, 2, 1, 0, tzinfo=UTC), "monthly", datetime(2025, 3, 1, tzinfo=UTC)),
        (datetime(2025, 2, 1, 0, tzinfo=UTC), None, None),
    ],
)
def test_next_reset_is_the_next_window_start(
    now: datetime, reset: str | None, expected: datetime | None
) -> None:
    """Daily windows start at midnight, weekly ones on Monday, monthly ones on the 1st."""
    assert next_reset(now, reset) == expected


def test_usage_totals_split_by_window_and_kind() -> None:
    """UsageTotals.of sums credit and BYOK events into all-time, month, week and day."""
    now = datetime(2025, 1, 8, 12, tzinfo=UTC)  # Wednesday
    events = [
        UsageEvent(to_micros(datetime(2024, 12, 31, tzinfo=UTC)), 1.0, False),  # last year
        UsageEvent(to_micros(datetime(2025, 1, 2, tzinfo=UTC)), 2.0, False),  # this month
        UsageEvent(to_micros(datetime(2025, 1, 6, tzinfo=UTC)), 4.0, True),  # this week
        UsageEvent(to_micros(datetime(2025, 1, 8, tzinfo=UTC)), 8.0, False),  # today
    ]
    totals = UsageTotals.of(events, Windows.at(now))
    assert (totals.usage, totals.usage_monthly, totals.usage_weekly, totals.usage_daily) == (
        11.0,
        10.0,
        8.0,
        8.0,
    )
    assert (totals.byok_usage, totals.byok_usage_weekly, totals.byok_usage_daily) == (4, 4, 0)

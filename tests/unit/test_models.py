"""Records: parsing, tolerance of new fields, frozen-ness, datetimes, masking."""

from __future__ import annotations

from datetime import timedelta, timezone

import attrs
import pytest

from modelgates_async import (
    APIKey,
    APIResponseValidationError,
    CreatedKey,
    CurrentKey,
    KeyBudget,
    LimitReset,
    usage_in_limit_window,
)
from modelgates_async._convert import structure, unstructure
from modelgates_async.models import mask_secret
from tests.helpers import SECRET, current_key_record, key_record


def test_unknown_fields_are_tolerated() -> None:
    """A field the SDK does not know yet is ignored (forward compatibility)."""
    key = structure(key_record(brand_new_field={"x": 1}), APIKey)
    assert key.name == "Customer Key"


def test_seed_shaped_record_without_optional_fields_parses() -> None:
    """The seeds' record (no expires_at, external_user, last_used_at) still parses."""
    record = key_record()
    for name in ("expires_at", "external_user", "last_used_at"):
        del record[name]
    key = structure(record, APIKey)
    assert (key.expires_at, key.external_user, key.last_used_at) == (None, None, None)


def test_datetimes_are_aware_utc_even_with_z_or_no_zone() -> None:
    """'Z', '+00:00' and zone-less timestamps all become aware datetimes."""
    key = structure(
        key_record(
            created_at="2025-02-19T20:52:27Z",
            updated_at="2025-02-19T20:52:27",
            expires_at="2030-01-01T00:00:00+02:00",
            last_used_at="2025-03-01T10:00:00.5+00:00",
        ),
        APIKey,
    )
    assert key.created_at.tzinfo == timezone.utc
    assert key.updated_at is not None
    assert key.updated_at.tzinfo == timezone.utc
    assert key.expires_at is not None
    assert key.expires_at.utcoffset() is not None
    assert key.last_used_at is not None
    assert key.last_used_at.microsecond == 500000


@pytest.mark.parametrize(
    ("text", "micros", "offset_minutes"),
    [
        ("2030-01-01T00:00:00.5+00:00", 500000, 0),
        ("2030-01-01T00:00:00.12Z", 120000, 0),
        ("2030-01-01T00:00:00.363244+00:00", 363244, 0),
        ("2030-01-01T00:00:00.1234567Z", 123456, 0),
        ("2030-01-01T00:00:00Z", 0, 0),
        ("2030-01-01T00:00:00z", 0, 0),
        ("2030-01-01T00:00:00", 0, 0),
        ("2030-01-01T00:00:00.1Z", 100000, 0),
        ("2030-01-01T00:00:00.123Z", 123000, 0),
        ("2030-01-01T00:00:00.1234z", 123400, 0),
        ("2030-01-01T00:00:00.12345Z", 123450, 0),
        ("2030-01-01T00:00:00.123456Z", 123456, 0),
        ("2030-01-01T00:00:00.12345678Z", 123456, 0),
        ("2030-01-01T00:00:00.123456789Z", 123456, 0),
        ("2030-01-01T00:00:00.9-05:30", 900000, -330),
        ("2030-01-01T00:00:00.98765+02:00", 987650, 120),
        ("2030-01-01T00:00:00.987654321+02:00", 987654, 120),
    ],
)
def test_fractions_of_any_length_parse_on_every_python(
    text: str, micros: int, offset_minutes: int
) -> None:
    """1 to 9 fraction digits with 'Z', 'z', an offset or no zone parse alike on every Python
    (3.10's fromisoformat takes only 3 or 6 digits and no 'Z'; 3.11+ reads most itself)."""
    from modelgates_async.models import parse_datetime

    parsed = parse_datetime(text)
    assert parsed.microsecond == micros
    assert parsed.utcoffset() == timedelta(minutes=offset_minutes)
    key = structure(key_record(created_at=text, last_used_at=text), APIKey)
    assert key.created_at == key.last_used_at == parsed


@pytest.mark.parametrize("text", ["nope", "2030-13-01T00:00:00Z", "2030-01-01T25:00:00", ""])
def test_bad_timestamps_are_refused_naming_the_field(text: str) -> None:
    """A string that is no timestamp fails in required and optional fields, by name."""
    for field in ("created_at", "last_used_at"):
        with pytest.raises(APIResponseValidationError) as info:
            structure(key_record(**{field: text}), APIKey, path="$.data")
        assert info.value.errors[0].startswith(f"$.data.{field}:")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("limit", "1.5"),
        ("limit", True),
        ("limit_remaining", [1]),
        ("limit_reset", 1),
        ("limit_reset", "hourly"),
        ("updated_at", 1700000000),
        ("expires_at", {}),
        ("creator_user_id", 7),
        ("external_user", False),
        ("name", None),
        ("disabled", "false"),
        ("disabled", 0),
        ("include_byok_in_limit", None),
        ("usage", "0"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(field: str, value: object) -> None:
    """Optional and required fields alike refuse a value of the wrong type (no coercion),
    naming the field; null is refused where the field is not optional."""
    with pytest.raises(APIResponseValidationError) as info:
        structure(key_record(**{field: value}), APIKey, path="$.data")
    assert info.value.errors[0].startswith(f"$.data.{field}:")


def test_optional_fields_take_null_and_their_own_type() -> None:
    """null stays None; an integer in an optional number field becomes a float."""
    key = structure(key_record(limit=7, limit_remaining=None, creator_user_id="u1"), APIKey)
    assert (key.limit, key.limit_remaining, key.creator_user_id) == (7.0, None, "u1")
    assert type(key.limit) is float


def test_limit_reset_is_an_enum_that_compares_to_strings() -> None:
    """limit_reset parses to LimitReset, which is also equal to its string."""
    key = structure(key_record(limit_reset="weekly"), APIKey)
    assert key.limit_reset is LimitReset.WEEKLY
    weekly: object = "weekly"  # a plain str, typed so that mypy allows the comparison
    assert key.limit_reset == weekly
    assert str(LimitReset.WEEKLY) == "weekly"


@pytest.mark.parametrize("value", [True, "1.5", None, [1]])
def test_usage_must_be_a_number(value: object) -> None:
    """A non-number (or null) in a required number field is reported, not coerced."""
    with pytest.raises(APIResponseValidationError) as info:
        structure(key_record(usage=value), APIKey, path="$.data")
    assert info.value.errors[0].startswith("$.data.usage:")


def test_integers_are_numbers() -> None:
    """JSON integers in number fields become floats."""
    key = structure(key_record(usage=3, limit=7), APIKey)
    assert (key.usage, key.limit) == (3.0, 7.0)
    assert type(key.usage) is float


def test_records_are_frozen() -> None:
    """Records cannot be changed by accident; attrs.evolve makes a changed copy."""
    key = structure(key_record(), APIKey)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        key.name = "x"  # type: ignore[misc]
    assert attrs.evolve(key, name="x").name == "x"


def test_created_key_masks_its_secret_in_repr_and_str() -> None:
    """repr() and str() of CreatedKey never show the secret; .key does."""
    created = structure({"data": key_record(), "key": SECRET}, CreatedKey)
    assert created.key == SECRET
    assert SECRET not in repr(created)
    assert SECRET not in str(created)
    assert "sk-mg-v1-c0f...234" in repr(created)


def test_mask_secret_keeps_only_the_scheme_and_three_characters_each_end() -> None:
    """Masks look like the API's labels and hide short strings whole."""
    assert mask_secret(SECRET) == "sk-mg-v1-c0f...234"
    assert mask_secret("short-secret") == "***"


def test_current_key_with_budgets() -> None:
    """CurrentKey parses nested budgets and the effective budget."""
    budget = {
        "budget_id": "b1",
        "guardrail_id": None,
        "include_byok": True,
        "limit_usd": 100,
        "remaining_usd": 40.5,
        "reset_interval": "monthly",
        "resets_at": "2026-12-01T00:00:00Z",
        "scope": "key",
        "spend_usd": 59.5,
    }
    me = structure(current_key_record(budgets=[budget], effective_budget=budget), CurrentKey)
    assert me.budgets == (me.effective_budget,)
    assert isinstance(me.effective_budget, KeyBudget)
    assert me.effective_budget.remaining_usd == 40.5


def test_current_key_missing_required_field_is_named() -> None:
    """A CurrentKey without is_management_key is reported by field name."""
    record = current_key_record()
    del record["is_management_key"]
    with pytest.raises(APIResponseValidationError) as info:
        structure(record, CurrentKey, path="$.data")
    assert info.value.errors == ("$.data.is_management_key: required field missing",)


def test_unstructure_round_trips() -> None:
    """unstructure() gives JSON-ready data that parses back to an equal record."""
    key = structure(key_record(), APIKey)
    assert structure(unstructure(key), APIKey) == key


@pytest.mark.parametrize(
    ("reset", "byok", "expected"),
    [
        ("daily", False, 0.5),
        ("weekly", False, 1.5),
        ("monthly", True, 2.5 + 4.0),
        (None, True, 9.0 + 8.0),
    ],
)
def test_usage_in_limit_window_counts_the_reset_window_and_byok(
    reset: str | None, byok: bool, expected: float
) -> None:
    """APIKey.usage_in_limit_window() takes the window limit_reset names (all time when None)
    and adds that window's BYOK usage only when include_byok_in_limit is set."""
    key = structure(
        key_record(
            limit_reset=reset,
            include_byok_in_limit=byok,
            usage=9.0,
            byok_usage=8.0,
            byok_usage_daily=1.0,
            byok_usage_weekly=2.0,
            byok_usage_monthly=4.0,
        ),
        APIKey,
    )
    assert key.usage_in_limit_window() == expected
    assert usage_in_limit_window(key) == expected


def test_is_over_limit_compares_the_window_spend_with_threshold_times_limit() -> None:
    """is_over_limit(t) holds from spend >= t × limit; a key without a limit never is."""
    key = structure(key_record(limit=10, limit_reset="monthly", usage_monthly=8.0), APIKey)
    assert key.is_over_limit(0.8)
    assert not key.is_over_limit(0.81)
    assert not key.is_over_limit()
    assert structure(key_record(limit=8, usage_monthly=8.0), APIKey).is_over_limit()
    assert not structure(key_record(limit=None, usage_monthly=1e9), APIKey).is_over_limit(0.01)

"""The generated record functions: they accept exactly what cattrs' own functions accept."""

from __future__ import annotations

import copy
import math
import pickle
from typing import Any, Optional, Union

import attrs
import pytest

from modelgates_async import (
    APIKey,
    CreatedKey,
    CurrentKey,
    FreeModelDailyRequests,
    KeyBudget,
    RateLimitInfo,
)
from modelgates_async._convert import _converter
from modelgates_async._record_fn import make_record_fn, optional_of, slot_twin
from tests.helpers import SECRET, current_key_record, key_record

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    3,
    2.0,
    1.5,
    float("nan"),
    "",
    "x",
    "daily",
    "2025-02-19T20:52:27Z",
    "2025-02-19T20:52:27.123456789+02:00",
    "2025-02-19T20:52:27z",
    "1.5",
    [],
    ["eu"],
    {},
]
BUDGET = {
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

NESTED: dict[str, dict[str, Any]] = {
    "free_model_daily_requests": {"limit": 50, "remaining": 49, "used": 1},
    "rate_limit": {"interval": "10s", "note": "deprecated", "requests": 100},
}


def _outcome(data: Any, cls: type, *, detailed: bool) -> object:
    try:
        return _converter(detailed=detailed).structure(data, cls)
    except Exception:
        return "refused"


def _same(fast: object, detailed: object) -> bool:
    # NaN is not equal to itself: compare the records' reprs.
    return fast == detailed or repr(fast) == repr(detailed)


def _variants(record: dict[str, Any]) -> list[dict[str, Any]]:
    variants = [record]
    for field in record:
        variants.append({k: v for k, v in record.items() if k != field})
        variants.extend({**record, field: value} for value in VALUES)
    return variants


@pytest.mark.parametrize(
    ("cls", "record"),
    [
        (APIKey, key_record()),
        (CreatedKey, {"key": SECRET, "data": key_record()}),
        (CurrentKey, current_key_record(budgets=[BUDGET], effective_budget=BUDGET)),
    ],
)
def test_fast_and_detailed_configurations_agree(cls: type, record: dict[str, Any]) -> None:
    """For every field set to each of many values (or left out), the generated function
    builds the same record as cattrs' detailed one, or both refuse it."""
    variants: list[dict[str, Any]]
    if cls is CreatedKey:
        variants = [{"key": SECRET, "data": data} for data in _variants(key_record())]
        variants += [{"key": value, "data": key_record()} for value in VALUES]
    elif cls is CurrentKey:
        variants = _variants(record)
        variants += [{**record, "budgets": [budget]} for budget in _variants(BUDGET)]
        for field, nested in NESTED.items():
            variants += [{**record, field: value} for value in _variants(nested)]
    else:
        variants = _variants(record)
    refused = 0
    data: dict[str, Any]
    for data in variants:
        fast = _outcome(data, cls, detailed=False)
        detailed = _outcome(data, cls, detailed=True)
        assert _same(fast, detailed), (data, fast, detailed)
        refused += fast == "refused"
    assert 0 < refused < len(variants)  # the corpus has both kinds


def test_plain_values_pass_as_they_are_and_others_through_their_hook() -> None:
    """A float field keeps a float, turns an int into a float, and refuses a bool."""
    key = _converter(detailed=False).structure(key_record(usage=3, limit=None), APIKey)
    assert type(key.usage) is float
    assert key.limit is None
    assert math.isnan(
        _converter(detailed=False).structure(key_record(usage=math.nan), APIKey).usage
    )
    with pytest.raises(TypeError):
        _converter(detailed=False).structure(key_record(usage=True), APIKey)


def test_unknown_fields_are_not_read_and_missing_ones_raise_key_error() -> None:
    """The generated function ignores extra keys; a missing required one is a KeyError."""
    fast = _converter(detailed=False)
    assert fast.structure(key_record(new_field=object()), APIKey).name == "Customer Key"
    record = key_record()
    del record["hash"]
    with pytest.raises(KeyError):
        fast.structure(record, APIKey)


def test_optional_of_reads_both_spellings_and_nothing_else() -> None:
    """X | None, None | X and Optional[X] give X; other types give None."""
    assert optional_of(int | None) is int
    assert optional_of(None | str) is str
    assert optional_of(Optional[float]) is float  # noqa: UP045 - the old spelling on purpose
    assert optional_of(Union[int, str]) is None  # noqa: UP007
    assert optional_of(int) is None
    assert optional_of(int | str | None) is None


def test_fields_the_generator_cannot_fill_are_refused_when_it_runs() -> None:
    """A record with a field outside __init__ or keyword-only fails at generation, loudly."""

    @attrs.frozen
    class KeywordOnly:
        name: str = attrs.field(kw_only=True)

    @attrs.frozen
    class NotInInit:
        name: str = attrs.field(init=False, default="x")

    for cls in (KeywordOnly, NotInInit):
        with pytest.raises(TypeError, match="only plain init fields"):
            make_record_fn(cls, lambda kind: lambda value, _: value)


def test_missing_optional_fields_get_their_defaults_and_present_ones_their_checks() -> None:
    """An absent field gets its default (a factory: per record); a present one is checked."""

    @attrs.frozen
    class WithDefaults:
        name: str
        note: str | None = None
        tags: list[str] = attrs.Factory(list)

    def hook_for(kind: Any) -> Any:
        def refuse(value: Any, _: Any) -> Any:
            raise TypeError(f"not a {kind}")

        return refuse

    structure = make_record_fn(WithDefaults, hook_for)
    first, second = structure({"name": "a"}, WithDefaults), structure({"name": "b"}, WithDefaults)
    assert (first.note, first.tags) == (None, [])
    assert first.tags is not second.tags
    assert structure({"name": "a", "note": "n"}, WithDefaults).note == "n"
    with pytest.raises(TypeError):
        structure({"name": "a", "note": 1}, WithDefaults)


def test_a_default_that_takes_self_is_refused_when_the_generator_runs() -> None:
    """A Factory(takes_self=True) default cannot be filled without the instance: refused."""

    @attrs.frozen
    class TakesSelf:
        name: str
        upper: str = attrs.Factory(lambda self: self.name.upper(), takes_self=True)

    with pytest.raises(TypeError, match="takes self"):
        make_record_fn(TakesSelf, lambda kind: lambda value, _: value)


RECORDS = [APIKey, CreatedKey, CurrentKey, KeyBudget, FreeModelDailyRequests, RateLimitInfo]


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__name__)
def test_every_record_is_filled_through_its_slot_twin(cls: type) -> None:
    """Each record class qualifies for the fast fill (a new field kind that disqualified
    one would silently make every call slower: this fails instead)."""
    assert slot_twin(cls) is not None


def _upper(value: str) -> str:
    return value.upper()


def _passthrough(kind: Any) -> Any:
    return lambda value, _: value


def test_a_record_filled_through_its_twin_is_the_record_its_init_makes() -> None:
    """Same class, same fields, equal and equally hashed, frozen, evolvable, picklable,
    reprs alike."""
    data = key_record()
    built = make_record_fn(APIKey, _passthrough)(data, APIKey)
    by_init = APIKey(**data)
    assert type(built) is APIKey
    assert built == by_init
    assert hash(built) == hash(by_init)
    assert repr(built) == repr(by_init)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.name = "changed"  # type: ignore[misc]
    assert attrs.evolve(built, name="other").name == "other"
    assert pickle.loads(pickle.dumps(built)) == built
    assert copy.copy(built) == built


def test_records_that_need_their_init_are_built_by_it() -> None:
    """A validator, a converter, a post-init hook, a cached hash or a weakref slot: no twin,
    and the generated function calls __init__, so each still runs."""
    seen: list[str] = []

    @attrs.frozen
    class WithWeakref:  # attrs' default: a __weakref__ slot, which __class__ assignment refuses
        name: str

    @attrs.frozen(weakref_slot=False)
    class Validated:
        name: str = attrs.field(validator=lambda _, __, value: seen.append(f"checked {value}"))

    @attrs.frozen(weakref_slot=False)
    class Converted:
        name: str = attrs.field(converter=_upper)

    @attrs.frozen(weakref_slot=False)
    class PostInit:
        name: str

        def __attrs_post_init__(self) -> None:
            seen.append(f"post-init {self.name}")

    @attrs.frozen(weakref_slot=False, cache_hash=True)
    class CachedHash:
        name: str

    @attrs.frozen(weakref_slot=False)
    class Plain:
        name: str

    for cls in (WithWeakref, Validated, Converted, PostInit, CachedHash):
        assert slot_twin(cls) is None, cls.__name__
    assert slot_twin(Plain) is not None
    assert make_record_fn(Validated, _passthrough)({"name": "a"}, Validated).name == "a"
    assert make_record_fn(Converted, _passthrough)({"name": "b"}, Converted).name == "B"
    assert make_record_fn(PostInit, _passthrough)({"name": "c"}, PostInit).name == "c"
    assert seen == ["checked a", "post-init c"]
    cached = make_record_fn(CachedHash, _passthrough)({"name": "d"}, CachedHash)
    assert hash(cached) == hash(CachedHash("d"))

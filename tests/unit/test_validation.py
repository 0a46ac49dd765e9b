"""Bad arguments are refused with InvalidRequestError naming them, before any request."""

from __future__ import annotations

import copy
import math
import pickle
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aioresponses import aioresponses

from modelgates_async import NOT_GIVEN, AsyncModelGates, InvalidRequestError, LimitReset, NotGiven
from tests.helpers import HASH


async def refused(client: AsyncModelGates, mock: aioresponses, call: Any, argument: str) -> str:
    """Await ``call``, assert it is refused for ``argument`` and nothing was sent."""
    with pytest.raises(InvalidRequestError) as info:
        await call
    assert info.value.argument == argument
    assert argument in str(info.value)
    assert mock.requests == {}
    return str(info.value)


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
async def test_create_refuses_empty_or_blank_name(
    client: AsyncModelGates, mock: aioresponses, name: str
) -> None:
    """An empty or blank key name is refused."""
    await refused(client, mock, client.api_keys.create(name), "name")


async def test_create_refuses_a_name_that_is_not_a_string(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """A non-string name is refused rather than sent as something else."""
    await refused(client, mock, client.api_keys.create(42), "name")  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [-0.01, -1, math.nan, math.inf, -math.inf, "10", True])
async def test_create_refuses_bad_limits(
    client: AsyncModelGates, mock: aioresponses, limit: Any
) -> None:
    """A negative, NaN, infinite or non-numeric limit is refused."""
    await refused(client, mock, client.api_keys.create("n", limit=limit), "limit")


@pytest.mark.parametrize("limit", [-5, math.nan, math.inf])
async def test_update_refuses_bad_limits(
    client: AsyncModelGates, mock: aioresponses, limit: float
) -> None:
    """update() applies the same limit rule as create()."""
    await refused(client, mock, client.api_keys.update(HASH, limit=limit), "limit")


@pytest.mark.parametrize("reset", ["yearly", "Daily", "", 1])
async def test_refuses_unknown_limit_reset(
    client: AsyncModelGates, mock: aioresponses, reset: Any
) -> None:
    """limit_reset must be daily, weekly, monthly (string or LimitReset) or None."""
    message = await refused(
        client, mock, client.api_keys.create("n", limit_reset=reset), "limit_reset"
    )
    assert "'daily', 'weekly', 'monthly'" in message


def test_limit_reset_accepts_enum_and_strings() -> None:
    """LimitReset members and their plain string values are the same on the wire."""
    from modelgates_async._validation import check_limit_reset

    assert check_limit_reset(LimitReset.WEEKLY) == "weekly"
    assert check_limit_reset("weekly") == "weekly"
    assert check_limit_reset(None) is None


async def test_refuses_a_naive_expires_at(client: AsyncModelGates, mock: aioresponses) -> None:
    """A naive datetime is ambiguous and refused."""
    message = await refused(
        client, mock, client.api_keys.create("n", expires_at=datetime(2030, 1, 1)), "expires_at"
    )
    assert "timezone-aware" in message


@pytest.mark.parametrize(
    "value",
    [
        "2030-01-01T00:00:00+02:00",
        "2030-01-01T00:00:00",
        "2030-01-01",
        "tomorrowZ",
        "2030-13-01T00:00:00Z",
    ],
)
async def test_refuses_expires_at_strings_that_are_not_utc_timestamps(
    client: AsyncModelGates, mock: aioresponses, value: str
) -> None:
    """A string that is not an ISO 8601 UTC timestamp is refused."""
    await refused(client, mock, client.api_keys.create("n", expires_at=value), "expires_at")


@pytest.mark.parametrize(
    "value", ["2030-01-01T00:00:00Z", "2030-01-01T00:00:00z", "2030-01-01T00:00:00.5+00:00"]
)
def test_accepts_utc_expires_at_strings(value: str) -> None:
    """'Z', 'z' and '+00:00' strings are accepted unchanged."""
    from modelgates_async._validation import check_expires_at

    assert check_expires_at(value) == value


def test_expires_at_keeps_microseconds() -> None:
    """An aware datetime keeps its microseconds on the wire."""
    from modelgates_async._validation import check_expires_at

    value = datetime(2030, 1, 1, 0, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-5)))
    assert check_expires_at(value) == "2030-01-01T05:00:00.123456Z"


@pytest.mark.parametrize(
    "bad_hash",
    ["", "../x", "..", ".", "a/b", "a?b", "a#b", "a b", " a", "a\n", "a%2Fb", "a\\b", "%2e%2e"],
)
@pytest.mark.parametrize("method", ["get", "update", "delete"])
async def test_refuses_hashes_that_would_change_the_path(
    client: AsyncModelGates, mock: aioresponses, bad_hash: str, method: str
) -> None:
    """An empty hash, or one with '/', '..', '?', '#', '%' or whitespace, is refused."""
    call = getattr(client.api_keys, method)
    kwargs: dict[str, Any] = {"name": "x"} if method == "update" else {}
    await refused(client, mock, call(bad_hash, **kwargs), "hash")


async def test_refuses_a_hash_that_is_not_a_string(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """A hash must be a string."""
    await refused(client, mock, client.api_keys.get(None), "hash")  # type: ignore[arg-type]


async def test_update_with_nothing_to_change_is_refused(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """update(hash) with no field would send an empty PATCH: refused."""
    message = await refused(client, mock, client.api_keys.update(HASH), "update")
    assert "at least one of" in message


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"disabled": None}, "disabled"),
        ({"disabled": 1}, "disabled"),
        ({"include_byok_in_limit": "yes"}, "include_byok_in_limit"),
        ({"name": None}, "name"),
        ({"name": " "}, "name"),
    ],
)
async def test_update_refuses_null_or_mistyped_non_nullable_fields(
    client: AsyncModelGates, mock: aioresponses, kwargs: dict[str, Any], argument: str
) -> None:
    """Fields the API does not allow to be null (or of another type) are refused."""
    await refused(client, mock, client.api_keys.update(HASH, **kwargs), argument)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"offset": -1}, "offset"),
        ({"offset": 1.5}, "offset"),
        ({"offset": True}, "offset"),
        ({"include_disabled": "true"}, "include_disabled"),
        ({"workspace_id": ""}, "workspace_id"),
        ({"workspace_id": 3}, "workspace_id"),
    ],
)
async def test_list_refuses_bad_arguments(
    client: AsyncModelGates, mock: aioresponses, kwargs: dict[str, Any], argument: str
) -> None:
    """list() checks offset, include_disabled and workspace_id."""
    await refused(client, mock, client.api_keys.list(**kwargs), argument)


@pytest.mark.parametrize("timeout", [0, -1, math.inf, math.nan, "5"])
async def test_refuses_bad_per_call_timeout(
    client: AsyncModelGates, mock: aioresponses, timeout: Any
) -> None:
    """A per-call timeout must be a finite number of seconds > 0."""
    await refused(client, mock, client.api_keys.get(HASH, timeout=timeout), "timeout")


async def test_refuses_per_call_retries_of_the_wrong_type(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """retries= must be a RetryConfig."""
    await refused(client, mock, client.api_keys.get(HASH, retries=3), "retries")  # type: ignore[arg-type]


async def test_create_refuses_null_include_byok_and_bad_creator(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """include_byok_in_limit cannot be null; creator_user_id must be a string or None."""
    await refused(
        client,
        mock,
        client.api_keys.create("n", include_byok_in_limit=None),  # type: ignore[arg-type]
        "include_byok_in_limit",
    )
    await refused(client, mock, client.api_keys.create("n", creator_user_id=5), "creator_user_id")  # type: ignore[arg-type]


def test_invalid_request_error_is_a_value_error() -> None:
    """Callers that catch ValueError also catch our argument errors."""
    assert issubclass(InvalidRequestError, ValueError)


def test_not_given_is_a_falsy_singleton() -> None:
    """NOT_GIVEN is falsy, prints as NOT_GIVEN, and survives copy and pickle as itself."""
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert NotGiven() is NOT_GIVEN
    assert copy.deepcopy(NOT_GIVEN) is NOT_GIVEN
    assert pickle.loads(pickle.dumps(NOT_GIVEN)) is NOT_GIVEN

"""Bad input gets InvalidRequestError naming the argument, before anything is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aioresponses import aioresponses

from modelgates_async import AsyncModelGates, InvalidRequestError, RetryConfig
from tests.helpers import mocked_aiohttp

BASE = "https://api.test/api/v1"
KEY = "mgmt-" + "0123abcd" * 6
SECRET = "sk-mg-v1-" + "ab12" * 16
HASH = "f" * 64
HUGE = 10**400
BEHIND_UTC = timezone(timedelta(hours=-1))
AHEAD_OF_UTC = timezone(timedelta(hours=1))


@pytest.fixture
def mock() -> Iterator[aioresponses]:
    """aiohttp with no answer registered: a request that is sent fails the test."""
    with mocked_aiohttp() as m:
        yield m


@pytest.fixture
async def mg(mock: aioresponses) -> AsyncIterator[AsyncModelGates]:
    """A client of the mocked API; the test checks that nothing reached it."""
    async with AsyncModelGates(KEY, base_url=BASE, retries=RetryConfig.disabled()) as client:
        yield client
    assert mock.requests == {}, "a refused call was sent"


async def refused(call: Callable[[], Awaitable[Any]], argument: str) -> InvalidRequestError:
    """Run ``call``; it must raise InvalidRequestError naming ``argument``."""
    with pytest.raises(InvalidRequestError) as info:
        await call()
    assert info.value.argument == argument, info.value
    return info.value


async def first(generator: Any) -> Any:
    """The first item of an async generator (runs its checks)."""
    async for item in generator:
        return item
    return None


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda mg: mg.api_keys.create("t", limit=HUGE), "limit"),
        (lambda mg: mg.api_keys.create("t", limit=-(10**5000)), "limit"),
        (lambda mg: mg.api_keys.update(HASH, limit=HUGE), "limit"),
        (lambda mg: mg.api_keys.get(HASH, timeout=HUGE), "timeout"),
        (lambda mg: mg.api_keys.list(offset=HUGE), "offset"),
        (lambda mg: mg.api_keys.list(offset=-(10**5000)), "offset"),
        (lambda mg: first(mg.api_keys.over_limit(threshold=HUGE)), "threshold"),
        (lambda mg: mg.api_keys.disable_over_limit(threshold=HUGE), "threshold"),
        (lambda mg: mg.api_keys.create("t", limit_reset=10**5000), "limit_reset"),
        (
            lambda mg: mg.api_keys.create("t", expires_at=datetime.max.replace(tzinfo=BEHIND_UTC)),
            "expires_at",
        ),
        (
            lambda mg: mg.api_keys.create(
                "t", expires_at=datetime.min.replace(tzinfo=AHEAD_OF_UTC)
            ),
            "expires_at",
        ),
    ],
)
async def test_numbers_and_dates_out_of_range_are_refused(
    mg: AsyncModelGates, call: Callable[[AsyncModelGates], Awaitable[Any]], argument: str
) -> None:
    """Huge integers and datetimes that overflow in UTC: InvalidRequestError, no OverflowError."""
    await refused(lambda: call(mg), argument)


@pytest.mark.parametrize("field", ["initial_backoff", "max_backoff", "max_retry_after"])
def test_huge_retry_config_numbers_are_a_value_error(field: str) -> None:
    """RetryConfig(max_backoff=10**400): its ValueError naming the field, not OverflowError."""
    options: dict[str, Any] = {field: HUGE}
    with pytest.raises(ValueError, match=f"RetryConfig.{field} must be a finite number"):
        RetryConfig(**options)


def test_huge_client_timeout_is_refused() -> None:
    """timeout=10**400 on the client: InvalidRequestError naming timeout."""
    with pytest.raises(InvalidRequestError) as info:
        AsyncModelGates(KEY, base_url=BASE, timeout=HUGE)
    assert info.value.argument == "timeout"


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda mg: mg.api_keys.create("tenant-\ud800"), "name"),
        (lambda mg: mg.api_keys.create("t", creator_user_id="user-\udfff"), "creator_user_id"),
        (lambda mg: mg.api_keys.create("t", workspace_id="ws-\ud800"), "workspace_id"),
        (lambda mg: mg.api_keys.list(workspace_id="ws-\ud800"), "workspace_id"),
        (lambda mg: mg.api_keys.update(HASH, name="\udc80x"), "name"),
        (lambda mg: mg.api_keys.get("a\ud800b"), "hash"),
    ],
)
async def test_lone_surrogates_are_refused_before_sending(
    mg: AsyncModelGates, call: Callable[[AsyncModelGates], Awaitable[Any]], argument: str
) -> None:
    """A string UTF-8 cannot encode is refused, naming the argument."""
    await refused(lambda: call(mg), argument)


async def test_bulk_input_with_a_lone_surrogate_fails_alone(mg: AsyncModelGates) -> None:
    """create_many: the spec with a lone surrogate fails before anything is sent."""
    result = await mg.api_keys.create_many([{"name": "tenant-\ud800"}])
    assert isinstance(result[0].error, InvalidRequestError)
    assert result[0].error.argument == "name"


@pytest.mark.parametrize(
    "call",
    [
        lambda mg, s: mg.api_keys.get(s),
        lambda mg, s: mg.api_keys.update(s, disabled=True),
        lambda mg, s: mg.api_keys.delete(s),
        lambda mg, s: mg.api_keys.rotate(s),
        lambda mg, s: mg.api_keys.get(s.upper()),
    ],
)
async def test_a_secret_passed_as_a_hash_is_refused_unechoed(
    mg: AsyncModelGates, call: Callable[[AsyncModelGates, str], Awaitable[Any]]
) -> None:
    """get/update/delete/rotate(secret): refused before sending; the secret is not repeated."""
    error = await refused(lambda: call(mg, SECRET), "hash")
    assert "secret" in error.message
    for text in (str(error), repr(error), error.message):
        assert SECRET not in text
        assert SECRET.upper() not in text
        assert "ab12ab12" not in text


@pytest.mark.parametrize("bulk", ["get_many", "delete_many", "rotate_many"])
async def test_a_secret_among_bulk_hashes_is_refused_unechoed(
    mg: AsyncModelGates, bulk: str
) -> None:
    """The bulk twins refuse a secret-shaped hash as their single calls do."""
    result = await getattr(mg.api_keys, bulk)([SECRET])
    error = result[0].error
    assert isinstance(error, InvalidRequestError)
    assert error.argument == "hash"
    assert SECRET not in str(error)
    assert SECRET not in repr(result)


async def test_a_secret_in_update_many_is_refused(mg: AsyncModelGates) -> None:
    """update_many with a secret as the hash: that change fails before sending."""
    result = await mg.api_keys.update_many([(SECRET, {"disabled": True})])
    assert isinstance(result[0].error, InvalidRequestError)
    assert SECRET not in repr(result)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"api_key": KEY + "\r\nX-Injected: 1"}, "api_key"),
        ({"api_key": KEY + "\n"}, "api_key"),
        ({"api_key": KEY[:10] + "\ud800" + KEY[10:]}, "api_key"),
        ({"app_title": "My app\r\nX-Injected: 1"}, "app_title"),
        ({"app_title": 42}, "app_title"),
        ({"http_referer": "https://a.example\n"}, "http_referer"),
        ({"http_referer": b"https://a.example"}, "http_referer"),
        ({"app_categories": ["ok", "bad\r\n"]}, "app_categories"),
        ({"app_categories": ["ok", 3]}, "app_categories"),
        ({"app_categories": 3}, "app_categories"),
        ({"default_headers": {"X-Token": "a\rb"}}, "default_headers"),
        ({"default_headers": {"X-Token": 1}}, "default_headers"),
        ({"default_headers": {"Bad Name": "x"}}, "default_headers"),
        ({"default_headers": {"X-A\r\nB": "x"}}, "default_headers"),
        ({"default_headers": "X-Token: 1"}, "default_headers"),
    ],
)
def test_header_arguments_are_checked_in_the_constructor(
    kwargs: dict[str, Any], argument: str
) -> None:
    """CR/LF, non-strings and bad header names fail in the constructor, naming the argument."""
    arguments: dict[str, Any] = {"api_key": KEY, "base_url": BASE, **kwargs}
    with pytest.raises(InvalidRequestError) as info:
        AsyncModelGates(**arguments)
    assert info.value.argument == argument
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


def test_a_secret_in_default_headers_is_not_echoed() -> None:
    """A bad default header value (a credential, maybe) is named, never shown."""
    with pytest.raises(InvalidRequestError) as info:
        AsyncModelGates(KEY, base_url=BASE, default_headers={"X-Token": "tok-12345678\n"})
    assert "X-Token" in str(info.value)
    assert "tok-12345678" not in str(info.value)


def test_good_header_arguments_are_accepted() -> None:
    """Non-ASCII titles, category lists and ordinary default headers are fine."""
    AsyncModelGates(
        KEY,
        base_url=BASE,
        app_title="Café ☕",
        http_referer="https://a.example/path?x=1",
        app_categories=("cli-agent", "tools"),
        default_headers={"X-Trace": "abc\tdef"},
    )

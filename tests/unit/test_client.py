"""Client configuration, session ownership and lifecycle."""

from __future__ import annotations

import aiohttp
import pytest
from aioresponses import aioresponses

from modelgates_async import (
    DEFAULT_BASE_URL,
    AsyncModelGates,
    ClientClosedError,
    InvalidRequestError,
    ModelGatesError,
    RetryConfig,
    UsageError,
)
from tests.helpers import API_KEY, BASE, HASH, key_record, sent


def test_missing_api_key_says_how_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """No argument and no MODELGATES_API_KEY: a ModelGatesError explaining both ways."""
    monkeypatch.delenv("MODELGATES_API_KEY", raising=False)
    with pytest.raises(ModelGatesError, match="MODELGATES_API_KEY") as info:
        AsyncModelGates()
    assert "api_key=" in str(info.value)


def test_api_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """MODELGATES_API_KEY and MODELGATES_BASE_URL are used when no argument is given."""
    monkeypatch.setenv("MODELGATES_API_KEY", API_KEY)
    monkeypatch.setenv("MODELGATES_BASE_URL", "http://127.0.0.1:9/api/v1/")
    client = AsyncModelGates()
    assert client.base_url == "http://127.0.0.1:9/api/v1"


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit base_url beats MODELGATES_BASE_URL."""
    monkeypatch.setenv("MODELGATES_BASE_URL", "http://127.0.0.1:9/api/v1")
    assert AsyncModelGates(API_KEY, base_url=BASE).base_url == BASE


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing configured the base URL is https://modelgates.ai/api/v1."""
    monkeypatch.delenv("MODELGATES_BASE_URL", raising=False)
    assert AsyncModelGates(API_KEY).base_url == DEFAULT_BASE_URL == "https://modelgates.ai/api/v1"


@pytest.mark.parametrize("base_url", ["", "ftp://x/api", "not a url"])
def test_bad_base_urls_are_refused(base_url: str) -> None:
    """A base URL must be a non-empty http(s) URL; the error names the argument."""
    with pytest.raises(InvalidRequestError) as info:
        AsyncModelGates(API_KEY, base_url=base_url)
    assert info.value.argument == "base_url"
    assert "base_url must be" in str(info.value)


def test_a_base_url_with_credentials_is_refused_without_echoing_them() -> None:
    """user:password@ in base_url is refused; the password is nowhere in the error."""
    password = "hunter2-Sekr1t"
    with pytest.raises(InvalidRequestError) as info:
        AsyncModelGates(API_KEY, base_url=f"https://user:{password}@api.test/api/v1")
    error = info.value
    assert error.argument == "base_url"
    assert "must not contain credentials" in str(error)
    for text in (str(error), repr(error), repr(vars(error)), repr(error.args)):
        assert password not in text


@pytest.mark.parametrize("timeout", [0, -1, float("nan")])
def test_bad_client_timeout_is_refused(timeout: float) -> None:
    """The client timeout must be a positive finite number."""
    with pytest.raises(InvalidRequestError):
        AsyncModelGates(API_KEY, timeout=timeout)


def test_repr_masks_the_api_key() -> None:
    """repr(client) shows the base URL and a masked key, never the key."""
    text = repr(AsyncModelGates(API_KEY, base_url=BASE))
    assert API_KEY not in text
    assert BASE in text


def session_of(client: AsyncModelGates) -> aiohttp.ClientSession | None:
    """The client's session as it is now (a call, so that mypy does not narrow it for good)."""
    return client._session


async def test_owned_session_is_created_lazily_and_closed(
    mock: aioresponses, waits: list[float]
) -> None:
    """No session exists until the first call; aclose() closes the one we made."""
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record()})
    client = AsyncModelGates(API_KEY, base_url=BASE)
    assert session_of(client) is None
    await client.api_keys.get(HASH)
    session = session_of(client)
    assert session is not None
    await client.aclose()
    assert session.closed
    assert client.closed


async def test_a_session_passed_in_is_used_and_never_closed(
    mock: aioresponses, waits: list[float]
) -> None:
    """The caller's session carries our requests and stays open after aclose()."""
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record()})
    async with aiohttp.ClientSession() as session:
        async with AsyncModelGates(API_KEY, base_url=BASE, session=session) as client:
            await client.api_keys.get(HASH)
        assert not session.closed
    assert len(sent(mock, "GET", f"{BASE}/keys/{HASH}")) == 1


def test_a_session_from_another_loop_is_refused_with_a_clear_error(waits: list[float]) -> None:
    """A session made in another event loop raises ModelGatesError instead of failing
    inside aiohttp; the session itself is left alone (still open, still the caller's)."""
    import asyncio

    other = asyncio.new_event_loop()
    try:

        async def make_session() -> aiohttp.ClientSession:
            return aiohttp.ClientSession()

        session = other.run_until_complete(make_session())

        async def use_it() -> None:
            async with AsyncModelGates(API_KEY, base_url=BASE, session=session) as client:
                await client.api_keys.get(HASH)

        with pytest.raises(ModelGatesError, match="another event loop"):
            asyncio.run(use_it())
        assert not session.closed
        other.run_until_complete(session.close())
    finally:
        other.close()


async def test_using_a_closed_client_raises_a_clear_error(
    mock: aioresponses, waits: list[float]
) -> None:
    """A call after aclose() raises ModelGatesError saying the client is closed."""
    client = AsyncModelGates(API_KEY, base_url=BASE)
    await client.aclose()
    with pytest.raises(ModelGatesError, match="closed"):
        await client.api_keys.get(HASH)
    with pytest.raises(ModelGatesError, match="closed"):
        async with client:
            pass


async def test_aclose_twice_is_harmless() -> None:
    """aclose() may be called more than once."""
    client = AsyncModelGates(API_KEY, base_url=BASE)
    await client.aclose()
    await client.aclose()
    assert client.closed


@pytest.mark.parametrize(("name", "value"), [("timeout", 5.0), ("retries", RetryConfig.disabled())])
def test_client_options_are_read_only_and_say_what_to_do(name: str, value: object) -> None:
    """Assigning client.timeout/.retries raises AttributeError naming the per-call argument
    (it used to change nothing), and the client keeps its setting."""
    client = AsyncModelGates(API_KEY, base_url=BASE, timeout=7.0)
    before = getattr(client, name)
    with pytest.raises(AttributeError, match=rf"read-only: pass {name}=\.\.\. to a call"):
        setattr(client, name, value)
    assert getattr(client, name) == before
    assert client.timeout == 7.0


async def test_calls_use_the_client_timeout_unless_one_is_given(
    mock: aioresponses, waits: list[float]
) -> None:
    """A call without timeout= sends with the client's timeout; timeout= overrides it."""
    client = AsyncModelGates(API_KEY, base_url=BASE, timeout=7.0)
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record()}, repeat=True)
    async with client:
        await client.api_keys.get(HASH)
        await client.api_keys.get(HASH, timeout=2.5)
    calls = sent(mock, "GET", f"{BASE}/keys/{HASH}")
    assert [call.kwargs["timeout"].total for call in calls] == [7.0, 2.5]


async def test_closed_client_and_foreign_session_raise_named_errors(
    mock: aioresponses, waits: list[float]
) -> None:
    """A closed client raises ClientClosedError; no API key raises UsageError (a RuntimeError)."""
    client = AsyncModelGates(API_KEY, base_url=BASE)
    await client.aclose()
    with pytest.raises(ClientClosedError, match="closed"):
        await client.api_keys.get(HASH)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MODELGATES_API_KEY", raising=False)
        with pytest.raises(UsageError, match="MODELGATES_API_KEY") as info:
            AsyncModelGates()
    assert isinstance(info.value, RuntimeError)

"""The SDK against the local server, through the pytest plugin's fixtures: every endpoint
and every error class over real sockets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from modelgates_async import (
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AsyncModelGates,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    InvalidRequestError,
    LimitReset,
    ModelGates,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryConfig,
)
from modelgates_async.server import LocalServer

UTC = timezone.utc
NO_RETRIES = RetryConfig.disabled()


async def test_create_get_update_delete_round_trip(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """create → get → update (null clears) → delete → 404, with typed records."""
    mg = async_modelgates_client
    expires = datetime(2100, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    created = await mg.api_keys.create(
        "tenant", limit=50, limit_reset="monthly", include_byok_in_limit=True, expires_at=expires
    )
    assert created.key.startswith("sk-mg-v1-")
    assert created.key not in repr(created)
    key = await mg.api_keys.get(created.data.hash)
    assert key == created.data
    assert key.limit == 50
    assert key.limit_reset == LimitReset.MONTHLY
    assert key.expires_at is not None
    assert abs(key.expires_at - expires) < timedelta(milliseconds=1)
    updated = await mg.api_keys.update(key.hash, name="renamed", limit=None, limit_reset=None)
    assert updated.name == "renamed"
    assert updated.limit is None
    assert updated.limit_reset is None
    assert updated.limit_remaining is None
    assert updated.updated_at is not None
    assert await mg.api_keys.delete(key.hash) is True
    with pytest.raises(NotFoundError):
        await mg.api_keys.get(key.hash)


@pytest.mark.parametrize(
    "expires_at",
    [
        datetime(2100, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=2))),
        "2099-12-31T23:30:00+00:00",
        "2099-12-31T23:30:00Z",
    ],
)
async def test_every_form_of_expires_at_reaches_the_server_as_the_same_instant(
    async_modelgates_client: AsyncModelGates, expires_at: datetime | str
) -> None:
    """An aware datetime in any zone, or an ISO string, is stored as that instant."""
    created = await async_modelgates_client.api_keys.create("n", expires_at=expires_at)
    stored = await async_modelgates_client.api_keys.get(created.data.hash)
    assert stored.expires_at == datetime(2099, 12, 31, 23, 30, tzinfo=UTC)


async def test_create_with_only_a_name_and_with_explicit_nones_store_no_limit(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """Arguments left out and explicit Nones both leave the key unlimited and never expiring."""
    bare = await async_modelgates_client.api_keys.create("bare")
    nulls = await async_modelgates_client.api_keys.create(
        "nulls", limit=None, limit_reset=None, expires_at=None, creator_user_id=None
    )
    for created in (bare, nulls):
        key = await async_modelgates_client.api_keys.get(created.data.hash)
        assert (key.limit, key.limit_reset, key.limit_remaining, key.expires_at) == (
            None,
            None,
            None,
            None,
        )
        assert not key.include_byok_in_limit


async def test_list_and_iter_page_through_every_key(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """list() gives 100 newest first; iter() walks all pages; disabled keys need the flag."""
    mg = async_modelgates_client
    created = [(await mg.api_keys.create(f"k{i}")).data.hash for i in range(120)]
    first = await mg.api_keys.list()
    assert len(first) == 100
    assert [k.hash for k in first] == created[::-1][:100]
    assert [k.hash async for k in mg.api_keys.iter()] == created[::-1]
    await mg.api_keys.update(created[0], disabled=True)
    assert created[0] not in [k.hash async for k in mg.api_keys.iter()]
    assert created[0] in [k.hash async for k in mg.api_keys.iter(include_disabled=True)]


async def test_workspace_filter(async_modelgates_client: AsyncModelGates) -> None:
    """A key created in another workspace lists only under that workspace_id."""
    mg = async_modelgates_client
    other = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
    key = (await mg.api_keys.create("elsewhere", workspace_id=other)).data
    assert await mg.api_keys.list() == []
    assert [k.hash for k in await mg.api_keys.list(workspace_id=other)] == [key.hash]


async def test_current_key_for_management_and_regular_keys(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """get_current_key_metadata(): management key vs a created key's own record."""
    me = await async_modelgates_client.api_keys.get_current_key_metadata()
    assert me.is_management_key is True
    created = await async_modelgates_client.api_keys.create("regular", limit=4)
    async with AsyncModelGates(api_key=created.key, base_url=modelgates_server.base_url) as mine:
        mine_me = await mine.api_keys.get_current_key_metadata()
        assert mine_me.is_management_key is False
        assert mine_me.limit == 4
        with pytest.raises(PermissionDeniedError):
            await mine.api_keys.list()


async def test_usage_and_limits_follow_the_server_clock(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """Spend recorded on the server shows in the SDK's record and resets at midnight UTC."""
    modelgates_server.clock.set(datetime(2025, 1, 5, 23, 0, tzinfo=UTC))  # Sunday
    created = await async_modelgates_client.api_keys.create(
        "spender", limit=10, limit_reset="weekly"
    )
    modelgates_server.record_usage(created.data.hash, 4)
    key = await async_modelgates_client.api_keys.get(created.data.hash)
    assert key.usage_weekly == 4
    assert key.limit_remaining == 6
    modelgates_server.clock.advance(3600)  # Monday 00:00
    key = await async_modelgates_client.api_keys.get(created.data.hash)
    assert key.usage_weekly == 0
    assert key.limit_remaining == 10


async def test_authentication_error(modelgates_server: LocalServer) -> None:
    """An unknown key raises AuthenticationError with no trace of the key."""
    bad = "sk-mg-v1-" + "0" * 64
    async with AsyncModelGates(api_key=bad, base_url=modelgates_server.base_url) as mg:
        with pytest.raises(AuthenticationError) as info:
            await mg.api_keys.list()
    assert info.value.status == 401
    assert bad not in str(info.value)
    assert bad not in repr(info.value)


async def test_not_found_error(async_modelgates_client: AsyncModelGates) -> None:
    """An unknown hash raises NotFoundError on get, update and delete."""
    with pytest.raises(NotFoundError):
        await async_modelgates_client.api_keys.get("0" * 64)
    with pytest.raises(NotFoundError):
        await async_modelgates_client.api_keys.update("0" * 64, name="x")
    with pytest.raises(NotFoundError):
        await async_modelgates_client.api_keys.delete("0" * 64)


async def test_bad_request_error_from_the_server(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A server 400 raises BadRequestError with the server's message."""
    modelgates_server.inject_fault("/keys", method="POST", status=400)
    with pytest.raises(BadRequestError) as info:
        await async_modelgates_client.api_keys.create("x")
    assert info.value.status == 400


async def test_invalid_arguments_never_reach_the_server(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """Arguments the server would refuse raise InvalidRequestError before sending."""
    with pytest.raises(InvalidRequestError):
        await async_modelgates_client.api_keys.create("   ")
    with pytest.raises(InvalidRequestError):
        await async_modelgates_client.api_keys.create("k", limit=-1)
    assert modelgates_server.state.store.count() == 0


async def test_rate_limit_error_after_retries(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """429s beyond the retry budget raise RateLimitError with retry_after from the header."""
    modelgates_server.inject_fault("/keys", status=429, headers={"Retry-After": "0"}, times=10)
    with pytest.raises(RateLimitError) as info:
        await async_modelgates_client.api_keys.list()
    assert info.value.retry_after == 0


async def test_transient_errors_are_retried(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """Two 503s then success: the GET succeeds thanks to retries."""
    modelgates_server.inject_fault("/keys", status=503, times=2)
    assert await async_modelgates_client.api_keys.list() == []
    assert not modelgates_server.state.faults.pending()


async def test_internal_server_error(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """Persistent 500s raise InternalServerError; an HTML 502 too."""
    modelgates_server.inject_fault("/key", status=500, times=10)
    with pytest.raises(InternalServerError):
        await async_modelgates_client.api_keys.get_current_key_metadata(retries=NO_RETRIES)
    modelgates_server.state.faults.clear()
    modelgates_server.inject_fault("/key", status=502, body="<html>proxy</html>",
                                   headers={"Content-Type": "text/html"})  # fmt: skip
    with pytest.raises(InternalServerError) as info:
        await async_modelgates_client.api_keys.get_current_key_metadata(retries=NO_RETRIES)
    assert info.value.status == 502


async def test_dropped_connection_is_an_api_connection_error(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A server that hangs up raises APIConnectionError."""
    modelgates_server.inject_fault("/keys/*", drop=True, times=10)
    with pytest.raises(APIConnectionError):
        await async_modelgates_client.api_keys.get("0" * 64, retries=NO_RETRIES)


async def test_slow_answer_is_an_api_timeout_error(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A response slower than the timeout raises APITimeoutError (also a TimeoutError)."""
    modelgates_server.inject_fault("/key", delay=0.05)
    with pytest.raises(APITimeoutError) as info:
        await async_modelgates_client.api_keys.get_current_key_metadata(
            timeout=0.01, retries=NO_RETRIES
        )
    assert isinstance(info.value, TimeoutError)


async def test_a_malformed_success_is_a_response_validation_error(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A 200 whose body breaks the spec raises APIResponseValidationError."""
    modelgates_server.inject_fault("/keys/*", status=200, body={"data": {"hash": 1}})
    with pytest.raises(APIResponseValidationError):
        await async_modelgates_client.api_keys.get("0" * 64)


def test_sync_client_round_trip(modelgates_client: ModelGates) -> None:
    """The sync facade does the same round trip."""
    created = modelgates_client.api_keys.create("sync")
    assert modelgates_client.api_keys.get(created.data.hash).name == "sync"
    assert [k.hash for k in modelgates_client.api_keys.list()] == [created.data.hash]
    assert modelgates_client.api_keys.delete(created.data.hash) is True
    assert modelgates_client.api_keys.get_current_key_metadata().is_management_key is True

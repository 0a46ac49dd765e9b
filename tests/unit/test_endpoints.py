"""Each endpoint sends the right request and parses the right record."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from aioresponses import aioresponses

from modelgates_async import (
    NOT_GIVEN,
    APIKey,
    AsyncModelGates,
    CreatedKey,
    CurrentKey,
    LimitReset,
)
from modelgates_async.models import FreeModelDailyRequests
from tests.helpers import (
    API_KEY,
    BASE,
    HASH,
    SECRET,
    current_key_record,
    key_record,
    sent,
    sent_json,
)


async def test_list_sends_get_keys_with_no_query_by_default(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """list() with defaults is GET /keys with no query, and parses every record."""
    mock.get(f"{BASE}/keys", payload={"data": [key_record(), key_record(hash="b" * 64)]})
    keys = await client.api_keys.list()
    assert [k.hash for k in keys] == [HASH, "b" * 64]
    assert all(isinstance(k, APIKey) for k in keys)
    (call,) = sent(mock, "GET", f"{BASE}/keys")
    assert call.kwargs["data"] is None


async def test_list_sends_offset_include_disabled_and_workspace(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """list(offset, include_disabled, workspace_id) puts all three in the query."""
    url = f"{BASE}/keys?offset=100&include_disabled=true&workspace_id=ws%201"
    mock.get(url, payload={"data": []})
    assert await client.api_keys.list(offset=100, include_disabled=True, workspace_id="ws 1") == []
    assert len(sent(mock, "GET", url)) == 1


async def test_iter_walks_pages_by_offset_until_a_short_page(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """iter() asks for offset 0, 75, 150 … (pages overlap by 25) and stops after a page
    shorter than 100, yielding each key once."""
    keys = [key_record(hash=f"{i:064x}") for i in range(200)]
    mock.get(f"{BASE}/keys?include_disabled=true", payload={"data": keys[:100]})
    mock.get(f"{BASE}/keys?offset=75&include_disabled=true", payload={"data": keys[75:175]})
    mock.get(f"{BASE}/keys?offset=150&include_disabled=true", payload={"data": keys[150:]})
    hashes = [k.hash async for k in client.api_keys.iter(include_disabled=True)]
    assert hashes == [f"{i:064x}" for i in range(200)]
    assert len(mock.requests) == 3


async def test_iter_is_lazy(client: AsyncModelGates, mock: aioresponses) -> None:
    """iter() fetches the next page only when the caller gets that far."""
    mock.get(f"{BASE}/keys", payload={"data": [key_record(hash=f"{i:064x}") for i in range(100)]})
    iterator = client.api_keys.iter()
    first = await iterator.__anext__()
    assert first.hash == f"{0:064x}"
    assert len(mock.requests) == 1
    await iterator.aclose()


async def test_iter_skips_a_key_repeated_across_a_page_boundary(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """A key created mid-iteration shifts pages; the keys seen on the previous page are
    dropped from the next one."""
    first = [key_record(hash=f"{i:064x}") for i in range(100)]
    shifted = [key_record(hash=f"{i:064x}") for i in range(74, 120)]
    mock.get(f"{BASE}/keys", payload={"data": first})
    mock.get(f"{BASE}/keys?offset=75", payload={"data": shifted})
    hashes = [k.hash async for k in client.api_keys.iter()]
    assert hashes == [f"{i:064x}" for i in range(120)]


async def test_create_posts_every_field_and_returns_the_secret(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """create() POSTs /keys with the JSON body and returns CreatedKey(key, data)."""
    mock.post(f"{BASE}/keys", status=201, payload={"data": key_record(), "key": SECRET})
    expires = datetime(2029, 11, 30, 23, 59, 59, tzinfo=timezone.utc)
    created = await client.api_keys.create(
        "Tenant 42",
        limit=50,
        limit_reset=LimitReset.MONTHLY,
        include_byok_in_limit=True,
        expires_at=expires,
        creator_user_id="user_7",
        workspace_id="ws-1",
    )
    assert isinstance(created, CreatedKey)
    assert created.key == SECRET
    assert created.data.hash == HASH
    (call,) = sent(mock, "POST", f"{BASE}/keys")
    assert sent_json(call) == {
        "name": "Tenant 42",
        "limit": 50,
        "limit_reset": "monthly",
        "include_byok_in_limit": True,
        "expires_at": "2029-11-30T23:59:59Z",
        "creator_user_id": "user_7",
        "workspace_id": "ws-1",
    }
    assert call.kwargs["headers"]["Content-Type"] == "application/json"


async def test_create_with_only_a_name_sends_only_the_name(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """Arguments left at NOT_GIVEN are not sent at all."""
    mock.post(f"{BASE}/keys", status=201, payload={"data": key_record(), "key": SECRET})
    await client.api_keys.create("Only name")
    (call,) = sent(mock, "POST", f"{BASE}/keys")
    assert sent_json(call) == {"name": "Only name"}


async def test_create_sends_explicit_none_as_null(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """None for limit, limit_reset, expires_at and creator_user_id is sent as JSON null."""
    mock.post(f"{BASE}/keys", status=201, payload={"data": key_record(), "key": SECRET})
    await client.api_keys.create(
        "n", limit=None, limit_reset=None, expires_at=None, creator_user_id=None
    )
    (call,) = sent(mock, "POST", f"{BASE}/keys")
    assert sent_json(call) == {
        "name": "n",
        "limit": None,
        "limit_reset": None,
        "expires_at": None,
        "creator_user_id": None,
    }


async def test_create_converts_an_aware_non_utc_datetime_to_utc_z(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """An aware datetime in another zone is converted to UTC and sent with 'Z'."""
    mock.post(f"{BASE}/keys", status=201, payload={"data": key_record(), "key": SECRET})
    paris = timezone(timedelta(hours=2))
    await client.api_keys.create("n", expires_at=datetime(2030, 1, 1, 1, 30, tzinfo=paris))
    (call,) = sent(mock, "POST", f"{BASE}/keys")
    assert sent_json(call)["expires_at"] == "2029-12-31T23:30:00Z"


async def test_create_passes_a_utc_string_through(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """An ISO string that is already UTC is sent unchanged."""
    mock.post(f"{BASE}/keys", status=201, payload={"data": key_record(), "key": SECRET})
    await client.api_keys.create("n", expires_at="2029-11-30T23:59:59+00:00")
    (call,) = sent(mock, "POST", f"{BASE}/keys")
    assert sent_json(call)["expires_at"] == "2029-11-30T23:59:59+00:00"


async def test_get_fetches_one_key(client: AsyncModelGates, mock: aioresponses) -> None:
    """get(hash) is GET /keys/{hash} and parses the record."""
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record()})
    key = await client.api_keys.get(HASH)
    assert key.hash == HASH
    assert key.limit == 10.0
    assert key.limit_reset is LimitReset.MONTHLY
    assert key.created_at == datetime(2025, 2, 19, 20, 52, 27, 363244, tzinfo=timezone.utc)
    assert len(sent(mock, "GET", f"{BASE}/keys/{HASH}")) == 1


async def test_update_patches_only_given_fields(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """update() PATCHes /keys/{hash} with only the fields passed."""
    mock.patch(f"{BASE}/keys/{HASH}", payload={"data": key_record(name="New", disabled=True)})
    key = await client.api_keys.update(HASH, name="New", disabled=True)
    assert (key.name, key.disabled) == ("New", True)
    (call,) = sent(mock, "PATCH", f"{BASE}/keys/{HASH}")
    assert sent_json(call) == {"name": "New", "disabled": True}


async def test_update_none_clears_limit_and_reset(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """update(limit=None, limit_reset=None) sends nulls, which clear them."""
    mock.patch(
        f"{BASE}/keys/{HASH}",
        payload={"data": key_record(limit=None, limit_remaining=None, limit_reset=None)},
    )
    key = await client.api_keys.update(
        HASH, limit=None, limit_reset=None, include_byok_in_limit=False, name=NOT_GIVEN
    )
    assert key.limit is None
    assert key.limit_reset is None
    (call,) = sent(mock, "PATCH", f"{BASE}/keys/{HASH}")
    assert sent_json(call) == {"limit": None, "limit_reset": None, "include_byok_in_limit": False}


async def test_delete_returns_true(client: AsyncModelGates, mock: aioresponses) -> None:
    """delete(hash) is DELETE /keys/{hash} and returns True on {"deleted": true}."""
    mock.delete(f"{BASE}/keys/{HASH}", payload={"deleted": True})
    assert await client.api_keys.delete(HASH) is True
    assert len(sent(mock, "DELETE", f"{BASE}/keys/{HASH}")) == 1


async def test_get_current_key_metadata(client: AsyncModelGates, mock: aioresponses) -> None:
    """get_current_key_metadata() is GET /key and parses every CurrentKey field."""
    mock.get(f"{BASE}/key", payload={"data": current_key_record()})
    me = await client.api_keys.get_current_key_metadata()
    assert isinstance(me, CurrentKey)
    assert me.is_management_key is True
    assert me.allowed_data_regions == ("global",)
    assert me.free_model_daily_requests == FreeModelDailyRequests(limit=50, remaining=50, used=0)
    assert me.rate_limit is not None
    assert me.rate_limit.requests == 100


async def test_headers_carry_auth_user_agent_and_attribution(
    waits: list[float], mock: aioresponses
) -> None:
    """Every request sends Bearer auth, our User-Agent and the attribution headers."""
    mock.get(f"{BASE}/key", payload={"data": current_key_record()})
    async with AsyncModelGates(
        API_KEY,
        base_url=BASE,
        http_referer="https://app.example",
        app_title="My App",
        app_categories=["cli-agent", "cloud-agent"],
        default_headers={"X-Extra": "1", "Authorization": "Bearer overridden"},
    ) as mg:
        await mg.api_keys.get_current_key_metadata()
    (call,) = sent(mock, "GET", f"{BASE}/key")
    headers = call.kwargs["headers"]
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["User-Agent"].startswith("modelgates-async/")
    assert headers["HTTP-Referer"] == "https://app.example"
    assert headers["X-ModelGates-Title"] == "My App"
    assert headers["X-ModelGates-Categories"] == "cli-agent,cloud-agent"
    assert headers["X-Extra"] == "1"


async def test_a_body_is_sent_with_one_json_content_type_whatever_the_defaults_say(
    waits: list[float], mock: aioresponses
) -> None:
    """A content-type among default_headers is replaced, in any spelling, not sent twice."""
    mock.patch(f"{BASE}/keys/{HASH}", payload={"data": key_record()})
    async with AsyncModelGates(
        API_KEY, base_url=BASE, default_headers={"content-type": "text/plain", "X-Extra": "1"}
    ) as mg:
        await mg.api_keys.update(HASH, name="n")
    (call,) = sent(mock, "PATCH", f"{BASE}/keys/{HASH}")
    headers = call.kwargs["headers"]
    assert headers.getall("Content-Type") == ["application/json"]
    assert headers["X-Extra"] == "1"


async def test_per_call_timeout_is_passed_to_aiohttp(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """timeout= on a call becomes that request's aiohttp total timeout."""
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record()})
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record()})
    await client.api_keys.get(HASH, timeout=2.5)
    await client.api_keys.get(HASH)
    first, second = sent(mock, "GET", f"{BASE}/keys/{HASH}")
    assert first.kwargs["timeout"] == aiohttp.ClientTimeout(total=2.5)
    assert second.kwargs["timeout"] == aiohttp.ClientTimeout(total=30.0)


@pytest.mark.parametrize("suffix", ["", "/"])
async def test_base_url_trailing_slash_does_not_double(
    waits: list[float], mock: aioresponses, suffix: str
) -> None:
    """A base URL with or without a trailing slash gives the same request URL."""
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record()})
    async with AsyncModelGates(API_KEY, base_url=BASE + suffix) as mg:
        await mg.api_keys.get(HASH)
    assert len(sent(mock, "GET", f"{BASE}/keys/{HASH}")) == 1

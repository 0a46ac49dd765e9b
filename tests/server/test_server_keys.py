"""The keys API of the local server over real sockets: shapes, CRUD, lists, patches."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from modelgates_async.server import DEFAULT_WORKSPACE_ID, AsyncLocalServer

from .helpers import Api

APIKEY_FIELDS = {
    "hash", "name", "label", "disabled", "limit", "limit_remaining", "limit_reset",
    "include_byok_in_limit", "usage", "usage_daily", "usage_weekly", "usage_monthly",
    "byok_usage", "byok_usage_daily", "byok_usage_weekly", "byok_usage_monthly",
    "created_at", "updated_at", "expires_at", "creator_user_id", "workspace_id",
    "external_user", "last_used_at",
}  # fmt: skip
CURRENT_KEY_FIELDS = {
    "label", "limit", "limit_remaining", "limit_reset", "include_byok_in_limit", "usage",
    "usage_daily", "usage_weekly", "usage_monthly", "byok_usage", "byok_usage_daily",
    "byok_usage_weekly", "byok_usage_monthly", "is_free_tier", "is_management_key",
    "is_provisioning_key", "creator_user_id", "organization_id", "workspace_id",
    "allowed_data_regions", "budgets", "effective_budget", "free_model_daily_requests",
    "rate_limit",
}  # fmt: skip
OTHER_WORKSPACE = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"


def parse_time(value: str) -> datetime:
    """Parse a timestamp the server sent; it must be aware UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0)
    return parsed


async def test_create_returns_201_with_the_secret_once_and_a_complete_record(api: Api) -> None:
    """POST /keys answers 201 with {"data": APIKey, "key": secret}; later reads omit the key."""
    status, body, _ = await api.call("POST", "/keys", json={"name": "Tenant 42"})
    assert status == 201
    assert set(body) == {"data", "key"}
    data, secret = body["data"], body["key"]
    assert re.fullmatch(r"sk-mg-v1-[0-9a-f]{64}", secret)
    assert set(data) >= APIKEY_FIELDS
    assert data["hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert data["label"] == f"sk-mg-v1-{secret[9:12]}...{secret[-3:]}"
    assert data["name"] == "Tenant 42"
    assert data["disabled"] is False
    assert data["limit"] is None
    assert data["limit_remaining"] is None
    assert data["limit_reset"] is None
    assert data["include_byok_in_limit"] is False
    assert data["usage"] == 0
    assert data["byok_usage_monthly"] == 0
    assert data["workspace_id"] == DEFAULT_WORKSPACE_ID
    assert data["external_user"] is None
    assert data["last_used_at"] is None
    assert data["expires_at"] is None
    assert data["creator_user_id"] is None
    parse_time(data["created_at"])
    fetched = await api.get(data["hash"])
    assert "key" not in fetched
    assert secret not in str(fetched)
    assert fetched == data


async def test_create_keeps_every_optional_field(api: Api) -> None:
    """Every optional create field (limit … workspace_id) is kept as sent."""
    _, data = await api.create(
        "full",
        limit=12.5,
        limit_reset="weekly",
        include_byok_in_limit=True,
        expires_at="2099-01-02T03:04:05Z",
        creator_user_id="user_1",
        workspace_id=OTHER_WORKSPACE,
    )
    assert data["limit"] == 12.5
    assert data["limit_remaining"] == 12.5
    assert data["limit_reset"] == "weekly"
    assert data["include_byok_in_limit"] is True
    assert parse_time(data["expires_at"]) == datetime(2099, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert data["creator_user_id"] == "user_1"
    assert data["workspace_id"] == OTHER_WORKSPACE


async def test_create_accepts_a_trailing_slash_as_in_the_seed_examples(api: Api) -> None:
    """POST /keys/ (the seeds' Python example) creates a key like POST /keys."""
    status, body, _ = await api.call("POST", "/keys/", json={"name": "slash"})
    assert status == 201
    assert body["data"]["name"] == "slash"


async def test_get_returns_the_record_by_hash(api: Api) -> None:
    """GET /keys/{hash} answers {"data": APIKey} for the key with that hash."""
    _, data = await api.create("one")
    status, body, headers = await api.call("GET", f"/keys/{data['hash']}")
    assert status == 200
    assert body == {"data": data}
    assert headers["Content-Type"].startswith("application/json")


async def test_list_is_most_recent_first_and_pages_by_100(
    api: Api, server: AsyncLocalServer
) -> None:
    """GET /keys pages 100 at a time, newest first, and offset skips."""
    start = datetime(2025, 3, 1, tzinfo=timezone.utc)
    server.clock.set(start)
    hashes = []
    for i in range(150):
        server.clock.set(start + timedelta(seconds=i))
        hashes.append((await api.create(f"k{i}"))[1]["hash"])
    newest_first = hashes[::-1]
    status, page1, _ = await api.call("GET", "/keys")
    assert status == 200
    assert [k["hash"] for k in page1["data"]] == newest_first[:100]
    _, page2, _ = await api.call("GET", "/keys", params={"offset": "100"})
    assert [k["hash"] for k in page2["data"]] == newest_first[100:]
    _, page3, _ = await api.call("GET", "/keys", params={"offset": "150"})
    assert page3 == {"data": []}
    assert all(set(k) >= APIKEY_FIELDS for k in page1["data"])


async def test_list_orders_keys_created_in_the_same_instant_newest_first(
    api: Api, server: AsyncLocalServer
) -> None:
    """Keys with equal created_at list in reverse creation order."""
    server.clock.set(datetime(2025, 3, 1, tzinfo=timezone.utc))
    hashes = [(await api.create(f"k{i}"))[1]["hash"] for i in range(5)]
    _, body, _ = await api.call("GET", "/keys")
    assert [k["hash"] for k in body["data"]] == hashes[::-1]


async def test_list_orders_by_created_at_even_when_the_clock_went_back(
    api: Api, server: AsyncLocalServer
) -> None:
    """A key created at an earlier clock time lists after newer ones."""
    server.clock.set(datetime(2025, 3, 2, tzinfo=timezone.utc))
    newer = (await api.create("newer"))[1]["hash"]
    server.clock.set(datetime(2025, 3, 1, tzinfo=timezone.utc))
    older = (await api.create("older"))[1]["hash"]
    _, body, _ = await api.call("GET", "/keys")
    assert [k["hash"] for k in body["data"]] == [newer, older]


async def test_list_hides_disabled_keys_unless_include_disabled(api: Api) -> None:
    """Disabled keys are left out by default and listed with include_disabled=true."""
    _, on = await api.create("on")
    _, off = await api.create("off")
    await api.call("PATCH", f"/keys/{off['hash']}", json={"disabled": True})
    _, body, _ = await api.call("GET", "/keys")
    assert [k["hash"] for k in body["data"]] == [on["hash"]]
    _, body, _ = await api.call("GET", "/keys", params={"include_disabled": "true"})
    assert [k["hash"] for k in body["data"]] == [off["hash"], on["hash"]]
    _, body, _ = await api.call("GET", "/keys", params={"include_disabled": "false"})
    assert [k["hash"] for k in body["data"]] == [on["hash"]]


async def test_list_shows_the_default_workspace_unless_workspace_id_is_given(api: Api) -> None:
    """Without workspace_id the default workspace lists; with it, only that workspace."""
    _, default = await api.create("default")
    _, other = await api.create("other", workspace_id=OTHER_WORKSPACE)
    _, body, _ = await api.call("GET", "/keys")
    assert [k["hash"] for k in body["data"]] == [default["hash"]]
    _, body, _ = await api.call("GET", "/keys", params={"workspace_id": OTHER_WORKSPACE})
    assert [k["hash"] for k in body["data"]] == [other["hash"]]
    _, body, _ = await api.call("GET", "/keys", params={"workspace_id": DEFAULT_WORKSPACE_ID})
    assert [k["hash"] for k in body["data"]] == [default["hash"]]


async def test_patch_changes_only_the_fields_present(api: Api, server: AsyncLocalServer) -> None:
    """PATCH with one field leaves every other field as it was and sets updated_at."""
    _, data = await api.create("before", limit=10, limit_reset="daily", include_byok_in_limit=True)
    assert data["updated_at"] is None
    server.clock.set(datetime(2030, 1, 1, tzinfo=timezone.utc))
    status, body, _ = await api.call("PATCH", f"/keys/{data['hash']}", json={"name": "after"})
    assert status == 200
    after = body["data"]
    assert after["name"] == "after"
    assert parse_time(after["updated_at"]) == datetime(2030, 1, 1, tzinfo=timezone.utc)
    unchanged = {k: v for k, v in after.items() if k not in ("name", "updated_at")}
    assert unchanged == {k: v for k, v in data.items() if k not in ("name", "updated_at")}
    assert await api.get(data["hash"]) == after


async def test_patch_sets_every_updatable_field(api: Api) -> None:
    """PATCH sets name, disabled, include_byok_in_limit, limit and limit_reset together."""
    _, data = await api.create("k")
    change = {
        "name": "n2",
        "disabled": True,
        "include_byok_in_limit": True,
        "limit": 75,
        "limit_reset": "monthly",
    }
    _, body, _ = await api.call("PATCH", f"/keys/{data['hash']}", json=change)
    assert {k: body["data"][k] for k in change} == change
    assert body["data"]["limit_remaining"] == 75


async def test_patch_null_clears_limit_and_limit_reset(api: Api) -> None:
    """limit: null and limit_reset: null clear them; limit_remaining becomes null."""
    _, data = await api.create("k", limit=5, limit_reset="daily")
    _, body, _ = await api.call(
        "PATCH", f"/keys/{data['hash']}", json={"limit": None, "limit_reset": None}
    )
    assert body["data"]["limit"] is None
    assert body["data"]["limit_reset"] is None
    assert body["data"]["limit_remaining"] is None


@pytest.mark.parametrize("body", [{}, {"colour": "blue"}, {"hash": "x", "label": "y"}])
async def test_patch_without_an_accepted_field_is_400(api: Api, body: dict[str, Any]) -> None:
    """PATCH with none of the accepted fields answers 400 "No update fields provided"."""
    _, data = await api.create("k", limit=3)
    status, answer, _ = await api.call("PATCH", f"/keys/{data['hash']}", json=body)
    assert status == 400
    assert answer["error"]["message"] == "No update fields provided"
    assert await api.get(data["hash"]) == data


async def test_delete_answers_deleted_true_and_the_key_is_gone(api: Api) -> None:
    """DELETE /keys/{hash} answers {"deleted": true}; the key then 404s and cannot log in."""
    secret, data = await api.create("k")
    status, body, _ = await api.call("DELETE", f"/keys/{data['hash']}")
    assert (status, body) == (200, {"deleted": True})
    status, _, _ = await api.call("GET", f"/keys/{data['hash']}")
    assert status == 404
    status, _, _ = await api.call("GET", "/key", key=secret)
    assert status == 401


async def test_current_key_of_the_management_key(api: Api) -> None:
    """GET /key with the management key: every CurrentKey field, is_management_key true."""
    status, body, _ = await api.call("GET", "/key")
    assert status == 200
    data = body["data"]
    assert set(data) >= CURRENT_KEY_FIELDS
    assert data["is_management_key"] is True
    assert data["is_provisioning_key"] is True
    assert data["limit"] is None
    assert data["limit_remaining"] is None
    assert api.management_key not in str(body)
    assert set(data["free_model_daily_requests"]) == {"limit", "remaining", "used"}
    assert set(data["rate_limit"]) == {"interval", "note", "requests"}


async def test_current_key_of_a_regular_key_is_its_own_record(
    api: Api, server: AsyncLocalServer
) -> None:
    """A created key sees its own label, limit and budget on GET /key, not management."""
    secret, data = await api.create("mine", limit=20, limit_reset="monthly")
    status, body, _ = await api.call("GET", "/key", key=secret)
    assert status == 200
    me = body["data"]
    assert set(me) >= CURRENT_KEY_FIELDS
    assert me["is_management_key"] is False
    assert me["is_provisioning_key"] is False
    assert me["label"] == data["label"]
    assert me["limit"] == 20
    assert me["limit_remaining"] == 20
    assert me["limit_reset"] == "monthly"
    assert me["workspace_id"] == DEFAULT_WORKSPACE_ID
    assert me["effective_budget"]["limit_usd"] == 20
    assert me["budgets"] == [me["effective_budget"]]
    assert secret not in str(body)


async def test_current_key_call_records_last_used_at(api: Api, server: AsyncLocalServer) -> None:
    """A key's GET /key sets its last_used_at to the emulator's now."""
    secret, data = await api.create("k")
    when = datetime(2031, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    server.clock.set(when)
    await api.call("GET", "/key", key=secret)
    assert parse_time((await api.get(data["hash"]))["last_used_at"]) == when


async def test_head_of_a_get_route_answers_without_a_body(api: Api) -> None:
    """HEAD /keys is answered like GET, without a body (aiohttp's allow_head)."""
    async with api.session.head(
        api.server.base_url + "/keys",
        headers={"Authorization": f"Bearer {api.management_key}"},
    ) as response:
        assert response.status == 200


@pytest.mark.parametrize("offset", ["783372814700227007091940308025344", "9" * 5000])
async def test_a_huge_offset_lists_nothing(api: Api, offset: str) -> None:
    """An offset past any store (even beyond int64 or Python's digit limit) answers []."""
    await api.create("k")
    status, body, _ = await api.call("GET", "/keys", params={"offset": offset})
    assert (status, body) == (200, {"data": []})

"""Spec 1.1 on the local server: include_expired, external on create, moving keys, 409."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from modelgates_async.server import DEFAULT_WORKSPACE_ID, AsyncLocalServer

from .helpers import Api

OTHER_WORKSPACE = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
EXTERNAL_KEY = "partner-secret-" + "z" * 32
T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(params=["memory", "sqlite"])
def state_options(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Every test here runs against both stores."""
    return {} if request.param == "memory" else {"db": tmp_path / "keys.db"}


async def listed(api: Api, **params: str) -> list[str]:
    """The hashes GET /keys answers with these query parameters."""
    status, body, _ = await api.call("GET", "/keys", params=params)
    assert status == 200, body
    return [k["hash"] for k in body["data"]]


async def test_expired_keys_are_listed_only_with_include_expired(
    api: Api, server: AsyncLocalServer
) -> None:
    """A key whose expires_at has passed by the server's clock leaves the list unless
    include_expired=true; a key expiring later stays."""
    server.clock.set(T0)
    _, soon = await api.create("soon", expires_at="2030-01-01T00:00:10Z")
    _, later = await api.create("later", expires_at="2030-01-02T00:00:00Z")
    _, never = await api.create("never")
    everyone = [never["hash"], later["hash"], soon["hash"]]
    assert await listed(api) == everyone
    server.clock.set(datetime(2030, 1, 1, 0, 0, 10, tzinfo=timezone.utc))
    assert await listed(api) == [never["hash"], later["hash"]]
    assert await listed(api, include_expired="false") == [never["hash"], later["hash"]]
    assert await listed(api, include_expired="true") == everyone


async def test_include_expired_and_include_disabled_combine(
    api: Api, server: AsyncLocalServer
) -> None:
    """An expired, disabled key is listed only when both flags are true."""
    server.clock.set(T0)
    _, data = await api.create("k", expires_at="2030-01-01T00:00:01Z")
    await api.call("PATCH", f"/keys/{data['hash']}", json={"disabled": True})
    server.clock.advance(5)
    assert await listed(api, include_expired="true") == []
    assert await listed(api, include_disabled="true") == []
    both = await listed(api, include_expired="true", include_disabled="true")
    assert both == [data["hash"]]


async def test_include_expired_must_be_a_boolean(api: Api) -> None:
    """include_expired=maybe answers 400 naming the parameter."""
    status, body, _ = await api.call("GET", "/keys", params={"include_expired": "maybe"})
    assert status == 400
    assert body["error"]["metadata"] == {"field": "include_expired"}


async def test_external_user_is_returned_and_the_api_key_only_hashed(
    api: Api, server: AsyncLocalServer
) -> None:
    """external.user comes back as external_user everywhere; external.api_key is kept as
    a SHA-256 only and appears in no answer."""
    secret, data = await api.create("ext", external={"user": "tenant-7", "api_key": EXTERNAL_KEY})
    assert data["external_user"] == "tenant-7"
    record = server.state.store.get(data["hash"])
    assert record is not None
    assert record.external_api_key_sha256 == hashlib.sha256(EXTERNAL_KEY.encode()).hexdigest()
    assert EXTERNAL_KEY not in repr(record)
    answers = [
        await api.get(data["hash"]),
        (await api.call("GET", "/keys"))[1],
        (await api.call("GET", "/key", key=secret))[1],
        (await api.call("PATCH", f"/keys/{data['hash']}", json={"name": "n"}))[1],
    ]
    for answer in answers:
        assert EXTERNAL_KEY not in str(answer)
        assert record.external_api_key_sha256 not in str(answer)
    assert answers[0]["external_user"] == "tenant-7"


async def test_external_without_an_api_key_is_accepted(api: Api) -> None:
    """external needs only a user."""
    _, data = await api.create("ext", external={"user": "u"})
    assert data["external_user"] == "u"


@pytest.mark.parametrize(
    ("external", "field"),
    [
        (None, "external"),
        ("tenant", "external"),
        ({}, "external.user"),
        ({"user": ""}, "external.user"),
        ({"user": " \t"}, "external.user"),
        ({"user": 7}, "external.user"),
        ({"user": "u", "api_key": "short"}, "external.api_key"),
        ({"user": "u", "api_key": "x" * 31}, "external.api_key"),
        ({"user": "u", "api_key": 12345678901234567890123456789012345}, "external.api_key"),
    ],
)
async def test_a_bad_external_is_400_without_echoing_the_api_key(
    api: Api, external: Any, field: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each external rule answers 400 naming the field; the api_key is in no message or log."""
    caplog.set_level(logging.DEBUG)
    status, body, _ = await api.call("POST", "/keys", json={"name": "k", "external": external})
    assert status == 400, body
    assert body["error"]["metadata"] == {"field": field}
    assert field in body["error"]["message"]
    assert "short" not in body["error"]["message"]
    assert "short" not in caplog.text
    assert api.server.state.store.count() == 0


async def test_patch_moves_a_key_to_another_workspace(api: Api) -> None:
    """workspace_id on PATCH moves the key: it lists in the new workspace, not the old one,
    and the other fields of the body apply too."""
    _, data = await api.create("mover")
    status, body, _ = await api.call(
        "PATCH", f"/keys/{data['hash']}", json={"workspace_id": OTHER_WORKSPACE, "name": "moved"}
    )
    assert status == 200, body
    assert body["data"]["workspace_id"] == OTHER_WORKSPACE
    assert body["data"]["name"] == "moved"
    assert await listed(api) == []
    assert await listed(api, workspace_id=OTHER_WORKSPACE) == [data["hash"]]
    assert (await api.get(data["hash"]))["workspace_id"] == OTHER_WORKSPACE


async def test_moving_a_key_to_its_own_workspace_changes_nothing(
    api: Api, server: AsyncLocalServer
) -> None:
    """workspace_id equal to the current one is a no-op (updated_at stays); with other
    fields, those still apply."""
    server.clock.set(T0)
    _, data = await api.create("k")
    server.clock.advance(60)
    path = f"/keys/{data['hash']}"
    status, body, _ = await api.call("PATCH", path, json={"workspace_id": DEFAULT_WORKSPACE_ID})
    assert status == 200
    assert body["data"] == data
    body = (await api.call("PATCH", path, json={"workspace_id": DEFAULT_WORKSPACE_ID, "limit": 4}))[
        1
    ]
    assert body["data"]["limit"] == 4
    assert body["data"]["updated_at"] is not None


@pytest.mark.parametrize("workspace", ["not-a-uuid", 5, None])
async def test_a_bad_workspace_id_on_patch_is_400(api: Api, workspace: Any) -> None:
    """workspace_id on PATCH must be a UUID string; the key stays where it was."""
    _, data = await api.create("k")
    status, body, _ = await api.call(
        "PATCH", f"/keys/{data['hash']}", json={"workspace_id": workspace}
    )
    assert status == 400
    assert body["error"]["metadata"] == {"field": "workspace_id"}
    assert await api.get(data["hash"]) == data


async def test_an_injected_409_on_patch_is_the_specs_conflict(
    api: Api, server: AsyncLocalServer
) -> None:
    """A 409 fault on PATCH /keys/{hash} answers the Conflict error body and changes nothing;
    the next PATCH goes through."""
    _, data = await api.create("k")
    server.inject_fault("/keys/*", method="PATCH", status=409)
    path = f"/keys/{data['hash']}"
    status, body, _ = await api.call("PATCH", path, json={"disabled": True})
    assert status == 409
    assert body["error"]["code"] == 409
    assert "Conflict" in body["error"]["message"]
    assert await api.get(data["hash"]) == data
    assert (await api.call("PATCH", path, json={"disabled": True}))[0] == 200


async def test_a_409_can_be_injected_over_http(api: Api) -> None:
    """POST /_emulator/faults with status 409 makes the next PATCH answer 409."""
    status, _, _ = await api.call(
        "POST", "", json={"path": "/keys/*", "method": "PATCH", "status": 409},
        base=api.server.url + "/_emulator/faults",
    )  # fmt: skip
    assert status == 201
    status, body, _ = await api.call("PATCH", f"/keys/{'0' * 64}", json={"name": "x"})
    assert (status, body["error"]["code"]) == (409, 409)


SURROGATE_BODIES = [
    b'{"name": "tenant-\\ud800"}',
    b'{"name": "k", "creator_user_id": "\\udfff"}',
    b'{"name": "k", "external": {"user": "\\ud800x"}}',
    b'{"name": "k", "\\ud800": 1}',
]


@pytest.mark.parametrize("raw", SURROGATE_BODIES)
async def test_a_lone_surrogate_on_create_is_400(api: Api, raw: bytes) -> None:
    """A JSON string with a lone surrogate answers 400 saying so, and nothing is stored."""
    status, body, _ = await api.call("POST", "/keys", data=raw)
    assert status == 400, body
    assert "surrogate" in body["error"]["message"]
    assert api.server.state.store.count() == 0


async def test_a_lone_surrogate_on_patch_is_400_and_in_the_path_404(api: Api) -> None:
    """PATCH bodies are checked the same way; surrogate bytes in the path find no key."""
    _, data = await api.create("k")
    status, body, _ = await api.call("PATCH", f"/keys/{data['hash']}", data=b'{"name": "a\\udc80"}')
    assert status == 400
    assert body["error"]["metadata"] == {"field": "name"}
    # Percent-encoded surrogate bytes in the path are not valid UTF-8: no such key, no 500.
    for method in ("GET", "DELETE"):
        status, body, _ = await api.call(method, "/keys/%ED%A0%80")
        assert status == 404, body
    assert await api.get(data["hash"]) == data

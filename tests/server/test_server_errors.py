"""Every error status of the local server, each in the API's error shape."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from typing import Any

import pytest

from modelgates_async.server import AsyncLocalServer

from .helpers import Api

BAD_CREATE_BODIES = [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": 42}, "name"),
    ({"name": None}, "name"),
    ({"name": "k", "limit": -1}, "limit"),
    ({"name": "k", "limit": "10"}, "limit"),
    ({"name": "k", "limit": True}, "limit"),
    ({"name": "k", "limit": 1e400}, "limit"),
    ({"name": "k", "limit_reset": "hourly"}, "limit_reset"),
    ({"name": "k", "limit_reset": 1}, "limit_reset"),
    ({"name": "k", "include_byok_in_limit": "yes"}, "include_byok_in_limit"),
    ({"name": "k", "include_byok_in_limit": None}, "include_byok_in_limit"),
    ({"name": "k", "expires_at": "2030-01-01T00:00:00+02:00"}, "expires_at"),
    ({"name": "k", "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
    ({"name": "k", "expires_at": "2030-01-01"}, "expires_at"),
    ({"name": "k", "expires_at": "2030-02-30T00:00:00Z"}, "expires_at"),
    ({"name": "k", "expires_at": "tomorrow"}, "expires_at"),
    ({"name": "k", "expires_at": 1893456000}, "expires_at"),
    ({"name": "k", "creator_user_id": 7}, "creator_user_id"),
    ({"name": "k", "workspace_id": "not-a-uuid"}, "workspace_id"),
    ({"name": "k", "workspace_id": 5}, "workspace_id"),
]
BAD_PATCH_BODIES = [
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"disabled": "true"}, "disabled"),
    ({"disabled": None}, "disabled"),
    ({"include_byok_in_limit": 0}, "include_byok_in_limit"),
    ({"limit": -0.01}, "limit"),
    ({"limit": "5"}, "limit"),
    ({"limit_reset": "yearly"}, "limit_reset"),
]


def assert_error(status: int, body: Any, expected: int) -> str:
    """Check the error shape and status; return the message."""
    assert status == expected, body
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == expected
    assert isinstance(error["message"], str)
    assert error["message"]
    assert error["metadata"] is None or isinstance(error["metadata"], dict)
    message: str = error["message"]
    return message


@pytest.mark.parametrize(("body", "field"), BAD_CREATE_BODIES)
async def test_create_rejects_a_bad_field_with_400_naming_it(
    api: Api, body: dict[str, Any], field: str
) -> None:
    """Each create field rule answers 400 with the field in the message and metadata."""
    status, answer, _ = await api.call("POST", "/keys", json=body)
    message = assert_error(status, answer, 400)
    assert field in message
    assert answer["error"]["metadata"] == {"field": field}


@pytest.mark.parametrize(("body", "field"), BAD_PATCH_BODIES)
async def test_patch_rejects_a_bad_field_with_400_naming_it(
    api: Api, body: dict[str, Any], field: str
) -> None:
    """Each update field rule answers 400 naming the field, and the key is unchanged."""
    _, data = await api.create("k")
    status, answer, _ = await api.call("PATCH", f"/keys/{data['hash']}", json=body)
    assert field in assert_error(status, answer, 400)
    assert await api.get(data["hash"]) == data


@pytest.mark.parametrize(
    "literal", [b'{"name": "k", "limit": NaN}', b'{"name": "k", "limit": Infinity}']
)
async def test_non_finite_limit_literals_are_rejected(api: Api, literal: bytes) -> None:
    """NaN and Infinity (which Python's json accepts) are not valid limits: 400."""
    status, answer, _ = await api.call(
        "POST", "/keys", data=literal, auth=f"Bearer {api.management_key}"
    )
    assert "limit" in assert_error(status, answer, 400)


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", b'"name"', b"\xff\xfe", b"null"])
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_body_that_is_not_a_json_object_is_400(api: Api, raw: bytes, method: str) -> None:
    """Empty, malformed, non-object or non-UTF-8 bodies answer 400."""
    _, data = await api.create("k")
    path = "/keys" if method == "POST" else f"/keys/{data['hash']}"
    status, answer, _ = await api.call(method, path, data=raw)
    assert_error(status, answer, 400)


async def test_unknown_fields_are_ignored(api: Api) -> None:
    """Fields the spec does not name do not fail a request."""
    status, body, _ = await api.call("POST", "/keys", json={"name": "k", "colour": "blue"})
    assert status == 201
    assert "colour" not in body["data"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": "-1"}, "offset"),
        ({"offset": "ten"}, "offset"),
        ({"offset": "1.5"}, "offset"),
        ({"include_disabled": "maybe"}, "include_disabled"),
        ({"workspace_id": "default"}, "workspace_id"),
    ],
)
async def test_list_rejects_bad_query_parameters(
    api: Api, params: dict[str, str], field: str
) -> None:
    """offset, include_disabled and workspace_id are checked: 400 naming the parameter."""
    status, answer, _ = await api.call("GET", "/keys", params=params)
    assert field in assert_error(status, answer, 400)


@pytest.mark.parametrize(
    "auth", ["", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "sk-mg-v1-abc", "Token x"]
)
@pytest.mark.parametrize(("method", "path"), [("GET", "/keys"), ("GET", "/key")])
async def test_missing_or_malformed_authorization_is_401(
    api: Api, auth: str, method: str, path: str
) -> None:
    """No Authorization header, or one that is not 'Bearer <key>', answers 401."""
    status, answer, _ = await api.call(method, path, auth=auth)
    assert_error(status, answer, 401)


@pytest.mark.parametrize("path", ["/keys", "/key"])
async def test_an_unknown_key_is_401(api: Api, path: str) -> None:
    """A well-formed but unknown key answers 401, without echoing the key."""
    wrong = "sk-mg-v1-" + "f" * 64
    status, answer, _ = await api.call("GET", path, key=wrong)
    assert wrong not in assert_error(status, answer, 401)


async def test_a_disabled_key_is_401(api: Api) -> None:
    """A disabled key cannot call GET /key."""
    secret, data = await api.create("k")
    await api.call("PATCH", f"/keys/{data['hash']}", json={"disabled": True})
    status, answer, _ = await api.call("GET", "/key", key=secret)
    assert_error(status, answer, 401)


async def test_an_expired_key_is_401_once_the_clock_passes_expires_at(
    api: Api, server: AsyncLocalServer
) -> None:
    """A key works until expires_at and answers 401 from then on."""
    server.clock.set(datetime(2030, 1, 1, tzinfo=timezone.utc))
    secret, _ = await api.create("k", expires_at="2030-01-02T00:00:00Z")
    status, _, _ = await api.call("GET", "/key", key=secret)
    assert status == 200
    server.clock.set(datetime(2030, 1, 2, tzinfo=timezone.utc))
    status, answer, _ = await api.call("GET", "/key", key=secret)
    assert_error(status, answer, 401)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/keys", None),
        ("POST", "/keys", {"name": "x"}),
        ("GET", "/keys/{hash}", None),
        ("PATCH", "/keys/{hash}", {"name": "x"}),
        ("DELETE", "/keys/{hash}", None),
    ],
)
async def test_a_regular_key_on_the_keys_endpoints_is_403(
    api: Api, method: str, path: str, body: Any
) -> None:
    """Keys created through the API are not management keys: 403 on every /keys route."""
    secret, data = await api.create("regular")
    status, answer, _ = await api.call(
        method, path.format(hash=data["hash"]), key=secret, json=body
    )
    assert_error(status, answer, 403)
    assert await api.get(data["hash"]) == data


@pytest.mark.parametrize(
    ("method", "body"), [("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)]
)
async def test_an_unknown_hash_is_404(api: Api, method: str, body: Any) -> None:
    """GET, PATCH and DELETE of a hash nobody has answer 404."""
    status, answer, _ = await api.call(method, "/keys/" + "0" * 64, json=body)
    assert_error(status, answer, 404)


@pytest.mark.parametrize(
    "path", ["/", "/api/v1", "/api/v1/keys/a/b", "/api/v2/keys", "/api/v1/credits"]
)
async def test_an_unknown_route_is_404_json(api: Api, path: str) -> None:
    """Routes the API does not have answer 404 in the error shape."""
    status, answer, _ = await api.call("GET", path, base=api.server.url)
    assert_error(status, answer, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/keys"), ("DELETE", "/keys"), ("POST", "/keys/abc"), ("POST", "/key")],
)
async def test_a_wrong_method_is_405_json_with_allow(api: Api, method: str, path: str) -> None:
    """A known route with a method it lacks answers 405 with an Allow header."""
    status, answer, headers = await api.call(method, path)
    assert_error(status, answer, 405)
    assert "Allow" in headers


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_body_over_1_mib_is_413_json(api: Api, method: str) -> None:
    """Request bodies larger than 1 MiB answer 413 in the error shape."""
    _, data = await api.create("k")
    path = "/keys" if method == "POST" else f"/keys/{data['hash']}"
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    status, answer, _ = await api.call(method, path, data=io.BytesIO(big))
    assert_error(status, answer, 413)


async def test_a_body_just_under_1_mib_is_accepted(api: Api) -> None:
    """The 1 MiB limit is on the body size, not lower."""
    body = b'{"name": "k", "pad": "' + b"x" * (1024 * 1024 - 40) + b'"}'
    status, _, _ = await api.call("POST", "/keys", data=io.BytesIO(body))
    assert status == 201


async def test_an_unexpected_exception_is_a_500_in_the_error_shape(
    api: Api, server: AsyncLocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in a handler answers 500 JSON rather than aiohttp's HTML page."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(server.state.store, "list", broken)
    status, answer, _ = await api.call("GET", "/keys")
    assert_error(status, answer, 500)


async def test_no_secret_reaches_the_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    """Neither the management key nor a created secret appears in any log record."""
    caplog.set_level("DEBUG")
    secret, data = await api.create("k")
    await api.call("GET", "/key", key=secret)
    await api.call("GET", "/keys", key=secret)
    await api.call("GET", "/keys", key=secret + "x")
    await api.call("DELETE", f"/keys/{data['hash']}")
    text = caplog.text
    assert api.management_key not in text
    assert secret not in text


async def test_a_malformed_header_with_a_key_is_logged_redacted(
    server: AsyncLocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp logs an unparsable request raw; the key in it is masked in the log."""
    import asyncio

    caplog.set_level("DEBUG")
    secret = "sk-mg-v1-" + "9" * 64
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"GET /api/v1/key HTTP/1.1\r\nHost: x\r\n"
        + f"Authorization: Bearer {secret}\x00\r\n".encode()
        + f"X-Other: {server.management_key}\x01\r\n\r\n".encode()
    )
    await writer.drain()
    assert b"400" in await reader.read()
    writer.close()
    await writer.wait_closed()
    assert caplog.records
    assert secret not in caplog.text
    assert server.management_key not in caplog.text


def test_redact_masks_keys_bearer_tokens_and_authorization_values() -> None:
    """redact() masks sk-mg-v1 keys, bearer tokens and Authorization header values."""
    from modelgates_async.server.redact import redact

    text = redact("a sk-mg-v1-abc123 b Bearer tok3n c Authorization: Basic xyz")
    assert "abc123" not in text
    assert "tok3n" not in text
    assert "xyz" not in text

"""Spec 1.1 on the wire (mocked): include_expired, external user and API key, moving a key,
409 as ConflictError; over_limit's walk, and rotate() keeping a disabled key disabled."""

from __future__ import annotations

import logging

import pytest
from aioresponses import aioresponses

from modelgates_async import (
    APIStatusError,
    AsyncModelGates,
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    KeySpec,
    KeyUpdate,
    RetryConfig,
    RotationError,
)
from tests.helpers import BASE, HASH, SECRET, key_record, sent, sent_json

EXTERNAL_KEY = "ext-" + "9f8e7d6c5b4a" * 4  # 52 characters
NEW_HASH = "a" * 64
NO_RETRY = RetryConfig.disabled()


def created(**overrides: object) -> dict[str, object]:
    return {"data": key_record(hash=NEW_HASH, **overrides), "key": SECRET}


# --- include_expired -----------------------------------------------------------------------


async def test_list_sends_include_expired_only_when_true(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """list() leaves include_expired out by default (the API's default) and sends
    include_expired=true when asked, as it does include_disabled."""
    mock.get(f"{BASE}/keys", payload={"data": []})
    mock.get(f"{BASE}/keys?include_expired=true", payload={"data": [key_record()]})
    assert await client.api_keys.list() == []
    assert len(await client.api_keys.list(include_expired=True)) == 1
    assert len(sent(mock, "GET", f"{BASE}/keys?include_expired=true")) == 1


async def test_a_non_bool_include_expired_is_refused_before_sending(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """include_expired=1 or "yes" raises InvalidRequestError; iter() refuses it at once."""
    with pytest.raises(InvalidRequestError, match="include_expired"):
        await client.api_keys.list(include_expired=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="include_expired"):
        client.api_keys.iter(include_expired="yes")  # type: ignore[arg-type]
    assert not mock.requests


# --- external ------------------------------------------------------------------------------


async def test_create_sends_external_user_and_api_key(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """external_user / external_api_key go out as "external": {"user", "api_key"}."""
    mock.post(f"{BASE}/keys", status=201, payload=created(external_user="tenant-42"))
    mock.post(f"{BASE}/keys", status=201, payload=created(external_user="tenant-43"))
    mock.post(f"{BASE}/keys", status=201, payload=created())
    key = await client.api_keys.create(
        "T", external_user="tenant-42", external_api_key=EXTERNAL_KEY
    )
    assert key.data.external_user == "tenant-42"
    await client.api_keys.create("T", external_user="tenant-43")
    await client.api_keys.create("T", external_user=None, external_api_key=None)
    bodies = [sent_json(call) for call in sent(mock, "POST", f"{BASE}/keys")]
    assert bodies[0]["external"] == {"user": "tenant-42", "api_key": EXTERNAL_KEY}
    assert bodies[1]["external"] == {"user": "tenant-43"}
    assert "external" not in bodies[2]


@pytest.mark.parametrize(
    ("arguments", "argument", "words"),
    [
        ({"external_api_key": "s" * 31, "external_user": "u"}, "external_api_key", "32"),
        ({"external_api_key": EXTERNAL_KEY}, "external_user", "needs external_user"),
        ({"external_api_key": 12345678, "external_user": "u"}, "external_api_key", "string"),
        ({"external_user": "   "}, "external_user", "blank"),
        ({"external_user": 7}, "external_user", "string"),
    ],
)
async def test_bad_external_arguments_are_refused_without_echoing_the_key(
    client: AsyncModelGates,
    mock: aioresponses,
    arguments: dict[str, object],
    argument: str,
    words: str,
) -> None:
    """A short or non-string external key, a key without its user, or a blank user raise
    InvalidRequestError naming the argument, before sending and without the key's value."""
    with pytest.raises(InvalidRequestError) as info:
        await client.api_keys.create("T", **arguments)  # type: ignore[arg-type]
    error = info.value
    assert error.argument == argument
    assert words in str(error)
    secret = str(arguments.get("external_api_key", "unused-value"))
    for text in (str(error), repr(error), repr(error.args)):
        assert secret not in text
    assert not mock.requests


async def test_an_echoed_external_key_is_masked_in_the_error(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """A server repeating the external API key in its error body: the key is masked in the
    message, str, repr and the body attribute of the exception."""
    echo = f"external.api_key {EXTERNAL_KEY} is already used"
    body = {"error": {"code": 400, "message": echo, "metadata": {"api_key": EXTERNAL_KEY}}}
    mock.post(f"{BASE}/keys", status=400, payload=body)
    with pytest.raises(BadRequestError) as info:
        await client.api_keys.create("T", external_user="u", external_api_key=EXTERNAL_KEY)
    error = info.value
    for text in (str(error), repr(error), error.message, repr(error.args), repr(error.body)):
        assert EXTERNAL_KEY not in text
    assert "***" in error.message
    assert EXTERNAL_KEY not in repr(error.metadata)


async def test_debug_logs_of_a_retried_create_hold_no_external_key(
    client: AsyncModelGates, mock: aioresponses, caplog: pytest.LogCaptureFixture
) -> None:
    """A create with an external key that is retried (429) logs nothing of the key."""
    mock.post(f"{BASE}/keys", status=429, payload={"error": {"message": EXTERNAL_KEY}})
    mock.post(f"{BASE}/keys", status=201, payload=created())
    with caplog.at_level(logging.DEBUG, logger="modelgates_async"):
        await client.api_keys.create("T", external_user="u", external_api_key=EXTERNAL_KEY)
    assert caplog.records
    assert EXTERNAL_KEY not in caplog.text


def test_key_spec_keeps_the_external_key_out_of_its_repr() -> None:
    """KeySpec has both external fields; its repr shows the user, never the key."""
    spec = KeySpec("T", external_user="tenant-1", external_api_key=EXTERNAL_KEY)
    assert "tenant-1" in repr(spec)
    assert EXTERNAL_KEY not in repr(spec)
    assert spec.arguments()["external_api_key"] == EXTERNAL_KEY


async def test_create_many_sends_the_external_fields_and_refuses_a_bad_spec_alone(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """A spec's external fields are sent; a spec with a short external key fails alone,
    before anything is sent, with an error that does not quote it."""
    mock.post(f"{BASE}/keys", status=201, payload=created())
    short = "x" * 20
    result = await client.api_keys.create_many(
        [
            KeySpec("good", external_user="u1", external_api_key=EXTERNAL_KEY),
            {"name": "bad", "external_user": "u2", "external_api_key": short},
        ]
    )
    assert result.succeeded == 1
    (failure,) = result.errors
    assert isinstance(failure.error, InvalidRequestError)
    assert short not in str(failure.error)
    (call,) = sent(mock, "POST", f"{BASE}/keys")
    assert sent_json(call)["external"] == {"user": "u1", "api_key": EXTERNAL_KEY}


# --- moving a key, 409 -----------------------------------------------------------------------


async def test_update_moves_a_key_with_workspace_id(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """update(hash, workspace_id=W) PATCHes {"workspace_id": W}; KeyUpdate carries it too."""
    moved = key_record(workspace_id="11111111-1111-4111-8111-111111111111")
    mock.patch(f"{BASE}/keys/{HASH}", payload={"data": moved}, repeat=True)
    key = await client.api_keys.update(HASH, workspace_id=moved["workspace_id"])
    assert key.workspace_id == moved["workspace_id"]
    result = await client.api_keys.update_many(
        [KeyUpdate(HASH, workspace_id=moved["workspace_id"])]
    )
    assert result.ok
    calls = sent(mock, "PATCH", f"{BASE}/keys/{HASH}")
    assert [sent_json(call) for call in calls] == [{"workspace_id": moved["workspace_id"]}] * 2


async def test_update_refuses_no_change_and_a_null_workspace(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """update(hash) with nothing to change, or workspace_id=None, is refused before sending;
    the message lists workspace_id among the fields."""
    with pytest.raises(InvalidRequestError, match="workspace_id") as info:
        await client.api_keys.update(HASH)
    assert info.value.argument == "update"
    with pytest.raises(InvalidRequestError) as info:
        await client.api_keys.update(HASH, workspace_id=None)  # type: ignore[arg-type]
    assert info.value.argument == "workspace_id"
    with pytest.raises(InvalidRequestError):
        await client.api_keys.update(HASH, workspace_id="  ")
    assert not mock.requests


async def test_a_409_is_a_conflict_error_and_is_not_retried(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """409 on PATCH raises ConflictError (an APIStatusError) with the server's message, after
    one request: a conflict does not go away by sending the same change again."""
    body = {"error": {"code": 409, "message": "Conflict: the key was changed concurrently"}}
    mock.patch(f"{BASE}/keys/{HASH}", status=409, payload=body)
    with pytest.raises(ConflictError) as info:
        await client.api_keys.update(HASH, workspace_id="ws-2")
    assert isinstance(info.value, APIStatusError)
    assert info.value.status == 409
    assert "changed concurrently" in str(info.value)
    assert len(sent(mock, "PATCH", f"{BASE}/keys/{HASH}")) == 1


# --- over_limit ----------------------------------------------------------------------------


async def test_over_limit_walks_disabled_keys_too_and_filters_them_itself(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """over_limit() lists with include_disabled=true (so disabling keys in the loop shifts no
    page) and leaves out the disabled ones unless include_disabled; include_expired is
    passed on."""
    page = [
        key_record(hash="1" * 64, limit=1, usage_monthly=5),
        key_record(hash="2" * 64, limit=1, usage_monthly=5, disabled=True),
        key_record(hash="3" * 64, limit=10, usage_monthly=5),
    ]
    mock.get(f"{BASE}/keys?include_disabled=true", payload={"data": page}, repeat=True)
    mock.get(f"{BASE}/keys?include_disabled=true&include_expired=true", payload={"data": page})
    assert [k.hash async for k in client.api_keys.over_limit()] == ["1" * 64]
    every = client.api_keys.over_limit(include_disabled=True)
    assert [k.hash async for k in every] == ["1" * 64, "2" * 64]
    expired_too = client.api_keys.over_limit(include_expired=True)
    assert [k.hash async for k in expired_too] == ["1" * 64]
    assert len(sent(mock, "GET", f"{BASE}/keys")) == 0


# --- rotate --------------------------------------------------------------------------------


async def test_rotate_keeps_a_disabled_key_disabled_and_its_external_user(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """Rotating a disabled key: the create carries external_user, the replacement is
    disabled at once, then the old key is retired; the result is the disabled record."""
    old = key_record(disabled=True, external_user="tenant-9")
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": old})
    mock.post(f"{BASE}/keys", status=201, payload=created(external_user="tenant-9"))
    disabled = key_record(hash=NEW_HASH, disabled=True, external_user="tenant-9")
    mock.patch(f"{BASE}/keys/{NEW_HASH}", payload={"data": disabled})
    mock.patch(f"{BASE}/keys/{HASH}", payload={"data": old})
    new = await client.api_keys.rotate(HASH)
    assert new.key == SECRET
    assert new.data.disabled
    assert new.data.external_user == "tenant-9"
    (create,) = sent(mock, "POST", f"{BASE}/keys")
    assert sent_json(create)["external"] == {"user": "tenant-9"}
    (disable_new,) = sent(mock, "PATCH", f"{BASE}/keys/{NEW_HASH}")
    assert sent_json(disable_new) == {"disabled": True}
    assert len(sent(mock, "PATCH", f"{BASE}/keys/{HASH}")) == 1


async def test_rotate_of_an_enabled_key_does_not_touch_the_replacement(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """An enabled key's replacement stays as created: no extra PATCH."""
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record()})
    mock.post(f"{BASE}/keys", status=201, payload=created())
    mock.patch(f"{BASE}/keys/{HASH}", payload={"data": key_record(disabled=True)})
    new = await client.api_keys.rotate(HASH)
    assert not new.data.disabled
    assert not sent(mock, "PATCH", f"{BASE}/keys/{NEW_HASH}")


async def test_rotate_undoes_a_replacement_it_cannot_disable(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """If the replacement of a disabled key cannot be disabled, it is deleted again and
    RotationError(stage="create") says so; the old key is not touched."""
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record(disabled=True)})
    mock.post(f"{BASE}/keys", status=201, payload=created())
    mock.patch(f"{BASE}/keys/{NEW_HASH}", status=500, payload={"error": {"message": "down"}})
    mock.delete(f"{BASE}/keys/{NEW_HASH}", payload={"deleted": True})
    with pytest.raises(RotationError) as info:
        await client.api_keys.rotate(HASH, retries=NO_RETRY)
    assert info.value.stage == "create"
    assert info.value.new_key is None
    assert "deleted again" in str(info.value)
    assert len(sent(mock, "DELETE", f"{BASE}/keys/{NEW_HASH}")) == 1
    assert not sent(mock, "PATCH", f"{BASE}/keys/{HASH}")


async def test_rotate_hands_back_a_replacement_it_can_neither_disable_nor_delete(
    client: AsyncModelGates, mock: aioresponses
) -> None:
    """Disabling and deleting the replacement both fail: RotationError(stage="disable")
    carries the new key (its secret is nowhere else) and its text holds no secret."""
    mock.get(f"{BASE}/keys/{HASH}", payload={"data": key_record(disabled=True)})
    mock.post(f"{BASE}/keys", status=201, payload=created())
    mock.patch(f"{BASE}/keys/{NEW_HASH}", status=500, payload={"error": {"message": "down"}})
    mock.delete(f"{BASE}/keys/{NEW_HASH}", status=500, payload={"error": {"message": "down"}})
    with pytest.raises(RotationError) as info:
        await client.api_keys.rotate(HASH, retries=NO_RETRY)
    error = info.value
    assert error.stage == "disable"
    assert error.new_key is not None
    assert error.new_key.key == SECRET
    assert SECRET not in str(error)
    assert SECRET not in repr(error)

"""A 2xx create whose record does not validate never costs the caller the secret."""

from __future__ import annotations

from typing import Any

import pytest

from modelgates_async import (
    APIResponseValidationError,
    AsyncModelGates,
    CreatedKeyValidationError,
    KeySpec,
    ModelGatesError,
    RotationError,
    read_journal,
)
from modelgates_async.server import LocalServer
from tests.helpers import key_record

SECRET = "sk-mg-v1-" + "f" * 40 + "xyz"


def created_body(**changes: Any) -> dict[str, Any]:
    """A 201 body with a key record, changed by ``changes``."""
    data = key_record(hash="ab" * 32, name="grown", label="sk-mg-v1-fff...xyz", **changes)
    return {"key": SECRET, "data": data}


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"limit_reset": "yearly"}, id="unknown-enum"),
        pytest.param({"disabled": None}, id="null"),
        pytest.param({"usage": "lots"}, id="wrong-type"),
    ],
)
async def test_create_keeps_the_secret_on_the_validation_error(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    changes: dict[str, Any],
) -> None:
    """create(): CreatedKeyValidationError (an APIResponseValidationError) with .key;
    neither its str nor its repr shows the secret."""
    modelgates_server.inject_fault("/keys", method="POST", status=201, body=created_body(**changes))
    with pytest.raises(CreatedKeyValidationError) as caught:
        await async_modelgates_client.api_keys.create("grown")
    error = caught.value
    assert error.key == SECRET
    assert error.key_hash == "ab" * 32
    assert error.errors
    assert "WAS created" in str(error)
    for text in (str(error), repr(error), repr(error.args)):
        assert "f" * 20 not in text


async def test_a_missing_data_field_still_gives_the_secret(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A 201 without a required field: the secret is on the error, the hash is not known."""
    body = created_body()
    del body["data"]["hash"]
    modelgates_server.inject_fault("/keys", method="POST", status=201, body=body)
    with pytest.raises(CreatedKeyValidationError) as caught:
        await async_modelgates_client.api_keys.create("grown")
    assert (caught.value.key, caught.value.key_hash) == (SECRET, None)


async def test_rotate_says_the_replacement_exists_and_keeps_its_secret(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """rotate(): the create's record fails → RotationError saying the key was created; the
    secret is on its cause; the old key is not retired."""
    old = await async_modelgates_client.api_keys.create("grown")
    modelgates_server.inject_fault(
        "/keys", method="POST", status=201, body=created_body(limit_reset="yearly")
    )
    with pytest.raises(RotationError) as caught:
        await async_modelgates_client.api_keys.rotate(old.data.hash)
    assert "Created the replacement" in str(caught.value)
    assert isinstance(caught.value.__cause__, CreatedKeyValidationError)
    assert caught.value.__cause__.key == SECRET
    assert SECRET not in str(caught.value)
    assert not (await async_modelgates_client.api_keys.get(old.data.hash)).disabled


async def test_a_journal_records_the_secret_of_a_create_whose_record_failed(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, journal_path: str
) -> None:
    """create_many(journal=): the secret of such a create is in the journal and comes back
    on resume (as the same error, with .key), never created again."""
    modelgates_server.inject_fault(
        "/keys", method="POST", status=201, body=created_body(limit_reset="yearly")
    )
    first = await async_modelgates_client.api_keys.create_many(
        [KeySpec("grown")], journal=journal_path
    )
    assert isinstance(first[0].error, CreatedKeyValidationError)
    [entry] = read_journal(journal_path)
    assert (entry.state, entry.key, entry.key_hash) == ("done", SECRET, "ab" * 32)
    modelgates_server.inject_fault("*", status=500, times=100)
    again = await async_modelgates_client.api_keys.create_many(
        [KeySpec("grown")], journal=journal_path
    )
    error = again[0].error
    assert isinstance(error, CreatedKeyValidationError)
    assert error.key == SECRET
    assert isinstance(error, ModelGatesError)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"<html>created: {SECRET}</html>", id="not-json"),
        pytest.param(f"<p>{SECRET}</p><p>again {SECRET}</p>", id="not-json-repeated"),
        pytest.param([SECRET], id="json-list"),
    ],
)
async def test_a_201_that_is_no_record_keeps_its_one_secret(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, body: Any
) -> None:
    """A 201 whose body is not JSON (or not an object) holding one sk- value: that secret is
    on CreatedKeyValidationError.key, never in its str or repr."""
    modelgates_server.inject_fault("/keys", method="POST", status=201, body=body)
    with pytest.raises(CreatedKeyValidationError) as caught:
        await async_modelgates_client.api_keys.create("grown")
    error = caught.value
    assert (error.key, error.key_hash, error.status) == (SECRET, None, 201)
    assert "WAS created" in str(error)
    for text in (str(error), repr(error), repr(error.args)):
        assert "f" * 20 not in text


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"created: {SECRET} or {SECRET[:-3]}abc?", id="two-secrets"),
        pytest.param("created, but no secret here", id="no-secret"),
        pytest.param("own key: {own}", id="only-the-clients-own-key"),
    ],
)
async def test_a_201_that_is_no_record_without_one_new_secret_is_a_plain_validation_error(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer, body: str
) -> None:
    """No guess: two sk- values, none, or only the client's own key give the usual
    APIResponseValidationError, its body masked."""
    own = modelgates_server.management_key
    modelgates_server.inject_fault(
        "/keys", method="POST", status=201, body=body.replace("{own}", own)
    )
    with pytest.raises(APIResponseValidationError) as caught:
        await async_modelgates_client.api_keys.create("grown")
    assert not isinstance(caught.value, CreatedKeyValidationError)
    assert SECRET not in str(caught.value.body)
    assert own not in str(caught.value.body)

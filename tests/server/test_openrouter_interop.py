"""The official OpenRouter Python client, pointed at the local server, works end to end."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from modelgates_async.server import DEFAULT_WORKSPACE_ID, LocalServer

openrouter = pytest.importorskip("openrouter")
from openrouter import errors  # noqa: E402
from openrouter.utils import BackoffStrategy, RetryConfig  # noqa: E402

# Strategy "none": the backoff is never used, but the client's types ask for one.
NO_RETRIES = RetryConfig("none", BackoffStrategy(0, 0, 1.0, 0), False)
# The client's own models mark rate_limit / is_provisioning_key deprecated and warn on parse.
pytestmark = pytest.mark.filterwarnings("ignore:.*DEPRECATED.*:DeprecationWarning")


OTHER_WORKSPACE = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
EXTERNAL_KEY = "partner-" + "q" * 40


def client(server: Any, key: str | None = None) -> Any:
    """An OpenRouter client for the server, with the management key unless told."""
    return openrouter.OpenRouter(
        api_key=key or server.management_key,
        server_url=server.base_url,
        retry_config=NO_RETRIES,
    )


def test_every_api_keys_operation_sync(modelgates_server: LocalServer) -> None:
    """create, get, list, update, get_current_key_metadata and delete, synchronously."""
    expires = datetime.now(timezone.utc) + timedelta(days=30)
    with client(modelgates_server) as orc:
        created = orc.api_keys.create(
            name="interop",
            limit=25.0,
            limit_reset="monthly",
            include_byok_in_limit=True,
            expires_at=expires,
            external={"user": "tenant-7"},
        )
        key_hash = created.data.hash
        assert created.key.startswith("sk-mg-v1-")
        assert created.data.limit == 25.0
        assert created.data.external_user == "tenant-7"
        assert created.data.expires_at is not None
        assert abs(created.data.expires_at - expires) < timedelta(seconds=1)

        fetched = orc.api_keys.get(hash=key_hash)
        assert fetched.data.name == "interop"

        listed = orc.api_keys.list(include_disabled=True, offset=0)
        assert [k.hash for k in listed.data] == [key_hash]

        updated = orc.api_keys.update(hash=key_hash, name="renamed", disabled=True, limit=None)
        assert updated.data.name == "renamed"
        assert updated.data.disabled is True
        assert updated.data.limit is None
        assert orc.api_keys.list().data == []

        me = orc.api_keys.get_current_key_metadata()
        assert me.data.is_management_key is True

        deleted = orc.api_keys.delete(hash=key_hash)
        assert deleted.DELETED is True


def test_a_regular_key_reads_its_own_metadata_sync(modelgates_server: LocalServer) -> None:
    """A key created through the client sees its own record on /key."""
    with client(modelgates_server) as orc:
        created = orc.api_keys.create(name="regular", limit=3.0, limit_reset="daily")
    with client(modelgates_server, created.key) as mine:
        me = mine.api_keys.get_current_key_metadata()
    assert me.data.is_management_key is False
    assert me.data.limit == 3.0
    assert me.data.label == created.data.label


def test_typed_errors_sync(modelgates_server: LocalServer) -> None:
    """An unknown hash gives NotFoundResponseError; a bad key UnauthorizedResponseError."""
    with client(modelgates_server) as orc, pytest.raises(errors.NotFoundResponseError) as nf:
        orc.api_keys.get(hash="0" * 64)
    assert nf.value.status_code == 404
    with client(modelgates_server, "sk-mg-v1-" + "0" * 64) as bad:
        with pytest.raises(errors.UnauthorizedResponseError):
            bad.api_keys.list()
        with pytest.raises(errors.UnauthorizedResponseError):
            bad.api_keys.get_current_key_metadata()


async def test_every_api_keys_operation_async(modelgates_server: LocalServer) -> None:
    """The *_async twins of every api_keys operation work too."""
    async with client(modelgates_server) as orc:
        created = await orc.api_keys.create_async(name="async interop", limit=5.0)
        key_hash = created.data.hash
        assert (await orc.api_keys.get_async(hash=key_hash)).data.limit == 5.0
        listed = await orc.api_keys.list_async()
        assert [k.hash for k in listed.data] == [key_hash]
        updated = await orc.api_keys.update_async(hash=key_hash, limit_reset="weekly")
        assert updated.data.limit_reset == "weekly"
        me = await orc.api_keys.get_current_key_metadata_async()
        assert me.data.is_management_key is True
        assert (await orc.api_keys.delete_async(hash=key_hash)).DELETED is True
        with pytest.raises(errors.NotFoundResponseError):
            await orc.api_keys.delete_async(hash=key_hash)
    async with client(modelgates_server, created.key) as gone:
        with pytest.raises(errors.UnauthorizedResponseError):
            await gone.api_keys.get_current_key_metadata_async()


async def test_a_regular_key_is_forbidden_on_keys_async(modelgates_server: LocalServer) -> None:
    """A regular key creating keys gets the client's ForbiddenResponseError (403)."""
    async with client(modelgates_server) as orc:
        created = await orc.api_keys.create_async(name="regular")
    async with client(modelgates_server, created.key) as mine:
        with pytest.raises(errors.ForbiddenResponseError):
            await mine.api_keys.create_async(name="nope")


def test_include_expired_lists_expired_keys_sync(modelgates_server: LocalServer) -> None:
    """list(include_expired=True) shows a key past its expires_at; list() leaves it out."""
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    modelgates_server.clock.set(now)
    with client(modelgates_server) as orc:
        expiring = orc.api_keys.create(name="expiring", expires_at=now + timedelta(minutes=1))
        lasting = orc.api_keys.create(name="lasting")
        modelgates_server.clock.advance(120)
        assert [k.hash for k in orc.api_keys.list().data] == [lasting.data.hash]
        listed = orc.api_keys.list(include_expired=True).data
        assert [k.hash for k in listed] == [lasting.data.hash, expiring.data.hash]
        assert orc.api_keys.list(include_expired=False).data[0].hash == lasting.data.hash


def test_external_user_and_api_key_on_create_sync(modelgates_server: LocalServer) -> None:
    """external={"user", "api_key"} comes back as external_user; the API key is stored as
    a SHA-256 only and returned nowhere."""
    with client(modelgates_server) as orc:
        created = orc.api_keys.create(
            name="partner", external={"user": "tenant-9", "api_key": EXTERNAL_KEY}
        )
        fetched = orc.api_keys.get(hash=created.data.hash)
    assert created.data.external_user == "tenant-9"
    assert fetched.data.external_user == "tenant-9"
    assert EXTERNAL_KEY not in repr(created) + repr(fetched)
    record = modelgates_server.state.store.get(created.data.hash)
    assert record is not None
    assert record.external_api_key_sha256 == hashlib.sha256(EXTERNAL_KEY.encode()).hexdigest()


def test_a_short_external_api_key_is_a_bad_request_sync(modelgates_server: LocalServer) -> None:
    """An external api_key under 32 characters is the client's BadRequestResponseError."""
    with client(modelgates_server) as orc, pytest.raises(errors.BadRequestResponseError) as bad:
        orc.api_keys.create(name="partner", external={"user": "u", "api_key": "too-short"})
    assert "too-short" not in str(bad.value)


async def test_update_moves_a_key_to_another_workspace_async(
    modelgates_server: LocalServer,
) -> None:
    """update_async(workspace_id=...) moves the key; its list follows it."""
    async with client(modelgates_server) as orc:
        created = await orc.api_keys.create_async(name="mover")
        moved = await orc.api_keys.update_async(
            hash=created.data.hash, workspace_id=OTHER_WORKSPACE
        )
        assert moved.data.workspace_id == OTHER_WORKSPACE
        assert (await orc.api_keys.list_async()).data == []
        there = await orc.api_keys.list_async(workspace_id=OTHER_WORKSPACE)
        assert [k.hash for k in there.data] == [created.data.hash]
        back = await orc.api_keys.update_async(
            hash=created.data.hash, workspace_id=DEFAULT_WORKSPACE_ID, name="home"
        )
        assert (back.data.workspace_id, back.data.name) == (DEFAULT_WORKSPACE_ID, "home")


def test_a_409_on_update_is_the_clients_conflict_error_sync(
    modelgates_server: LocalServer,
) -> None:
    """A 409 injected on PATCH /keys/{hash} parses as the client's ConflictResponseError."""
    with client(modelgates_server) as orc:
        created = orc.api_keys.create(name="contended")
        modelgates_server.inject_fault("/keys/*", method="PATCH", status=409)
        with pytest.raises(errors.ConflictResponseError) as conflict:
            orc.api_keys.update(hash=created.data.hash, workspace_id=OTHER_WORKSPACE)
        assert conflict.value.status_code == 409
        assert orc.api_keys.get(hash=created.data.hash).data.workspace_id == DEFAULT_WORKSPACE_ID

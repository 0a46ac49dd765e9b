"""Key rotation and usage monitoring end to end, against the local server."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from modelgates_async import (
    APIKey,
    AsyncModelGates,
    InvalidRequestError,
    KeySpec,
    LimitReset,
    NotFoundError,
    RotationError,
    usage_in_limit_window,
)
from modelgates_async.server import LocalServer

WORKSPACE = "00000000-0000-4000-8000-000000000000"
EXPIRY = datetime(2031, 1, 1, tzinfo=timezone.utc)


def settings(key: APIKey) -> tuple[object, ...]:
    return (
        key.name,
        key.limit,
        key.limit_reset,
        key.include_byok_in_limit,
        key.expires_at,
        key.workspace_id,
        key.creator_user_id,
    )


async def make_key(client: AsyncModelGates, name: str = "tenant-7") -> APIKey:
    created = await client.api_keys.create(
        name,
        limit=25,
        limit_reset="weekly",
        include_byok_in_limit=True,
        expires_at=EXPIRY,
        creator_user_id="user_42",
    )
    return created.data


async def test_rotate_copies_settings_then_disables_the_old_key(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """rotate() makes a key with the same settings, then disables the old one."""
    old = await make_key(async_modelgates_client)
    new = await async_modelgates_client.api_keys.rotate(old.hash)
    assert new.key.startswith("sk-mg-v1-")
    assert new.data.hash != old.hash
    assert settings(new.data) == settings(old)
    assert new.data.workspace_id == WORKSPACE
    assert not new.data.disabled
    assert (await async_modelgates_client.api_keys.get(old.hash)).disabled


async def test_rotate_can_delete_the_old_key(async_modelgates_client: AsyncModelGates) -> None:
    """retire="delete" deletes the old key once the new one exists."""
    old = await make_key(async_modelgates_client)
    new = await async_modelgates_client.api_keys.rotate(old.hash, retire="delete")
    with pytest.raises(NotFoundError):
        await async_modelgates_client.api_keys.get(old.hash)
    assert (await async_modelgates_client.api_keys.get(new.data.hash)).name == old.name


async def test_rotate_that_cannot_retire_hands_back_the_new_key(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """If disabling the old key fails, RotationError carries the new key; the old one works."""
    old = await make_key(async_modelgates_client)
    modelgates_server.inject_fault(f"/keys/{old.hash}", method="PATCH", status=500, times=3)
    with pytest.raises(RotationError) as info:
        await async_modelgates_client.api_keys.rotate(old.hash)
    error = info.value
    assert error.stage == "retire"
    assert error.old_hash == old.hash
    assert error.new_key is not None
    assert error.new_key.key.startswith("sk-mg-v1-")
    assert error.new_key.key not in str(error)
    assert error.new_key.key not in repr(error)
    assert "still works" in str(error)
    assert not (await async_modelgates_client.api_keys.get(old.hash)).disabled
    new = await async_modelgates_client.api_keys.get(error.new_key.data.hash)
    assert settings(new) == settings(old)


async def test_rotate_that_cannot_create_leaves_everything_as_it_was(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """If the create fails, RotationError has no new key and the old key is untouched."""
    old = await make_key(async_modelgates_client)
    modelgates_server.inject_fault("/keys", method="POST", status=400)
    with pytest.raises(RotationError) as info:
        await async_modelgates_client.api_keys.rotate(old.hash)
    assert info.value.stage == "create"
    assert info.value.new_key is None
    assert "unchanged" in str(info.value)
    keys = [key async for key in async_modelgates_client.api_keys.iter(include_disabled=True)]
    assert [(key.hash, key.disabled) for key in keys] == [(old.hash, False)]


async def test_rotate_says_a_5xx_create_may_have_made_a_key(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """A create that failed with 5xx is reported as possibly done, so the caller can look."""
    old = await make_key(async_modelgates_client)
    modelgates_server.inject_fault("/keys", method="POST", status=502)
    with pytest.raises(RotationError, match="may have been created"):
        await async_modelgates_client.api_keys.rotate(old.hash)


async def test_rotate_refuses_an_unknown_retire_mode(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """retire must be "disable" or "delete"; anything else is refused before sending."""
    with pytest.raises(InvalidRequestError, match="retire"):
        await async_modelgates_client.api_keys.rotate("abc", retire="archive")  # type: ignore[arg-type]


async def test_rotate_many_rotates_each_key_and_isolates_failures(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """rotate_many rotates every key; an unknown hash fails alone."""
    olds = [await make_key(async_modelgates_client, f"t{i}") for i in range(3)]
    result = await async_modelgates_client.api_keys.rotate_many(
        [*(key.hash for key in olds), "0" * 64]
    )
    assert [created.data.name for created in result.values] == ["t0", "t1", "t2"]
    assert isinstance(result[3].error, NotFoundError)
    for old in olds:
        assert (await async_modelgates_client.api_keys.get(old.hash)).disabled


@pytest.fixture
async def spending(
    async_modelgates_client: AsyncModelGates, modelgates_server: LocalServer
) -> dict[str, APIKey]:
    """Keys with limits, resets and spend, seen on Wednesday 2025-01-08 at noon UTC."""
    modelgates_server.clock.set(datetime(2025, 1, 6, 10, tzinfo=timezone.utc))  # a Monday
    result = await async_modelgates_client.api_keys.create_many(
        [
            KeySpec("daily", limit=10, limit_reset="daily"),
            KeySpec("weekly", limit=10, limit_reset="weekly"),
            KeySpec("total", limit=10),
            KeySpec("byok-counted", limit=10, limit_reset="monthly", include_byok_in_limit=True),
            KeySpec("byok-ignored", limit=10, limit_reset="monthly"),
            KeySpec("no-limit"),
        ]
    )
    keys = {created.data.name: created.data for created in result.raise_for_errors().values}
    modelgates_server.record_usage(keys["daily"].hash, 9.5)  # Monday: gone by Wednesday
    modelgates_server.record_usage(keys["weekly"].hash, 8.5)  # Monday: same week
    modelgates_server.clock.set(datetime(2025, 1, 8, 12, tzinfo=timezone.utc))
    modelgates_server.record_usage(keys["daily"].hash, 1.0)
    modelgates_server.record_usage(keys["total"].hash, 10.0)
    for name in ("byok-counted", "byok-ignored"):
        modelgates_server.record_usage(keys[name].hash, 6.0)
        modelgates_server.record_usage(keys[name].hash, 5.0, byok=True)
    modelgates_server.record_usage(keys["no-limit"].hash, 1000.0)
    return keys


async def over(client: AsyncModelGates, threshold: float) -> set[str]:
    return {key.name async for key in client.api_keys.over_limit(threshold)}


@pytest.mark.usefixtures("spending")
async def test_over_limit_counts_the_current_window_and_byok(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """Only this window's spend counts, BYOK only when the key says so; no limit, never over."""
    assert await over(async_modelgates_client, 1.0) == {"total", "byok-counted"}


@pytest.mark.usefixtures("spending")
async def test_over_limit_threshold_finds_keys_near_their_limit(
    async_modelgates_client: AsyncModelGates,
) -> None:
    """threshold=0.8 also finds the keys at 80% or more of their limit."""
    assert await over(async_modelgates_client, 0.8) == {"total", "byok-counted", "weekly"}
    assert await over(async_modelgates_client, 0.5) == {
        "total",
        "byok-counted",
        "weekly",
        "byok-ignored",
    }


async def test_usage_in_limit_window_follows_the_reset(
    async_modelgates_client: AsyncModelGates, spending: dict[str, APIKey]
) -> None:
    """usage_in_limit_window picks the reset's window and adds BYOK when it counts."""
    fetched = {
        key.name: key
        for key in (
            await async_modelgates_client.api_keys.get_many(k.hash for k in spending.values())
        ).values
    }
    assert usage_in_limit_window(fetched["daily"]) == 1.0
    assert usage_in_limit_window(fetched["weekly"]) == 8.5
    assert usage_in_limit_window(fetched["byok-counted"]) == 11.0
    assert usage_in_limit_window(fetched["byok-ignored"]) == 6.0
    assert fetched["weekly"].limit_reset is LimitReset.WEEKLY


async def test_disable_over_limit_disables_just_those_keys(
    async_modelgates_client: AsyncModelGates, spending: dict[str, APIKey]
) -> None:
    """disable_over_limit disables the keys at their limit and reports each one."""
    result = await async_modelgates_client.api_keys.disable_over_limit()
    assert result.ok
    assert sorted(item.input.name for item in result) == ["byok-counted", "total"]
    assert all(key.disabled for key in result.values)
    assert await over(async_modelgates_client, 1.0) == set()
    still_enabled = {key.name async for key in async_modelgates_client.api_keys.iter()}
    assert still_enabled == {"daily", "weekly", "byok-ignored", "no-limit"}


async def test_disable_over_limit_reports_a_failed_disable(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    spending: dict[str, APIKey],
) -> None:
    """A key whose disable keeps failing is reported in the result; the other is disabled."""
    modelgates_server.inject_fault(
        f"/keys/{spending['total'].hash}", method="PATCH", status=500, times=3
    )
    result = await async_modelgates_client.api_keys.disable_over_limit()
    assert (result.succeeded, result.failed) == (1, 1)
    assert result.errors[0].input.name == "total"


@pytest.mark.parametrize("threshold", [0, -1, float("nan"), "1", True])
async def test_over_limit_refuses_a_bad_threshold(
    async_modelgates_client: AsyncModelGates, threshold: object
) -> None:
    """threshold must be a finite number > 0."""
    with pytest.raises(InvalidRequestError, match="threshold"):
        await over(async_modelgates_client, threshold)  # type: ignore[arg-type]

"""The bulk methods and helpers through the sync facade (same coroutines, no await)."""

from __future__ import annotations

from collections import Counter

from modelgates_async import KeySpec, ModelGates
from modelgates_async.server import LocalServer


def test_sync_create_many_and_progress(modelgates_client: ModelGates) -> None:
    """ModelGates.api_keys.create_many returns a BulkResult and reports progress."""
    reports: list[tuple[int, int, int]] = []
    result = modelgates_client.api_keys.create_many(
        [KeySpec(f"s{i}") for i in range(5)], on_progress=lambda *r: reports.append(r)
    )
    assert [c.data.name for c in result.values] == [f"s{i}" for i in range(5)]
    assert reports[0] == (0, 5, 0)
    assert reports[-1] == (5, 5, 0)


def test_sync_create_many_iter_is_a_plain_generator(modelgates_client: ModelGates) -> None:
    """create_many_iter becomes a generator of BulkItems in the sync facade."""
    items = list(modelgates_client.api_keys.create_many_iter([KeySpec("a"), KeySpec("b")]))
    assert sorted(item.unwrap().data.name for item in items) == ["a", "b"]


def test_sync_get_update_delete_many(modelgates_client: ModelGates) -> None:
    """get_many, update_many and delete_many work without an event loop of the caller's."""
    hashes = [
        c.data.hash for c in modelgates_client.api_keys.create_many([KeySpec("x")] * 3).values
    ]
    assert [k.hash for k in modelgates_client.api_keys.get_many(hashes).values] == hashes
    updated = modelgates_client.api_keys.update_many([(h, {"disabled": True}) for h in hashes])
    assert all(key.disabled for key in updated.values)
    assert modelgates_client.api_keys.delete_many(hashes).values == [True] * 3


def test_sync_rotate_and_over_limit(
    modelgates_client: ModelGates, modelgates_server: LocalServer
) -> None:
    """rotate returns the new key; over_limit is a generator; disable_over_limit a result."""
    created = modelgates_client.api_keys.create("tenant", limit=1)
    new = modelgates_client.api_keys.rotate(created.data.hash)
    assert new.data.name == "tenant"
    modelgates_server.record_usage(new.data.hash, 1.0)
    assert [k.hash for k in modelgates_client.api_keys.over_limit()] == [new.data.hash]
    result = modelgates_client.api_keys.disable_over_limit()
    assert [k.disabled for k in result.values] == [True]
    names = Counter(k.name for k in modelgates_client.api_keys.iter(include_disabled=True))
    assert names == Counter({"tenant": 2})

"""with_raw_response: status, headers and .parse() for every endpoint, async and sync."""

from __future__ import annotations

import inspect

import pytest

from modelgates_async import (
    APIKey,
    AsyncModelGates,
    CreatedKey,
    CurrentKey,
    ModelGates,
    NotFoundError,
    RawResponse,
)
from modelgates_async.resources._raw import AsyncAPIKeysWithRawResponse
from modelgates_async.resources.keys import AsyncAPIKeys
from modelgates_async.server import LocalServer

ENDPOINTS = ["list", "create", "get", "update", "delete", "get_current_key_metadata"]


async def test_every_endpoint_returns_status_headers_and_the_usual_record(
    client: AsyncModelGates,
) -> None:
    """Each raw method's .parse() is what the plain method returns; status is the answer's."""
    raw = client.api_keys.with_raw_response
    created = await raw.create("raw one", limit=3)
    assert created.status == 201
    new = created.parse()
    assert isinstance(new, CreatedKey)
    assert new.key.startswith("sk-")
    got = await raw.get(new.data.hash)
    assert (got.status, got.parse()) == (200, new.data)
    assert got.headers["Content-Type"].startswith("application/json")
    page = await raw.list()
    assert [k.hash for k in page.parse()] == [new.data.hash]
    updated = await raw.update(new.data.hash, name="raw two")
    assert isinstance(updated.parse(), APIKey)
    assert updated.parse().name == "raw two"
    me = await raw.get_current_key_metadata()
    assert isinstance(me.parse(), CurrentKey)
    deleted = await raw.delete(new.data.hash)
    assert (deleted.status, deleted.parse()) == (200, True)
    assert new.key not in repr(created)
    assert repr(created) == "<RawResponse status=201>"


async def test_raw_headers_are_the_last_attempts(
    client: AsyncModelGates, modelgates_server: LocalServer
) -> None:
    """After a 503, the succeeding answer's headers: request id and rate-limit reachable."""
    created = await client.api_keys.create("with headers")
    body = {"data": {**_wire(created.data), "name": "from the fault"}}
    modelgates_server.inject_fault("/keys/*", method="GET", status=503, times=1)
    modelgates_server.inject_fault(
        "/keys/*",
        method="GET",
        status=200,
        headers={"X-Request-Id": "req_42", "X-RateLimit-Remaining": "99"},
        body=body,
    )
    raw = await client.api_keys.with_raw_response.get(created.data.hash)
    assert raw.status == 200
    assert raw.headers["x-request-id"] == "req_42"
    assert raw.headers["X-RateLimit-Remaining"] == "99"
    assert raw.parse().name == "from the fault"


async def test_raw_errors_are_raised_as_usual(client: AsyncModelGates) -> None:
    """A 404 through with_raw_response raises NotFoundError, as the plain call does."""
    with pytest.raises(NotFoundError):
        await client.api_keys.with_raw_response.get("0" * 64)


def test_sync_facade_has_raw_responses(modelgates_client: ModelGates) -> None:
    """ModelGates.api_keys.with_raw_response mirrors the async namespace (generated)."""
    raw = modelgates_client.api_keys.with_raw_response.create("sync raw")
    assert isinstance(raw, RawResponse)
    assert raw.status == 201
    got = modelgates_client.api_keys.with_raw_response.get(raw.parse().data.hash)
    assert got.parse().hash == raw.parse().data.hash
    assert type(modelgates_client.api_keys.with_raw_response).__name__ == ("APIKeysWithRawResponse")


@pytest.mark.parametrize("name", ENDPOINTS)
def test_raw_signatures_match_the_plain_ones(name: str) -> None:
    """Each raw method takes exactly the plain method's parameters (kept in step)."""
    plain = inspect.signature(getattr(AsyncAPIKeys, name))
    raw = inspect.signature(getattr(AsyncAPIKeysWithRawResponse, name))
    assert list(raw.parameters.values()) == list(plain.parameters.values())


def test_every_endpoint_has_a_raw_twin() -> None:
    """Every plain endpoint method (not bulk, not iterators) is in with_raw_response."""
    raw_methods = {
        n for n, f in vars(AsyncAPIKeysWithRawResponse).items() if inspect.iscoroutinefunction(f)
    }
    assert raw_methods == set(ENDPOINTS)


def _wire(key: APIKey) -> dict[str, object]:
    from modelgates_async._convert import unstructure

    data = unstructure(key)
    assert isinstance(data, dict)
    return data

"""Helpers of the server's tests: the management key they use, raw HTTP clients (aiohttp, and
blocking urllib for servers in another thread or process), and the cost counters of the
paging tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import aiohttp

from modelgates_async.server import AsyncLocalServer, KeyRecord, SQLiteStore

MANAGEMENT_KEY = "sk-mg-v1-" + "ab" * 32


class Api:
    """Raw HTTP calls to one server: status, parsed JSON body and headers, nothing else."""

    def __init__(self, server: AsyncLocalServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session
        self.management_key = server.management_key

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        auth: str | None = None,
        json: Any = None,
        data: Any = None,
        params: dict[str, str] | None = None,
        base: str | None = None,
    ) -> tuple[int, Any, Any]:
        """Send one request (``key`` defaults to the management key; ``auth`` is the raw
        Authorization header, "" for none) and return (status, JSON body, headers)."""
        headers: dict[str, str] = {}
        if auth is None:
            headers["Authorization"] = f"Bearer {key or self.management_key}"
        elif auth:
            headers["Authorization"] = auth
        url = (base if base is not None else self.server.base_url) + path
        async with self.session.request(
            method, url, headers=headers, json=json, data=data, params=params
        ) as response:
            text = await response.text()
            body = None
            if text:
                assert response.content_type == "application/json", text
                body = await response.json()
            return response.status, body, response.headers

    async def create(self, name: str = "key", **fields: Any) -> tuple[str, dict[str, Any]]:
        """Create a key; return (secret, APIKey data)."""
        status, body, _ = await self.call("POST", "/keys", json={"name": name, **fields})
        assert status == 201, body
        return body["key"], body["data"]

    async def get(self, key_hash: str) -> dict[str, Any]:
        """Return the APIKey data of a key."""
        status, body, _ = await self.call("GET", f"/keys/{key_hash}")
        assert status == 200, body
        return body["data"]  # type: ignore[no-any-return]


def call(
    base_url: str, method: str, path: str, key: str, body: Any = None, *, timeout: float = 20
) -> tuple[int, Any]:
    """A blocking request with urllib; returns (status, JSON body)."""
    request = urllib.request.Request(
        base_url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


class CountingDict(dict[str, KeyRecord]):
    """A dict that counts item reads."""

    reads = 0

    def __getitem__(self, key: str) -> KeyRecord:
        self.reads += 1
        return super().__getitem__(key)


def sqlite_steps(store: SQLiteStore) -> Callable[[], int]:
    """Count ``store``'s SQLite VM steps (in hundreds) from now; returns the counter."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0  # go on

    store._db.set_progress_handler(count, 100)
    return lambda: steps[0]

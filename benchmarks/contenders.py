"""The contenders: one small adapter per client, each doing the same ``get`` and ``create``.

Every adapter is given its best set-up: pooled connections sized for the concurrency,
``sniffio`` installed for httpx, uvloop under every async contender. Adapters import their
client lazily, so a worker process loads only the library it measures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from benchmarks.seed import MANAGEMENT_KEY

__all__ = [
    "ASYNC_CONTENDERS",
    "BASELINE_PREFIX",
    "SYNC_CONTENDERS",
    "AsyncClient",
    "SyncClient",
    "Unavailable",
    "open_async",
    "open_sync",
]


class Unavailable(Exception):
    """The contender cannot run here (not written yet, or its package is missing)."""


class AsyncClient(Protocol):
    """What the async drivers call."""

    async def get(self, key_hash: str) -> object: ...
    async def create(self, name: str) -> object: ...
    async def aclose(self) -> None: ...


class SyncClient(Protocol):
    """What the sync drivers call."""

    def get(self, key_hash: str) -> object: ...
    def create(self, name: str) -> object: ...
    def close(self) -> None: ...


_HEADERS = {"Authorization": f"Bearer {MANAGEMENT_KEY}", "Accept": "application/json"}


class _StatusError(Exception):
    pass


# --- async -------------------------------------------------------------------------------


class RawAiohttp:
    """The floor: one aiohttp session, hand-built requests, ``json.loads``.

    Built as carefully as a hand-written client can be (pre-encoded ``yarl.URL``, one
    headers dict), so that it is a floor and not a straw man.
    """

    def __init__(self, base_url: str, concurrency: int) -> None:
        import aiohttp
        from yarl import URL

        self._url = URL
        self._base = base_url
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=max(100, concurrency))
        )
        self._post_headers = {**_HEADERS, "Content-Type": "application/json"}

    async def get(self, key_hash: str) -> object:
        url = self._url(self._base + "/keys/" + key_hash, encoded=True)
        async with self._session.get(url, headers=_HEADERS) as response:
            raw = await response.read()
            if response.status != 200:
                raise _StatusError(response.status)
        return json.loads(raw)["data"]

    async def create(self, name: str) -> object:
        data = json.dumps({"name": name}).encode()
        url = self._url(self._base + "/keys", encoded=True)
        async with self._session.post(url, data=data, headers=self._post_headers) as response:
            raw = await response.read()
            if response.status != 201:
                raise _StatusError(response.status)
        return json.loads(raw)["data"]

    async def aclose(self) -> None:
        await self._session.close()


class OursAsync:
    """``AsyncModelGates``: validation, retries, records included."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        from modelgates_async import AsyncModelGates

        self.client = AsyncModelGates(api_key=MANAGEMENT_KEY, base_url=base_url)
        self._keys = self.client.api_keys

    async def get(self, key_hash: str) -> object:
        return await self._keys.get(key_hash)

    async def create(self, name: str) -> object:
        return await self._keys.create(name)

    async def aclose(self) -> None:
        await self.client.aclose()


def _openrouter(base_url: str, concurrency: int, *, sync: bool) -> Any:
    try:
        import httpx
        from openrouter import OpenRouter
    except ImportError as exc:  # pragma: no cover - the bench extra installs it
        raise Unavailable(f"openrouter is not installed ({exc})") from exc
    # httpx keeps only 20 idle connections by default: at concurrency 64 it would reconnect.
    limits = httpx.Limits(max_connections=max(100, concurrency), max_keepalive_connections=None)
    if sync:
        return OpenRouter(
            api_key=MANAGEMENT_KEY,
            server_url=base_url,
            client=httpx.Client(follow_redirects=True, limits=limits),
        )
    return OpenRouter(
        api_key=MANAGEMENT_KEY,
        server_url=base_url,
        async_client=httpx.AsyncClient(follow_redirects=True, limits=limits),
    )


class OpenRouterAsync:
    """The official OpenRouter client (httpx + pydantic), async methods."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self.client = _openrouter(base_url, concurrency, sync=False)
        self._keys = self.client.api_keys

    async def get(self, key_hash: str) -> object:
        return await self._keys.get_async(hash=key_hash)

    async def create(self, name: str) -> object:
        return await self._keys.create_async(name=name)

    async def aclose(self) -> None:
        await self.client.__aexit__(None, None, None)


ASYNC_CONTENDERS: dict[str, Callable[[str, int], AsyncClient]] = {
    "raw aiohttp": RawAiohttp,
    "AsyncModelGates": OursAsync,
    "openrouter async": OpenRouterAsync,
}


BASELINE_PREFIX = "AsyncModelGates@"
"""``AsyncModelGates@<commit>``: the same adapter on that commit's SDK (``benchmarks.baseline``)."""


def open_async(name: str, base_url: str, concurrency: int) -> AsyncClient:
    """Open the async contender ``name`` (inside the running event loop)."""
    if name.startswith(BASELINE_PREFIX):
        return OursAsync(base_url, concurrency)
    return ASYNC_CONTENDERS[name](base_url, concurrency)


# --- sync --------------------------------------------------------------------------------


class RequestsSession:
    """The raw sync floor: ``requests.Session``, ``json.loads``."""

    def __init__(self, base_url: str) -> None:
        import requests

        self._base = base_url
        self._session = requests.Session()
        self._session.headers.update(_HEADERS)

    def get(self, key_hash: str) -> object:
        response = self._session.get(self._base + "/keys/" + key_hash)
        if response.status_code != 200:
            raise _StatusError(response.status_code)
        return json.loads(response.content)["data"]

    def create(self, name: str) -> object:
        response = self._session.post(
            self._base + "/keys",
            data=json.dumps({"name": name}),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code != 201:
            raise _StatusError(response.status_code)
        return json.loads(response.content)["data"]

    def close(self) -> None:
        self._session.close()


class HttpxClient:
    """A second raw sync reference: ``httpx.Client``, ``json.loads``."""

    def __init__(self, base_url: str) -> None:
        import httpx

        self._base = base_url
        self._client = httpx.Client(headers=_HEADERS)

    def get(self, key_hash: str) -> object:
        response = self._client.get(self._base + "/keys/" + key_hash)
        if response.status_code != 200:
            raise _StatusError(response.status_code)
        return json.loads(response.content)["data"]

    def create(self, name: str) -> object:
        response = self._client.post(
            self._base + "/keys",
            content=json.dumps({"name": name}),
            headers={"Content-Type": "application/json"},
        )
        if response.status_code != 201:
            raise _StatusError(response.status_code)
        return json.loads(response.content)["data"]

    def close(self) -> None:
        self._client.close()


def sync_facade_class() -> Any:
    """``modelgates_async.ModelGates``, or Unavailable while the facade has not landed."""
    try:
        from modelgates_async import ModelGates  # type: ignore[attr-defined,unused-ignore]
    except ImportError as exc:
        raise Unavailable("the sync facade ModelGates is not available") from exc
    return ModelGates


class OursSync:
    """The generated sync facade ``ModelGates`` (same coroutines on a private loop)."""

    def __init__(self, base_url: str) -> None:
        self.client = sync_facade_class()(api_key=MANAGEMENT_KEY, base_url=base_url)
        self._keys = self.client.api_keys

    def get(self, key_hash: str) -> object:
        return self._keys.get(key_hash)

    def create(self, name: str) -> object:
        return self._keys.create(name)

    def close(self) -> None:
        self.client.close()


class OpenRouterSync:
    """The official OpenRouter client, sync methods."""

    def __init__(self, base_url: str) -> None:
        self.client = _openrouter(base_url, 1, sync=True)
        self._keys = self.client.api_keys

    def get(self, key_hash: str) -> object:
        return self._keys.get(hash=key_hash)

    def create(self, name: str) -> object:
        return self._keys.create(name=name)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


SYNC_CONTENDERS: dict[str, Callable[[str], SyncClient]] = {
    "requests.Session": RequestsSession,
    "httpx.Client": HttpxClient,
    "ModelGates (sync)": OursSync,
    "openrouter sync": OpenRouterSync,
}


def open_sync(name: str, base_url: str) -> SyncClient:
    """Open the sync contender ``name``."""
    return SYNC_CONTENDERS[name](base_url)

"""Fixtures for proxy, TLS and deadline tests: a throwaway CA, an HTTPS server, a proxy."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme
from aiohttp import web

from modelgates_async.server import ServerState, create_app
from tests.network.helpers import HTTPSServer
from tests.network.proxy import ForwardProxy


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway certificate authority for this test session."""
    return trustme.CA()


@contextlib.asynccontextmanager
async def _serve_https(ca: trustme.CA, *, client_certs: bool) -> AsyncIterator[HTTPSServer]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    if client_certs:  # mutual TLS: only clients with a certificate of ``ca`` get in
        ca.configure_trust(server_context)
        server_context.verify_mode = ssl.CERT_REQUIRED
    state = ServerState()
    assert state.management_key is not None  # a new in-memory server always makes one
    runner = web.AppRunner(create_app(state), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield HTTPSServer(f"https://127.0.0.1:{port}/api/v1", state.management_key, ca)
    finally:
        await runner.cleanup()
        state.close()


@pytest.fixture
async def https_server(ca: trustme.CA) -> AsyncIterator[HTTPSServer]:
    """The ModelGates app on https://127.0.0.1:<free port> with a certificate of ``ca``."""
    async with _serve_https(ca, client_certs=False) as server:
        yield server


@pytest.fixture
async def mtls_server(ca: trustme.CA) -> AsyncIterator[HTTPSServer]:
    """The same, requiring a client certificate issued by ``ca``."""
    async with _serve_https(ca, client_certs=True) as server:
        yield server


@pytest.fixture
async def proxy() -> AsyncIterator[ForwardProxy]:
    """A forward proxy (plain HTTP and CONNECT) on a free local port."""
    async with ForwardProxy() as running:
        yield running


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variables from the machine running the tests."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch

"""Scripted faults and the per-key rate limit, seen by a raw client."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest

from modelgates_async.server import AsyncLocalServer, Fault, RateLimiter

from .helpers import Api


async def test_status_fault_answers_the_next_n_matching_requests(
    api: Api, server: AsyncLocalServer
) -> None:
    """A 503 fault for GET /keys* hits exactly `times` requests, then the real answer."""
    server.inject_fault("/keys*", method="GET", status=503, times=2)
    statuses = [(await api.call("GET", "/keys"))[0] for _ in range(3)]
    assert statuses == [503, 503, 200]


async def test_fault_body_is_in_the_error_shape(api: Api, server: AsyncLocalServer) -> None:
    """A status fault without a body answers {"error": {"code": status, ...}}."""
    server.inject_fault("/api/v1/keys", status=500)
    status, body, _ = await api.call("GET", "/keys")
    assert status == 500
    assert body["error"]["code"] == 500


async def test_429_fault_carries_retry_after(api: Api, server: AsyncLocalServer) -> None:
    """Headers given to a fault (Retry-After) reach the client with the status."""
    server.inject_fault("/keys*", status=429, headers={"Retry-After": "2"})
    status, body, headers = await api.call("POST", "/keys", json={"name": "x"})
    assert status == 429
    assert headers["Retry-After"] == "2"
    assert body["error"]["code"] == 429
    assert server.state.store.count() == 0


async def test_fault_with_a_text_body(api: Api, server: AsyncLocalServer) -> None:
    """A string body is sent as is, e.g. a proxy's HTML error page."""
    server.inject_fault("/key", status=502, body="<html>bad gateway</html>",
                        headers={"Content-Type": "text/html"})  # fmt: skip
    async with api.session.get(api.server.base_url + "/key") as response:
        assert response.status == 502
        assert response.content_type == "text/html"
        assert await response.text() == "<html>bad gateway</html>"


async def test_faults_match_method_and_exact_path(api: Api, server: AsyncLocalServer) -> None:
    """A fault on POST /keys leaves GET /keys and GET /key alone, and waits for its match."""
    server.inject_fault("/api/v1/keys", method="post", status=500)
    assert (await api.call("GET", "/keys"))[0] == 200
    assert (await api.call("GET", "/key"))[0] == 200
    assert (await api.call("POST", "/keys", json={"name": "x"}))[0] == 500
    assert (await api.call("POST", "/keys", json={"name": "x"}))[0] == 201


async def test_faults_apply_in_the_order_queued(api: Api, server: AsyncLocalServer) -> None:
    """Two queued faults for the same route answer one after the other."""
    server.inject_fault("/keys", status=500)
    server.inject_fault("/keys", status=503)
    assert [(await api.call("GET", "/keys"))[0] for _ in range(3)] == [500, 503, 200]


async def test_delay_fault_answers_normally_after_waiting(
    api: Api, server: AsyncLocalServer
) -> None:
    """A delay-only fault slows the request down but still answers the real response."""
    server.inject_fault("/key", delay=0.02)
    status, body, _ = await api.call("GET", "/key")
    assert status == 200
    assert body["data"]["is_management_key"] is True
    assert not server.state.faults


async def test_delay_with_status(api: Api, server: AsyncLocalServer) -> None:
    """delay and status together: wait, then answer the status."""
    server.inject_fault("/key", delay=0.01, status=504)
    assert (await api.call("GET", "/key"))[0] == 504


async def test_drop_fault_closes_the_connection_without_an_answer(server: AsyncLocalServer) -> None:
    """drop=True hangs up: the client sees a disconnect, the next request is answered."""
    # aiohttp retries an idempotent request once on a disconnect: drop both attempts.
    server.inject_fault("/keys*", drop=True, times=2)
    headers = {"Authorization": f"Bearer {server.management_key}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.get(server.base_url + "/keys"):
                pass
        server.state.faults.clear()
        async with session.get(server.base_url + "/keys") as response:
            assert response.status == 200


async def test_drop_fault_on_create_stores_nothing(server: AsyncLocalServer, api: Api) -> None:
    """A dropped create never reached the handler: no key is stored."""
    server.inject_fault("/keys", method="POST", drop=True)
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await session.post(
                server.base_url + "/keys",
                json={"name": "x"},
                headers={"Authorization": f"Bearer {server.management_key}"},
            )
    assert server.state.store.count() == 0


async def test_fault_control_endpoint_queues_lists_and_clears(
    api: Api, server: AsyncLocalServer
) -> None:
    """POST /_emulator/faults queues, GET lists, DELETE clears; control routes are exempt."""
    base = server.url + "/_emulator"
    fault = {"path": "/api/v1/keys*", "method": "GET", "status": 429, "times": 3,
             "headers": {"Retry-After": "1"}}  # fmt: skip
    status, body, _ = await api.call("POST", "/faults", base=base, json=fault)
    assert status == 201
    assert body["data"][0]["times"] == 3
    status, _, headers = await api.call("GET", "/keys")
    assert status == 429
    assert headers["Retry-After"] == "1"
    _, body, _ = await api.call("GET", "/faults", base=base)
    assert body["data"][0]["times"] == 2
    _, body, _ = await api.call("DELETE", "/faults", base=base)
    assert body == {"data": []}
    assert (await api.call("GET", "/keys"))[0] == 200
    status, body, _ = await api.call("POST", "/faults", base=base, json={"path": "*"})
    assert status == 400


async def test_a_catch_all_fault_spares_the_control_endpoints(
    api: Api, server: AsyncLocalServer
) -> None:
    """Faults never hit /_emulator/, so a test can always clean up."""
    server.inject_fault("*", status=500, times=5)
    status, _, _ = await api.call("POST", "/reset", base=server.url + "/_emulator")
    assert status == 200
    assert (await api.call("GET", "/key"))[0] == 200


def test_a_fault_needs_something_to_do() -> None:
    """A fault without status, delay or drop, or with times < 1, is refused."""
    with pytest.raises(ValueError, match="status, a delay or drop"):
        Fault("/keys")
    with pytest.raises(ValueError, match="times"):
        Fault("/keys", status=500, times=0)
    assert Fault("keys/*", status=500).path == "/api/v1/keys/*"


async def test_reset_clears_faults_keys_and_clock(api: Api, server: AsyncLocalServer) -> None:
    """reset() forgets queued faults, every key and any clock change."""
    await api.create("k")
    server.inject_fault("/keys", status=500)
    server.clock.advance(86400 * 365)
    server.reset()
    assert not server.state.faults
    assert not server.clock.frozen
    _, body, _ = await api.call("GET", "/keys")
    assert body == {"data": []}


class FakeTime:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_rate_limit_answers_429_with_retry_after_past_n_per_second(
    api: Api, server: AsyncLocalServer
) -> None:
    """With a limit of 3/s a key's 4th request in the same instant gets 429 + Retry-After."""
    clock = FakeTime()
    server.state.limiter = RateLimiter(3, monotonic=clock)
    statuses = [(await api.call("GET", "/key"))[0] for _ in range(3)]
    status, body, headers = await api.call("GET", "/key")
    assert statuses == [200, 200, 200]
    assert status == 429
    assert body["error"]["code"] == 429
    assert int(headers["Retry-After"]) >= 1
    clock.now += 1.0
    assert (await api.call("GET", "/key"))[0] == 200


async def test_rate_limit_is_per_key(api: Api, server: AsyncLocalServer) -> None:
    """Another key has its own bucket."""
    secret, _ = await api.create("other")
    server.state.limiter = RateLimiter(1, monotonic=FakeTime())
    assert (await api.call("GET", "/key"))[0] == 200
    assert (await api.call("GET", "/key"))[0] == 429
    assert (await api.call("GET", "/key", key=secret))[0] == 200


@pytest.mark.parametrize("state_options", [{"rate_limit": 2}])
async def test_rate_limit_option_is_wired_in(api: Api, server: AsyncLocalServer) -> None:
    """ServerState(rate_limit=N) turns the limiter on and /key reports it."""
    assert server.state.limiter is not None
    assert server.state.limiter.rate == 2
    _, body, _ = await api.call("GET", "/key")
    assert body["data"]["rate_limit"]["requests"] == 2


def test_a_client_pacing_at_the_rate_is_never_limited() -> None:
    """A token bucket lets N/s through forever when requests arrive 1/N s apart."""
    clock = FakeTime()
    limiter = RateLimiter(5, monotonic=clock)
    for _ in range(100):
        assert limiter.acquire("k") == 0
        clock.now += 0.2


def test_a_burst_beyond_the_bucket_waits_for_a_token() -> None:
    """After a burst of N the next request must wait; the wait is at least 1 s."""
    clock = FakeTime()
    limiter = RateLimiter(10, monotonic=clock)
    assert all(limiter.acquire("k") == 0 for _ in range(10))
    assert limiter.acquire("k") == 1
    clock.now += 0.1
    assert limiter.acquire("k") == 0


async def test_a_client_gone_mid_body_is_no_server_error(
    server: AsyncLocalServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create whose client hangs up before its body is in: nothing stored, nothing logged
    above DEBUG (it used to log a ConnectionResetError traceback as an unhandled error)."""
    finished = asyncio.Event()
    request_finished = server.state.connections.request_finished

    def finishing(transport: Any) -> None:
        request_finished(transport)
        finished.set()

    monkeypatch.setattr(server.state.connections, "request_finished", finishing)
    host, port = server.base_url.split("//")[1].split("/")[0].split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /api/v1/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + server.management_key.encode() + b"\r\n"
        b'Content-Length: 100\r\n\r\n{"name": '
    )
    await writer.drain()
    writer.transport.abort()  # gone, 90 bytes short
    with caplog.at_level(logging.DEBUG, logger="modelgates_async.server"):
        await asyncio.wait_for(finished.wait(), 10)
    assert [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG] == []
    assert server.state.store.count() == 0

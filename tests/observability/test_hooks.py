"""Event hooks: every attempt in order, records without secrets, raising hooks ignored."""

from __future__ import annotations

import asyncio
import logging

import pytest

from modelgates_async import (
    AsyncModelGates,
    InvalidRequestError,
    ModelGates,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
)
from modelgates_async._observe import _detached
from modelgates_async.server import LocalServer
from tests.observability.helpers import NO_WAIT, Recorder


async def settle() -> None:
    """Let detached response hooks (those of creates) run to the end."""
    for _ in range(100):
        if not _detached:
            return
        await asyncio.sleep(0)
    raise AssertionError("response hooks still running")


async def test_hooks_see_every_attempt_of_a_retried_call_in_order(
    client: AsyncModelGates, modelgates_server: LocalServer, recorder: Recorder
) -> None:
    """Two 503s then a 200: request/response/retry per failed attempt, then request/response."""
    created = await client.api_keys.create("hooked")
    modelgates_server.inject_fault("/keys/*", method="GET", status=503, times=2)
    observed = client.with_options(event_hooks=recorder.hooks())
    key = await observed.api_keys.get(created.data.hash)
    assert key.hash == created.data.hash
    assert recorder.kinds() == [
        ("request", 1),
        ("response", 1),
        ("retry", 1),
        ("request", 2),
        ("response", 2),
        ("retry", 2),
        ("request", 3),
        ("response", 3),
    ]
    statuses = [e.status for kind, e in recorder.events if kind == "response"]
    assert statuses == [503, 503, 200]
    retry = recorder.events[2][1]
    assert retry == RetryEvent(
        "api_keys.get", "GET", "/keys/{hash}", 1, 0.0, 503, "InternalServerError"
    )
    first = recorder.events[0][1]
    assert first == RequestEvent("api_keys.get", "GET", "/keys/{hash}", 1)
    last = recorder.events[-1][1]
    assert isinstance(last, ResponseEvent)
    assert last.elapsed >= 0
    assert last.headers["Content-Type"].startswith("application/json")


async def test_a_raising_hook_is_logged_and_the_created_secret_still_arrives(
    modelgates_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A response hook that raises on a create: WARNING logged, secret returned, none logged."""
    seen: list[object] = []

    def broken(event: object) -> None:
        seen.append(event)
        raise RuntimeError("hook exploded " + modelgates_server.management_key)

    async def broken_async(event: object) -> None:
        raise ValueError("async hook exploded")

    async with AsyncModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        retries=NO_WAIT,
        event_hooks={"request": [broken_async], "response": [broken, broken]},
    ) as mg:
        with caplog.at_level(logging.WARNING, logger="modelgates_async"):
            created = await mg.api_keys.create("secret keeper")
            await settle()  # a create's response hooks run in a task of their own
    assert created.key.startswith("sk-")
    assert len(seen) == 2  # both hooks ran although the first raised
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(messages) == 3
    assert any("RuntimeError: hook exploded ***" in m for m in messages)
    assert any("ValueError: async hook exploded" in m for m in messages)
    for message in messages:
        assert created.key not in message
        assert modelgates_server.management_key not in message


async def test_no_record_holds_a_secret_or_a_hash(
    modelgates_server: LocalServer, recorder: Recorder
) -> None:
    """Records of create/get/update/delete name templates only: no secret, key or hash."""
    async with AsyncModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        event_hooks=recorder.hooks(),
    ) as mg:
        created = await mg.api_keys.create("private")
        await mg.api_keys.get(created.data.hash)
        await mg.api_keys.update(created.data.hash, name="renamed")
        await mg.api_keys.delete(created.data.hash)
    assert [e.operation for k, e in recorder.events if k == "request"] == [
        "api_keys.create",
        "api_keys.get",
        "api_keys.update",
        "api_keys.delete",
    ]
    for _, event in recorder.events:
        shown = repr(event) + repr(getattr(event, "headers", ""))
        for secret in (created.key, modelgates_server.management_key, created.data.hash):
            assert secret not in shown


async def test_a_slow_response_hook_never_holds_back_a_created_secret(
    modelgates_server: LocalServer,
) -> None:
    """A create returns its secret while its async response hook still waits (a cancel then
    cannot lose it); the hook still runs to the end."""
    release = asyncio.Event()
    finished: list[int] = []

    async def slow(event: ResponseEvent) -> None:
        await release.wait()
        finished.append(event.status)

    async with AsyncModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        event_hooks={"response": [slow]},
    ) as mg:
        created = await asyncio.wait_for(mg.api_keys.create("not held back"), 10)
        assert created.key.startswith("sk-")
        assert finished == []
        release.set()
        await settle()
    assert finished == [201]


def test_response_headers_lose_credential_headers() -> None:
    """Set-Cookie and the like never reach a hook; known secrets in values are masked."""
    from modelgates_async._hooks import safe_headers

    headers = safe_headers(
        {"Set-Cookie": "session=abc", "X-Echo": "sk-abc", "X-Request-Id": "r1"},
        lambda text: text.replace("sk-abc", "***"),
    )
    assert dict(headers) == {"X-Echo": "***", "X-Request-Id": "r1"}


@pytest.mark.parametrize(
    "hooks",
    [
        {"before": [print]},
        {"request": print},
        {"request": ["not callable"]},
        {"request": "print"},
        ["request"],
    ],
)
def test_bad_event_hooks_are_refused_before_anything_is_sent(hooks: object) -> None:
    """Unknown kinds, a bare function or a non-callable: InvalidRequestError naming event_hooks."""
    with pytest.raises(InvalidRequestError, match="event_hooks") as info:
        AsyncModelGates(api_key="sk-test", base_url="http://127.0.0.1:9", event_hooks=hooks)  # type: ignore[arg-type]
    assert info.value.argument == "event_hooks"


def test_sync_client_calls_hooks_too(modelgates_server: LocalServer, recorder: Recorder) -> None:
    """ModelGates(event_hooks=...) calls sync and async hooks for each attempt."""
    with ModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        event_hooks=recorder.hooks(),
    ) as mg:
        mg.api_keys.get_current_key_metadata()
    assert recorder.kinds() == [("request", 1), ("response", 1)]
    assert recorder.events[1][1].operation == "api_keys.get_current_key_metadata"

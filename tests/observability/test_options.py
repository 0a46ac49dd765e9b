"""with_options: a cheap copy sharing session and limiter, closed without closing its parent."""

from __future__ import annotations

import pytest

from modelgates_async import (
    AsyncModelGates,
    InvalidRequestError,
    ModelGates,
    ModelGatesError,
    RetryConfig,
)
from modelgates_async.server import LocalServer
from tests.observability.helpers import Recorder


async def test_copy_shares_session_and_limiter_and_keeps_other_options(
    client: AsyncModelGates,
) -> None:
    """The copy's calls use the parent's session and limiter, with its own timeout/retries."""
    fast = client.with_options(timeout=5, retries=RetryConfig.disabled())
    assert (fast.timeout, fast.retries) == (5.0, RetryConfig.disabled())
    assert (client.timeout, client.base_url) == (30.0, fast.base_url)
    await fast.api_keys.get_current_key_metadata()
    await client.api_keys.get_current_key_metadata()
    assert await fast._get_session() is await client._get_session()
    assert fast._transport.limiter is client._transport.limiter
    assert repr(fast) == repr(client)


async def test_closing_the_copy_leaves_the_parent_open(client: AsyncModelGates) -> None:
    """aclose() on a copy: the copy refuses calls, the parent's session stays open and works."""
    await client.api_keys.get_current_key_metadata()
    session = await client._get_session()
    async with client.with_options(timeout=10) as copy:
        await copy.api_keys.get_current_key_metadata()
    assert copy.closed
    assert not session.closed
    with pytest.raises(ModelGatesError, match="closed"):
        await copy.api_keys.get_current_key_metadata()
    await client.api_keys.get_current_key_metadata()


async def test_a_copy_does_not_outlive_its_parent(modelgates_server: LocalServer) -> None:
    """Once the parent is closed, the copy cannot reopen a session of its own."""
    parent = AsyncModelGates(
        api_key=modelgates_server.management_key, base_url=modelgates_server.base_url
    )
    copy = parent.with_options(timeout=3)
    await copy.api_keys.get_current_key_metadata()
    session = await parent._get_session()
    await parent.aclose()
    assert session.closed
    with pytest.raises(ModelGatesError, match="closed"):
        await copy.api_keys.get_current_key_metadata()
    await copy.aclose()


async def test_copy_has_its_own_hooks_and_headers(
    client: AsyncModelGates, recorder: Recorder
) -> None:
    """event_hooks and default_headers apply to the copy only; the parent stays silent."""
    copy = client.with_options(event_hooks=recorder.hooks(), default_headers={"X-Team": "a"})
    await copy.api_keys.get_current_key_metadata()
    await client.api_keys.get_current_key_metadata()
    assert recorder.kinds() == [("request", 1), ("response", 1)]
    assert copy._transport._headers["X-Team"] == "a"
    assert "X-Team" not in client._transport._headers
    kept = copy.with_options(timeout=3)  # options not given are the copy's own
    await kept.api_keys.get_current_key_metadata()
    assert len(recorder.events) == 4
    plain = copy.with_options(event_hooks=None)
    await plain.api_keys.get_current_key_metadata()
    assert len(recorder.events) == 4


def test_bad_options_are_refused(modelgates_server: LocalServer) -> None:
    """A bad timeout or retries in with_options raises InvalidRequestError at once."""
    parent = AsyncModelGates(api_key="sk-test", base_url=modelgates_server.base_url)
    with pytest.raises(InvalidRequestError):
        parent.with_options(timeout=-1)
    with pytest.raises(InvalidRequestError):
        parent.with_options(retries=3)  # type: ignore[arg-type]


def test_sync_copy_is_a_sync_client_on_the_same_session(modelgates_client: ModelGates) -> None:
    """ModelGates.with_options returns a ModelGates; closing it keeps the parent usable."""
    copy = modelgates_client.with_options(timeout=7)
    assert isinstance(copy, ModelGates)
    assert copy.timeout == 7.0
    assert copy.api_keys.get_current_key_metadata().is_management_key
    copy.close()
    assert modelgates_client.api_keys.get_current_key_metadata().is_management_key

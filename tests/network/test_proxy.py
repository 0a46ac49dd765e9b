"""proxy= and trust_env=: real requests through a local forward proxy, credentials masked."""

from __future__ import annotations

import base64
import functools
import logging

import pytest

from modelgates_async import (
    APIConnectionError,
    APIStatusError,
    AsyncModelGates,
    InvalidRequestError,
    RetryConfig,
)
from modelgates_async.server import LocalServer
from tests.network.helpers import HTTPSServer
from tests.network.proxy import ForwardProxy

PASSWORD = "pr0xy-s3cret"


def _with_credentials(proxy: ForwardProxy) -> str:
    return proxy.url.replace("http://", f"http://alice:{PASSWORD}@")


async def test_plain_http_goes_through_the_proxy_with_its_credentials(
    modelgates_server: LocalServer,
    proxy: ForwardProxy,
    caplog: pytest.LogCaptureFixture,
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    """proxy='http://user:pw@...': absolute-form request with Basic auth; pw never shown."""
    proxy.required_auth = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    with caplog.at_level(logging.DEBUG, logger="modelgates_async"):
        async with AsyncModelGates(
            api_key=modelgates_server.management_key,
            base_url=modelgates_server.base_url,
            proxy=_with_credentials(proxy),
        ) as mg:
            assert (await mg.api_keys.get_current_key_metadata()).is_management_key
            shown = repr(mg)
    assert [(s.method, s.target) for s in proxy.seen] == [
        ("GET", modelgates_server.base_url + "/key")
    ]
    assert proxy.seen[0].proxy_authorization == proxy.required_auth
    assert "alice:***@" in shown
    assert PASSWORD not in shown
    assert all(PASSWORD not in r.getMessage() for r in caplog.records)


async def test_a_refusing_proxy_gives_a_clean_error(
    modelgates_server: LocalServer, proxy: ForwardProxy, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    """Wrong proxy credentials: a typed error whose text holds no proxy password."""
    proxy.required_auth = "Basic something-else"
    async with AsyncModelGates(
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
        proxy=_with_credentials(proxy),
        retries=RetryConfig.disabled(),
    ) as mg:
        with pytest.raises((APIConnectionError, APIStatusError)) as info:
            await mg.api_keys.get_current_key_metadata()
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in repr(info.value)


async def test_https_goes_through_a_connect_tunnel(
    https_server: HTTPSServer, proxy: ForwardProxy, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    """An https base URL through the proxy: CONNECT host:port, then TLS to the server."""
    async with AsyncModelGates(
        api_key=https_server.management_key,
        base_url=https_server.base_url,
        proxy=proxy.url,
        ssl=https_server.client_context(),
    ) as mg:
        assert (await mg.api_keys.get_current_key_metadata()).is_management_key
    host_port = https_server.base_url.split("//")[1].split("/")[0]
    assert [(s.method, s.target) for s in proxy.seen] == [("CONNECT", host_port)]


async def test_trust_env_takes_the_proxy_from_the_environment(
    modelgates_server: LocalServer, proxy: ForwardProxy, clean_proxy_env: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY is used with trust_env=True only; NO_PROXY naming the host bypasses it."""
    clean_proxy_env.setenv("HTTP_PROXY", proxy.url)
    client = functools.partial(
        AsyncModelGates,
        api_key=modelgates_server.management_key,
        base_url=modelgates_server.base_url,
    )
    async with client() as mg:  # trust_env=False: the default
        await mg.api_keys.get_current_key_metadata()
    assert proxy.seen == []
    async with client(trust_env=True) as mg:
        await mg.api_keys.get_current_key_metadata()
    assert len(proxy.seen) == 1
    clean_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    async with client(trust_env=True) as mg:
        await mg.api_keys.get_current_key_metadata()
    assert len(proxy.seen) == 1


@pytest.mark.parametrize("value", ["", "ftp://proxy:21", "proxy-without-scheme", 3128])
def test_a_bad_proxy_is_refused(value: object) -> None:
    """proxy must be an http(s) URL with a host: InvalidRequestError before anything is sent."""
    with pytest.raises(InvalidRequestError, match="proxy"):
        AsyncModelGates(api_key="sk-test", base_url="https://127.0.0.1:9", proxy=value)  # type: ignore[arg-type]


def test_a_bad_proxy_never_shows_its_password() -> None:
    """The refusal of a proxy URL with a password masks the password."""
    with pytest.raises(InvalidRequestError) as info:
        AsyncModelGates(
            api_key="sk-test", base_url="https://127.0.0.1:9", proxy=f"ftp://u:{PASSWORD}@h:1"
        )
    assert PASSWORD not in str(info.value)

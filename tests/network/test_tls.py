"""ssl=: a private CA through an SSLContext, verification on by default, off when asked."""

from __future__ import annotations

import asyncio
import functools

import pytest

from modelgates_async import (
    APIConnectionError,
    AsyncModelGates,
    InvalidRequestError,
    ModelGates,
    RetryConfig,
)
from tests.network.helpers import HTTPSServer


async def test_an_sslcontext_with_the_private_ca_verifies_the_server(
    https_server: HTTPSServer,
) -> None:
    """ssl=<context trusting the throwaway CA>: the call succeeds over real TLS."""
    async with AsyncModelGates(
        api_key=https_server.management_key,
        base_url=https_server.base_url,
        ssl=https_server.client_context(),
    ) as mg:
        created = await mg.api_keys.create("over tls")
        assert (await mg.api_keys.get(created.data.hash)).name == "over tls"


async def test_verification_is_on_by_default(https_server: HTTPSServer) -> None:
    """ssl=True (the default) refuses a certificate from an unknown CA."""
    async with AsyncModelGates(
        api_key=https_server.management_key,
        base_url=https_server.base_url,
        retries=RetryConfig.disabled(),
    ) as mg:
        with pytest.raises(APIConnectionError, match=r"(?i)certificate") as info:
            await mg.api_keys.get_current_key_metadata()
    assert https_server.management_key not in str(info.value)


async def test_ssl_false_skips_verification(https_server: HTTPSServer) -> None:
    """ssl=False talks TLS to a server whose certificate is not trusted."""
    async with AsyncModelGates(
        api_key=https_server.management_key, base_url=https_server.base_url, ssl=False
    ) as mg:
        assert (await mg.api_keys.get_current_key_metadata()).is_management_key


async def test_the_sync_client_takes_the_context_too(https_server: HTTPSServer) -> None:
    """ModelGates(ssl=context) works from a thread while the server runs in this loop."""

    def call() -> bool:
        with ModelGates(
            api_key=https_server.management_key,
            base_url=https_server.base_url,
            ssl=https_server.client_context(),
        ) as mg:
            return mg.api_keys.get_current_key_metadata().is_management_key

    assert await asyncio.to_thread(call)


async def test_a_client_certificate_in_the_context_passes_mutual_tls(
    mtls_server: HTTPSServer,
) -> None:
    """ssl=<context with a client certificate>: accepted; the same without it: refused."""
    with_certificate = mtls_server.client_context()
    mtls_server.ca.issue_cert("client.test").configure_cert(with_certificate)
    client = functools.partial(
        AsyncModelGates, api_key=mtls_server.management_key, base_url=mtls_server.base_url
    )
    async with client(ssl=with_certificate) as mg:
        assert (await mg.api_keys.get_current_key_metadata()).is_management_key
    async with client(ssl=mtls_server.client_context(), retries=RetryConfig.disabled()) as mg:
        with pytest.raises(APIConnectionError):
            await mg.api_keys.get_current_key_metadata()


@pytest.mark.parametrize("value", ["yes", None, 1])
def test_a_bad_ssl_value_is_refused(value: object) -> None:
    """ssl must be a bool or an SSLContext: InvalidRequestError before anything is sent."""
    with pytest.raises(InvalidRequestError, match="ssl must be"):
        AsyncModelGates(api_key="sk-test", base_url="https://127.0.0.1:9", ssl=value)  # type: ignore[arg-type]

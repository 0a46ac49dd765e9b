"""Choosing the proxy once per client: the argument, else the environment (scheme, NO_PROXY)."""

from __future__ import annotations

import pytest

from modelgates_async._network import mask_url, network_options

BASE = "https://api.example.test/api/v1"


def test_the_argument_wins_over_the_environment(clean_proxy_env: pytest.MonkeyPatch) -> None:
    """proxy= is used as given even when trust_env would find another."""
    clean_proxy_env.setenv("HTTPS_PROXY", "http://env-proxy:1")
    chosen = network_options(BASE, "http://mine:2", True, True)
    assert chosen.proxy == "http://mine:2"


def test_the_base_urls_scheme_picks_the_variable(clean_proxy_env: pytest.MonkeyPatch) -> None:
    """An https base URL uses HTTPS_PROXY (scheme added when missing), never HTTP_PROXY."""
    clean_proxy_env.setenv("HTTP_PROXY", "http://plain:1")
    assert network_options(BASE, None, True, True).proxy is None
    clean_proxy_env.setenv("HTTPS_PROXY", "secure-proxy:3128")
    assert network_options(BASE, None, True, True).proxy == "http://secure-proxy:3128"
    clean_proxy_env.setenv("NO_PROXY", ".example.test")
    assert network_options(BASE, None, True, True).proxy is None


def test_credentials_are_masked_and_listed_as_secrets() -> None:
    """The repr masks the password; both its forms are listed for redaction."""
    options = network_options(BASE, "http://bob:p%40ss@proxy:8080", False, True)
    assert "p%40ss" not in repr(options)
    assert "p@ss" not in repr(options)
    assert set(options.secrets) == {"p@ss", "p%40ss"}
    assert mask_url("http://token@proxy:1") == "http://***@proxy:1"
    assert mask_url("http://proxy:1") == "http://proxy:1"

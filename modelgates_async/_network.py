"""Proxies and TLS: ``proxy=``, ``trust_env=``, ``ssl=`` checked once, when a client is made.

The proxy for the client's base URL is chosen here, once: the ``proxy`` argument, else (with
``trust_env=True``) ``HTTPS_PROXY`` / ``HTTP_PROXY`` as the base URL's scheme says, unless
``NO_PROXY`` names its host. aiohttp's own ``trust_env`` is not used: it would also read
``~/.netrc`` and let a netrc entry replace the API key's ``Authorization`` header.
"""

from __future__ import annotations

import ssl as ssl_module
import urllib.request

import attrs
from yarl import URL

from modelgates_async.errors import InvalidRequestError

__all__ = ["NetworkOptions", "SSLOption", "mask_url", "network_options"]

SSLOption = bool | ssl_module.SSLContext
"""``True`` verifies with the system's CAs, ``False`` does not verify, or your own context."""


def mask_url(url: str) -> str:
    """``url`` with the credentials in it masked (``http://user:***@proxy:3128``)."""
    parsed = URL(url)
    if parsed.password is not None:
        return str(parsed.with_password("***"))
    if parsed.user is not None:
        return str(parsed.with_user("***"))
    return url


@attrs.frozen(slots=True)
class NetworkOptions:
    """How one client reaches the API: its proxy (or None) and its TLS setting."""

    proxy: str | None = attrs.field(repr=lambda p: repr(None if p is None else mask_url(p)))
    ssl: SSLOption
    trust_env: bool = False

    @property
    def secrets(self) -> tuple[str, ...]:
        """The proxy's credentials, to be masked wherever text is shown."""
        if self.proxy is None:
            return ()
        parsed = URL(self.proxy)
        found = (parsed.password, parsed.raw_password, parsed.user, parsed.raw_user)
        # A bare user name is masked only when it stands alone (then it is the credential).
        if parsed.password is None:
            return tuple(s for s in found[2:] if s)
        return tuple(s for s in found[:2] if s)


def network_options(
    base_url: str, proxy: str | None, trust_env: bool, ssl: SSLOption
) -> NetworkOptions:
    """Check the arguments and pick the proxy for ``base_url``."""
    if not isinstance(trust_env, bool):
        raise InvalidRequestError(
            f"trust_env must be True or False, got {type(trust_env).__name__}",
            argument="trust_env",
        )
    if not isinstance(ssl, (bool, ssl_module.SSLContext)):
        raise InvalidRequestError(
            f"ssl must be True, False or an ssl.SSLContext, got {type(ssl).__name__}",
            argument="ssl",
        )
    chosen = _check_proxy(proxy) if proxy is not None else None
    if chosen is None and trust_env:
        chosen = _proxy_from_environment(base_url)
    return NetworkOptions(proxy=chosen, ssl=ssl, trust_env=trust_env)


def _check_proxy(proxy: object, *, source: str = "proxy") -> str:
    if not isinstance(proxy, str) or not proxy.strip():
        raise InvalidRequestError(
            f"{source} must be a proxy URL such as 'http://proxy.internal:3128'", argument="proxy"
        )
    try:
        url = URL(proxy.strip())
    except ValueError:
        url = URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidRequestError(
            f"{source} must be an http:// or https:// URL with a host, got "
            f"{mask_url(proxy) if url.host else '<not a URL>'!r}",
            argument="proxy",
        )
    return str(url)


def _proxy_from_environment(base_url: str) -> str | None:
    proxies = urllib.request.getproxies_environment()
    url = URL(base_url)
    proxy = proxies.get(url.scheme or "https")
    if not proxy:
        return None
    host = url.host or ""
    if url.explicit_port:
        host = f"{host}:{url.port}"
    bypass = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009 (not in typeshed)
    if bypass(host, proxies):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy  # curl's habit: HTTPS_PROXY=proxy:3128
    return _check_proxy(proxy, source=f"the {url.scheme.upper()}_PROXY environment variable")

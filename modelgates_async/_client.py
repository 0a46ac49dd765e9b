"""AsyncModelGates: configuration, the aiohttp session and the resource namespaces."""

from __future__ import annotations

import asyncio
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn

import aiohttp
from yarl import URL

from modelgates_async._body import DEFAULT_MAX_RESPONSE_BYTES, check_max_response_bytes
from modelgates_async._headers import check_header_arguments
from modelgates_async._hooks import EventHook, EventHooks
from modelgates_async._limiter import RateLimiter
from modelgates_async._network import SSLOption, mask_url, network_options
from modelgates_async._retry import RetryConfig
from modelgates_async._session import OwnedSession
from modelgates_async._transport import Transport
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._validation import check_timeout
from modelgates_async._version import __version__
from modelgates_async.errors import ClientClosedError, InvalidRequestError, UsageError
from modelgates_async.models import mask_secret
from modelgates_async.resources.keys import AsyncAPIKeys

__all__ = ["DEFAULT_BASE_URL", "AsyncModelGates"]

DEFAULT_BASE_URL = "https://modelgates.ai/api/v1"
API_KEY_ENV = "MODELGATES_API_KEY"
BASE_URL_ENV = "MODELGATES_BASE_URL"
_DEFAULT_RETRIES = RetryConfig()
_READ_ONLY = (
    "AsyncModelGates.{name} is read-only: pass {name}=... to a call to change it for that call"
)
_USER_AGENT = (
    f"modelgates-async/{__version__} "
    f"python/{platform.python_version()} aiohttp/{aiohttp.__version__}"
)


class AsyncModelGates:
    """Async client of the ModelGates API-key management API.

    ``api_key`` falls back to ``$MODELGATES_API_KEY`` and ``base_url`` to
    ``$MODELGATES_BASE_URL``, then ``https://modelgates.ai/api/v1``. ``timeout`` bounds each
    attempt (seconds); ``retries`` says how failures are retried (see :class:`RetryConfig`
    for the bound on a whole call). ``http_referer``, ``app_title`` and ``app_categories``
    are sent as attribution headers. A ``session`` you pass in stays yours: it is used, never
    closed; the session the client makes itself follows the event loop it is used from (a
    second ``asyncio.run()`` gets a new one). ``max_response_bytes`` caps a response body
    (decoded); a larger one fails with :class:`APIResponseValidationError`. Use
    ``async with`` or call :meth:`aclose`. ``rate_limiter`` is shared by every call of the client
    (and its :meth:`with_options` copies): ``None`` gives it its own in-process adaptive
    limiter; a :class:`~modelgates_async.redis.RedisRateLimiter` shares one limit with every
    process using the same Redis and key.

    Network: ``proxy`` is an ``http(s)://[user:password@]host:port`` proxy URL;
    ``trust_env=True`` takes it from ``HTTPS_PROXY``/``HTTP_PROXY`` (``NO_PROXY`` honoured;
    ``~/.netrc`` is never read); ``ssl`` is True (verify), False (do not) or an
    ``ssl.SSLContext`` (your CA, a client certificate). ``event_hooks`` maps ``"request"``,
    ``"response"`` and ``"retry"`` to lists of functions or coroutine functions, each called
    with a record of every attempt (see :class:`RequestEvent`).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retries: RetryConfig = _DEFAULT_RETRIES,
        http_referer: str | None = None,
        app_title: str | None = None,
        app_categories: str | Sequence[str] | None = None,
        default_headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        proxy: str | None = None,
        trust_env: bool = False,
        ssl: SSLOption = True,
        event_hooks: Mapping[str, Iterable[EventHook]] | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get(API_KEY_ENV) or None
        if api_key is None:
            raise UsageError(
                "No API key: pass api_key=... or set the MODELGATES_API_KEY environment "
                "variable to your ModelGates management key."
            )
        if not isinstance(api_key, str) or not api_key.strip():
            raise InvalidRequestError("api_key must be a non-empty string", argument="api_key")
        check_header_arguments(api_key, http_referer, app_title, app_categories, default_headers)
        if not isinstance(retries, RetryConfig):
            raise InvalidRequestError(
                f"retries must be a RetryConfig, got {type(retries).__name__}", argument="retries"
            )
        if rate_limiter is not None and not isinstance(rate_limiter, RateLimiter):
            raise InvalidRequestError(
                "rate_limiter must be None or a rate limiter such as RedisRateLimiter, got "
                f"{type(rate_limiter).__name__}",
                argument="rate_limiter",
            )
        self._api_key = api_key
        self.base_url = _normalize_base_url(
            base_url if base_url is not None else os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        )
        timeout = check_timeout(timeout)
        max_response_bytes = check_max_response_bytes(max_response_bytes)
        self._session = session
        self._owns_session = session is None
        self._own_session = OwnedSession()
        self._session_loop_checked = False
        self._closed = False
        # What with_options() starts from (the key included: never shown, see __repr__).
        self._options: dict[str, Any] = {
            "api_key": api_key,
            "base_url": self.base_url,
            "timeout": timeout,
            "retries": retries,
            "http_referer": http_referer,
            "app_title": app_title,
            "app_categories": app_categories,
            "default_headers": default_headers,
            "session": session,
            "max_response_bytes": max_response_bytes,
            "proxy": proxy,
            "trust_env": trust_env,
            "ssl": ssl,
            "event_hooks": event_hooks,
        }
        self._network = network_options(self.base_url, proxy, trust_env, ssl)
        headers = _build_headers(
            api_key, http_referer, app_title, app_categories, default_headers or {}
        )
        self._transport = Transport(
            base_url=self.base_url,
            headers=headers,
            get_session=self._get_session,
            # A client with its own session asks it directly (one frame less a call): closing
            # the client forgets that session, so a closed client still gets None here.
            ready_session=self._own_session.current if session is None else self._ready_session,
            secrets=(api_key, *self._network.secrets),
            timeout=timeout,
            retries=retries,
            max_response_bytes=max_response_bytes,
            proxy=self._network.proxy,
            ssl=self._network.ssl,
            limiter=rate_limiter,
        )
        hooks = EventHooks(event_hooks, self._transport.redact)
        self._transport.hooks = hooks if hooks else None
        # Set by with_options(): the client whose session and limiter this copy uses.
        self._parent: AsyncModelGates | None = None
        self.api_keys = AsyncAPIKeys(self)

    def __repr__(self) -> str:
        proxy = self._network.proxy
        shown = "" if proxy is None else f", proxy={mask_url(proxy)!r}"
        return (
            f"AsyncModelGates(base_url={self.base_url!r}, "
            f"api_key={mask_secret(self._api_key)!r}{shown})"
        )

    def with_options(
        self,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
        default_headers: Mapping[str, str] | NotGiven | None = NOT_GIVEN,
        event_hooks: Mapping[str, Iterable[EventHook]] | NotGiven | None = NOT_GIVEN,
    ) -> AsyncModelGates:
        """A copy of this client with other options, sharing its session and limiter.

        Cheap (no connection is made). Options not given are this client's. Closing the
        copy closes nothing of this client's; once this client is closed, the copy's calls
        fail as this client's do.
        """
        # The constructor checks the new options; the copy asks this client for its session
        # (made lazily, on the loop of the first call) and never closes it.
        changes = {
            "timeout": timeout,
            "retries": retries,
            "default_headers": default_headers,
            "event_hooks": event_hooks,
        }
        options = dict(self._options)
        options.update({k: v for k, v in changes.items() if not isinstance(v, NotGiven)})
        copy = type(self)(**options)
        copy._parent = self
        copy._transport.limiter = self._transport.limiter  # a 429 seen by either slows both
        copy._transport.ready_session = copy._ready_session  # the parent's session, if open
        return copy

    @property
    def timeout(self) -> float:
        """Seconds each attempt may take, unless a call passes ``timeout=``; read-only."""
        return self._transport.timeout

    # A setter only to refuse with a message that says what to do instead (assigning once
    # changed nothing at all); ``NoReturn`` makes type checkers refuse the assignment too.
    @timeout.setter
    def timeout(self, value: NoReturn) -> None:
        raise AttributeError(_READ_ONLY.format(name="timeout"))

    @property
    def retries(self) -> RetryConfig:
        """How failed calls are retried, unless a call passes ``retries=``; read-only."""
        return self._transport.retries

    @retries.setter
    def retries(self, value: NoReturn) -> None:
        raise AttributeError(_READ_ONLY.format(name="retries"))

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` ran."""
        return self._closed

    def _ready_session(self) -> aiohttp.ClientSession | None:
        """The session to use now if nothing is left to check or open, else None.

        Not a coroutine: the every-call path costs no coroutine frame; on None the
        transport awaits :meth:`_get_session`, which opens, checks or raises.
        """
        if self._closed:
            return None
        if self._owns_session:
            if self._parent is not None:
                return self._parent._ready_session()  # a with_options() copy
            return self._own_session.current()
        session = self._session
        if session is not None and self._session_loop_checked and not session.closed:
            return session
        return None

    async def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientClosedError("This AsyncModelGates client is closed; create a new one.")
        if self._parent is not None and self._owns_session:
            return await self._parent._get_session()  # a with_options() copy
        if self._owns_session:
            owned = self._session = self._own_session.current() or await self._own_session.get()
            return owned
        session = self._session
        if session is not None and not session.closed:
            if self._session_loop_checked:
                return session
            return self._check_session_loop(session)
        raise ClientClosedError("The aiohttp session passed to AsyncModelGates is closed.")

    def _check_session_loop(self, session: aiohttp.ClientSession) -> aiohttp.ClientSession:
        # A session passed in is bound to the loop it was made in; used from another loop,
        # aiohttp fails with "Event loop is closed" or hangs. Say so, once, on first use.
        if getattr(session, "_loop", None) is not asyncio.get_running_loop():
            raise UsageError(
                "The aiohttp session passed to AsyncModelGates belongs to another event loop: "
                "create it inside the loop that makes the calls (the sync ModelGates runs on "
                "a private loop of its own: leave session=None there)."
            )
        self._session_loop_checked = True
        return session

    def _forget_session_after_fork(self) -> aiohttp.ClientSession | None:
        """Drop the session this client created, without closing it, and return it.

        For the sync facade in a child after ``os.fork()``: the parent's session belongs
        to the parent's loop, and closing it here would touch sockets and an epoll set the
        child shares with the parent. The next call creates a fresh session.
        """
        if not self._owns_session:
            return None
        self._session = None
        return self._own_session.forget_after_fork()

    async def aclose(self) -> None:
        """Close the session this client created (a session passed in is left open)."""
        self._closed = True
        self._session = None
        if self._owns_session:
            await self._own_session.aclose()
        if self._parent is None:  # a with_options() copy shares its parent's limiter
            # Connections a shared limiter opened in this loop (it reconnects if used again).
            await self._transport.limiter.aclose()

    async def __aenter__(self) -> AsyncModelGates:
        if self._closed:
            raise ClientClosedError("This AsyncModelGates client is closed; create a new one.")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _normalize_base_url(base_url: str) -> str:
    if not isinstance(base_url, str) or not base_url.strip():
        raise InvalidRequestError("base_url must be a non-empty URL", argument="base_url")
    url = URL(base_url.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidRequestError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}, got {base_url!r}",
            argument="base_url",
        )
    if url.user or url.password:
        raise InvalidRequestError(
            "base_url must not contain credentials; pass api_key instead", argument="base_url"
        )
    # Encoded form, no trailing slash: paths are appended as "/keys/<hash>".
    return str(url.with_query(None).with_fragment(None)).rstrip("/")


def _build_headers(
    api_key: str,
    http_referer: str | None,
    app_title: str | None,
    app_categories: str | Sequence[str] | None,
    default_headers: Mapping[str, str],
) -> dict[str, str]:
    headers = {"User-Agent": _USER_AGENT, "Accept": "application/json"}
    headers.update(default_headers)
    if http_referer:
        headers["HTTP-Referer"] = http_referer
    if app_title:
        headers["X-ModelGates-Title"] = app_title
    if app_categories:
        headers["X-ModelGates-Categories"] = (
            app_categories if isinstance(app_categories, str) else ",".join(app_categories)
        )
    # Set last so default_headers cannot replace the credentials by accident.
    headers["Authorization"] = f"Bearer {api_key}"
    return headers

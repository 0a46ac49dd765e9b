"""Event hooks: ``event_hooks={"request": [...], "response": [...], "retry": [...]}``.

Each hook gets a small frozen record of one attempt (httpx's ``event_hooks`` idea, with
records instead of live request objects so that no secret and no body can leak through
them). Hooks may be plain functions or coroutine functions. A hook that raises is logged
at WARNING and forgotten: the call goes on, and a created key's secret still reaches the
caller.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from modelgates_async.errors import InvalidRequestError

__all__ = [
    "EventHook",
    "EventHooks",
    "HookEvent",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "operation_name",
    "path_template",
    "safe_headers",
]

logger = logging.getLogger("modelgates_async")

HOOK_KINDS = ("request", "response", "retry")

# Response headers that can carry credentials; never handed to a hook.
_CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "set-cookie2",
        "www-authenticate",
        "proxy-authenticate",
        "x-api-key",
    }
)

# (method, path template) → the SDK operation that sends it.
_OPERATIONS = {
    ("GET", "/keys"): "api_keys.list",
    ("POST", "/keys"): "api_keys.create",
    ("GET", "/keys/{hash}"): "api_keys.get",
    ("PATCH", "/keys/{hash}"): "api_keys.update",
    ("DELETE", "/keys/{hash}"): "api_keys.delete",
    ("GET", "/key"): "api_keys.get_current_key_metadata",
}


def path_template(path: str) -> str:
    """The low-cardinality form of an API path: ``/keys/<hash>`` → ``/keys/{hash}``."""
    if path.startswith("/keys/"):
        return "/keys/{hash}"
    return path


def operation_name(method: str, template: str) -> str:
    """The SDK method behind a request, e.g. ``api_keys.get`` (else ``"GET /path"``)."""
    return _OPERATIONS.get((method, template)) or f"{method} {template}"


def safe_headers(headers: Mapping[str, str], redact: Callable[[str], str]) -> CIMultiDictProxy[str]:
    """Response headers without credential-bearing ones, known secrets masked, read-only."""
    kept: CIMultiDict[str] = CIMultiDict()
    for name, value in headers.items():
        if name.lower() not in _CREDENTIAL_HEADERS:
            kept.add(name, redact(value))
    return CIMultiDictProxy(kept)


@attrs.frozen(slots=True)
class RequestEvent:
    """An attempt is about to be sent.

    ``operation`` is the SDK method (``api_keys.get``), ``path`` the path template
    (``/keys/{hash}``, never a hash), ``attempt`` counts from 1.
    """

    operation: str
    method: str
    path: str
    attempt: int


@attrs.frozen(slots=True)
class ResponseEvent:
    """An attempt got an HTTP answer (any status, errors included).

    ``elapsed`` is the attempt's duration in seconds (the body read included);
    ``headers`` are the response's, read-only, without credential headers.
    """

    operation: str
    method: str
    path: str
    attempt: int
    status: int
    elapsed: float
    headers: CIMultiDictProxy[str] = attrs.field(eq=False, repr=False)


@attrs.frozen(slots=True)
class RetryEvent:
    """An attempt failed and another follows after ``wait`` seconds.

    ``attempt`` is the failed attempt's number; ``status`` its HTTP status (None when no
    answer came); ``error`` the failure's exception class name, e.g. ``InternalServerError``.
    """

    operation: str
    method: str
    path: str
    attempt: int
    wait: float
    status: int | None
    error: str


HookEvent = RequestEvent | ResponseEvent | RetryEvent
EventHook = Callable[[Any], Awaitable[None] | None]
"""A hook: ``hook(event)``, a plain function or a coroutine function."""


class EventHooks:
    """The validated hooks of one client, by kind; falsy when there are none."""

    __slots__ = ("_redact", "request", "response", "retry")

    def __init__(
        self,
        hooks: Mapping[str, Iterable[EventHook]] | None,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.request: tuple[EventHook, ...] = ()
        self.response: tuple[EventHook, ...] = ()
        self.retry: tuple[EventHook, ...] = ()
        self._redact = redact
        if hooks is None:
            return
        if not isinstance(hooks, Mapping):
            raise InvalidRequestError(
                "event_hooks must be a mapping such as {'request': [fn], 'response': [fn]}, "
                f"got {type(hooks).__name__}",
                argument="event_hooks",
            )
        for kind, given in hooks.items():
            functions: object = given
            if kind not in HOOK_KINDS:
                raise InvalidRequestError(
                    f"event_hooks: unknown kind {kind!r}; use 'request', 'response' or 'retry'",
                    argument="event_hooks",
                )
            if (
                callable(functions)
                or isinstance(functions, (str, bytes))
                or not isinstance(functions, Iterable)
            ):
                raise InvalidRequestError(
                    f"event_hooks[{kind!r}] must be a list of callables", argument="event_hooks"
                )
            listed = tuple(functions)
            for function in listed:
                if not callable(function):
                    raise InvalidRequestError(
                        f"event_hooks[{kind!r}] holds {type(function).__name__}, not a callable",
                        argument="event_hooks",
                    )
            setattr(self, kind, listed)

    def __bool__(self) -> bool:
        return bool(self.request or self.response or self.retry)

    async def emit(self, hooks: tuple[EventHook, ...], kind: str, event: HookEvent) -> None:
        """Call each hook with ``event``, in order; log and swallow what one raises."""
        for hook in hooks:
            try:
                result = hook(event)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                # Not exc_info: a traceback would print the hook's message unredacted.
                logger.warning(
                    "modelgates_async: %s hook %s raised %s: %s (ignored; the call goes on)",
                    kind,
                    _hook_name(hook),
                    type(exc).__name__,
                    self._redact(str(exc))[:500],
                )


def _hook_name(hook: object) -> str:
    return getattr(hook, "__qualname__", None) or type(hook).__name__

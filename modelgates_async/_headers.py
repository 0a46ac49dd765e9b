"""Checks of the constructor's header arguments, so that a bad one fails in the constructor.

A CR or LF in a header value would split the request (aiohttp refuses it, but only at the
first call and with its own exception); a value that is not a string fails the same way.
The API key is never echoed in a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from modelgates_async.errors import InvalidRequestError

__all__ = ["check_header_arguments"]

# Control characters (CR, LF, NUL …) cannot appear in a header value.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 9110 token characters: what a header name may be made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _check_value(
    value: Any, label: str, *, argument: str | None = None, secret: bool = False
) -> None:
    argument = argument or label
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{label} must be a string, got {type(value).__name__}", argument=argument
        )
    shown = "" if secret else f" ({value[:80]!r})"
    if _CONTROL.search(value):
        raise InvalidRequestError(
            f"{label} must not contain control characters such as CR or LF{shown}",
            argument=argument,
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError(
            f"{label} contains a character UTF-8 cannot encode (a lone surrogate){shown}",
            argument=argument,
        ) from None


def check_header_arguments(
    api_key: str,
    http_referer: Any,
    app_title: Any,
    app_categories: Any,
    default_headers: Any,
) -> None:
    """Refuse, naming the argument, any header value that cannot be sent as given."""
    _check_value(api_key, "api_key", secret=True)
    for value, argument in ((http_referer, "http_referer"), (app_title, "app_title")):
        if value is not None:
            _check_value(value, argument)
    if app_categories is not None:
        if isinstance(app_categories, str):
            _check_value(app_categories, "app_categories")
        elif isinstance(app_categories, (list, tuple)):
            for category in app_categories:
                _check_value(category, "app_categories")
        else:
            raise InvalidRequestError(
                "app_categories must be a string or a list of strings, got "
                f"{type(app_categories).__name__}",
                argument="app_categories",
            )
    if default_headers is not None:
        if not isinstance(default_headers, Mapping):
            raise InvalidRequestError(
                f"default_headers must be a mapping, got {type(default_headers).__name__}",
                argument="default_headers",
            )
        for name, value in default_headers.items():
            if not isinstance(name, str) or not _TOKEN.fullmatch(name):
                raise InvalidRequestError(
                    f"default_headers has an invalid header name {str(name)[:80]!r}",
                    argument="default_headers",
                )
            # A credential may travel in default_headers too: never echo values.
            _check_value(
                value, f"default_headers[{name!r}]", argument="default_headers", secret=True
            )

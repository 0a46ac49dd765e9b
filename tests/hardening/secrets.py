"""Planted secrets and a walk over every surface of an exception or log record that text
can hide in: attributes (recursively), ``args``, ``str``, ``repr``, the traceback text and
the ``__cause__`` / ``__context__`` chain."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from modelgates_async import BulkItem
from modelgates_async.models import CreatedKey

# The client's key is deliberately not sk-shaped: it must be masked as a known value.
CLIENT_KEY = "mgmt-" + "a1b2c3d4" * 6
ECHO = "sk-or-v1-" + "e0c4" * 16  # a secret a server echoes, unknown to the client
EXTERNAL = "ext-" + "9f8e7d6c" * 5  # an external API key: >= 32 characters, not sk-shaped

_MAX_DEPTH = 8


def echo_body(status: int, *secrets: str) -> dict[str, Any]:
    """An error body in the API's shape that repeats ``secrets`` everywhere it can."""
    said = " ".join(secrets)
    return {
        "error": {
            "code": status,
            "message": f"rejected: {said}",
            "metadata": {"raw": [said, {"nested": said}], said: said},
        },
        "user_id": said,
    }


def _texts_of(value: Any, depth: int, seen: set[int]) -> Iterator[str]:
    if id(value) in seen or depth > _MAX_DEPTH:
        return
    seen.add(id(value))
    if isinstance(value, (str, bytes, bytearray)):
        yield value if isinstance(value, str) else bytes(value).decode("latin-1")
        return
    if value is None or isinstance(value, (int, float, bool)):
        return
    yield repr(value)
    yield str(value)
    if isinstance(value, BaseException):
        yield from exception_texts(value, depth + 1, seen)
        return
    if isinstance(value, CreatedKey):
        # .key is the hand-over of a secret by design (RotationError.new_key, BulkResult);
        # its repr and str are walked above, its record below.
        yield from _texts_of(value.data, depth + 1, seen)
        return
    if isinstance(value, BulkItem):
        # .input is the caller's own object, handed back as given (a secret passed as a
        # hash by mistake stays theirs); its repr, walked above, masks it.
        yield from _texts_of(value.error, depth + 1, seen)
        yield from _texts_of(value.value, depth + 1, seen)
        return
    if hasattr(value, "items") and callable(value.items):
        for k, v in list(value.items()):
            yield from _texts_of(k, depth + 1, seen)
            yield from _texts_of(v, depth + 1, seen)
        return
    if isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _texts_of(item, depth + 1, seen)
        return
    yield from _attributes(value, depth, seen)


def _attributes(value: Any, depth: int, seen: set[int]) -> Iterator[str]:
    names: list[str] = list(getattr(value, "__dict__", {}))
    for cls in type(value).__mro__:
        names.extend(getattr(cls, "__slots__", ()))
    if attrs.has(type(value)):
        names.extend(a.name for a in attrs.fields(type(value)))
    for name in dict.fromkeys(names):
        if name.startswith("__"):
            continue
        try:
            attribute = getattr(value, name)
        except Exception:  # an unset slot
            continue
        if callable(attribute) and not isinstance(attribute, type):
            continue
        yield from _texts_of(attribute, depth + 1, seen)


def exception_texts(
    exc: BaseException, depth: int = 0, seen: set[int] | None = None
) -> Iterator[str]:
    """Every text reachable from ``exc`` and its chain."""
    seen = set() if seen is None else seen
    yield "".join(traceback.format_exception(exc))
    yield str(exc)
    yield repr(exc)
    yield from _texts_of(exc.args, depth + 1, seen)
    yield from _attributes(exc, depth, seen)
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            yield from _texts_of(linked, depth + 1, seen)


def record_texts(records: Iterable[logging.LogRecord]) -> Iterator[str]:
    """Every text of log records: message, args, formatted traceback, extra attributes."""
    formatter = logging.Formatter()
    for record in records:
        yield record.getMessage()
        yield repr(record.args)
        yield formatter.format(record)
        if record.exc_info and record.exc_info[1] is not None:
            yield from exception_texts(record.exc_info[1])
        for value in vars(record).values():
            if isinstance(value, str):
                yield value


def leaks(texts: Iterable[str], secrets: Iterable[str]) -> list[tuple[str, str]]:
    """(secret, context) for each planted secret found in a text."""
    found = []
    wanted = [s for s in secrets if s]
    for text in texts:
        for secret in wanted:
            if secret in text:
                at = text.index(secret)
                found.append((secret[:12], text[max(0, at - 80) : at + 20]))
    return found

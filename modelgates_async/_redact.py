"""Keeping secrets out of every error, log record and repr: the one place that knows how.

A secret is any ``sk-…``-shaped value (the shape of every ModelGates key and of most
provider keys, so a server echoing one is caught whatever it echoes), plus the exact values a
:class:`Redactor` is told about: the client's own API key and a call's extra secrets (an
``external_api_key``). The transport redacts what it puts into an exception; the exceptions
redact what they are given once more by shape (they are also built outside the transport);
a logging filter does the same for every record of the ``modelgates_async`` logger.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from multidict import CIMultiDict

__all__ = [
    "MASK",
    "REDACTOR",
    "RedactingFilter",
    "Redactor",
    "install_log_filter",
    "looks_like_secret",
    "redact",
    "redacted_repr",
    "scrub_exception",
    "secret_shaped",
]

MASK = "***"
# "sk-" and at least 16 more key characters: catches sk-mg-v1-<64 hex>, sk-or-v1-…, sk-proj-…
# but not the API's masked labels ("sk-mg-v1-c0f...234"), which are public.
_SHAPE = re.compile(r"sk-[A-Za-z0-9_\-]{16,}")
# Shorter known secrets are still masked, but never ones so short that masking them would
# garble every text (a one-letter test key).
_MIN_KNOWN = 4
# Decoded JSON is at most as deep as json's recursion limit; past this depth a value is
# replaced whole rather than walked, so redaction can never overflow the stack.
_MAX_DEPTH = 64
_CHAIN_LIMIT = 16


def secret_shaped(text: str) -> set[str]:
    """Every distinct ``sk-…``-shaped value in ``text`` (what :class:`Redactor` masks unasked)."""
    return set(_SHAPE.findall(text))


def looks_like_secret(value: str) -> bool:
    """Whether ``value`` has the shape of a key's secret (``sk-…``), e.g. one passed as a hash."""
    return value[:3].lower() == "sk-"


class Redactor:
    """Masks ``sk-…``-shaped values and the given secrets in text and decoded JSON."""

    __slots__ = ("_known",)

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        known = {s for s in secrets if isinstance(s, str) and len(s) >= _MIN_KNOWN}
        # Longest first, so that a secret containing another is masked whole.
        self._known: tuple[str, ...] = tuple(sorted(known, key=len, reverse=True))

    def with_secrets(self, secrets: Iterable[str | None]) -> Redactor:
        """A redactor that also masks ``secrets`` (a call's own, e.g. an external API key)."""
        extra = tuple(s for s in secrets if s)
        return Redactor((*self._known, *extra)) if extra else self

    def knows(self, value: str) -> bool:
        """Whether ``value`` is one of the secrets given (not merely ``sk-…``-shaped)."""
        return value in self._known

    def text(self, text: str) -> str:
        """``text`` with every secret masked."""
        for secret in self._known:
            if secret in text:
                text = text.replace(secret, MASK)
        return _SHAPE.sub(MASK, text) if "sk-" in text else text

    def value(self, value: Any, _depth: int = 0) -> Any:
        """Decoded JSON (or any mix of str, dict, list, tuple) with every string redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (int, float, bool)) or value is None:
            return value
        if _depth >= _MAX_DEPTH:
            return MASK
        if isinstance(value, Mapping):
            return {self.value(k, _depth + 1): self.value(v, _depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [self.value(v, _depth + 1) for v in value]
            return items if isinstance(value, list) else tuple(items)
        if isinstance(value, (bytes, bytearray)):
            return self.text(bytes(value).decode("utf-8", "replace"))
        return value

    def headers(self, headers: Mapping[str, str]) -> CIMultiDict[str]:
        """A copy of ``headers`` with every value redacted (``Authorization`` masked whole)."""
        items = headers.items()
        return CIMultiDict(
            (k, MASK if k.lower() in ("authorization", "cookie") else self.text(str(v)))
            for k, v in items
        )


REDACTOR = Redactor()
"""Redaction by shape alone, for places that know no client (errors, log records)."""


def redacted_repr(value: Any) -> str:
    """``repr(value)`` with every ``sk-…``-shaped string masked (an attrs ``repr=`` hook)."""
    return REDACTOR.text(repr(value))


def redact(value: Any) -> Any:
    """``value`` with every ``sk-…``-shaped string in it masked (see :class:`Redactor`)."""
    return REDACTOR.value(value)


def scrub_exception(exc: BaseException, redactor: Redactor) -> None:
    """Redact, in place, a third-party exception kept as ``__cause__`` and its own chain.

    aiohttp's exceptions can hold the request's headers (``request_info``, with our
    ``Authorization``) or a line of a hostile server's answer; they stay reachable for
    debugging, without the secrets.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < _CHAIN_LIMIT:
        seen.add(id(current))
        _scrub_one(current, redactor)
        current = current.__cause__ or current.__context__


def _scrub_one(exc: BaseException, redactor: Redactor) -> None:
    exc.args = tuple(redactor.value(a) for a in exc.args)
    attributes = getattr(exc, "__dict__", {})
    for name, value in list(attributes.items()):
        replacement = _scrubbed_attribute(value, redactor)
        if replacement is not value:
            try:
                setattr(exc, name, replacement)
            except (AttributeError, TypeError):  # a read-only property: drop the instance copy
                attributes.pop(name, None)


def _scrubbed_attribute(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, (str, bytes, bytearray, list, tuple)) and not hasattr(value, "_fields"):
        return redactor.value(value)
    if isinstance(value, Mapping):
        return redactor.headers(value)
    headers = getattr(value, "headers", None)
    if isinstance(headers, Mapping) and hasattr(value, "url"):
        # aiohttp's RequestInfo (a NamedTuple or a frozen attrs class, by version).
        replace = getattr(value, "_replace", None)
        if replace is not None:
            return replace(headers=redactor.headers(headers))
        try:
            import attrs

            return attrs.evolve(value, headers=redactor.headers(headers))
        except Exception:  # pragma: no cover - an unknown shape: drop it rather than leak
            return None
    return value


class RedactingFilter(logging.Filter):
    """Formats a record (and its traceback) now, so that the whole text goes through
    ``redact`` (the local server uses it too, with its own rule)."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info = None
            record.exc_text = None
        record.msg = self._redact(message)
        record.args = None
        return True


_FILTER = RedactingFilter(REDACTOR.text)


def install_log_filter(logger: logging.Logger) -> None:
    """Redact every record logged to ``logger`` (idempotent)."""
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)

"""Keep secrets out of log lines, including aiohttp's own (a malformed header is logged raw)."""

from __future__ import annotations

import logging
import re
import threading

from modelgates_async._redact import RedactingFilter

__all__ = ["install_redaction", "redact"]

_PATTERNS = (
    re.compile(r"sk-mg-v1-[^\s'\"\\]+"),
    re.compile(r"(?i)(bearer\s+)[^\s'\"\\]+"),
    re.compile(r"(?i)(authorization\s*[:=]\s*)[^\r\n'\"]+"),
)
_LOGGERS = ("aiohttp.server", "aiohttp.access", "aiohttp.web", "modelgates_async.server")
_lock = threading.Lock()
_known: set[str] = set()


def redact(text: str) -> str:
    """Return ``text`` with key-like strings and the known management keys masked."""
    for secret in _known:
        if len(secret) >= 6:  # masking a 1-letter "key" everywhere would garble every line
            text = text.replace(secret, "[REDACTED]")
    text = _PATTERNS[0].sub("sk-mg-v1-[REDACTED]", text)
    text = _PATTERNS[1].sub(r"\1[REDACTED]", text)
    return _PATTERNS[2].sub(r"\1[REDACTED]", text)


_FILTER = RedactingFilter(redact)


def install_redaction(management_key: str) -> None:
    """Mask ``management_key`` and any ``sk-mg-v1-`` key in the server's and aiohttp's logs."""
    with _lock:
        _known.add(management_key)
        for name in _LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)

"""The rate limiter a command's ``--redis URL`` asks for: one shared through Redis.

The URL is ``--redis``, else ``$MODELGATES_REDIS_URL``, else the profile's ``redis_url``;
none of them means the client's own in-process limiter. The key of the shared state is
``--redis-key``, else ``$MODELGATES_REDIS_KEY``, else the profile's ``redis_key``, else the
library's default (``"modelgates"``): processes share a limit when both URL and key match,
so a CLI run joins services that use the default, and two accounts on one Redis keep apart
by choosing keys. The limiter needs the ``redis`` extra
(redis-py); without it a URL is a usage error saying how to install it, never a traceback and
never a silent "not shared". This module imports :mod:`modelgates_async.redis` only when a URL
is given, so that the CLI runs without the extra.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from modelgates_async.errors import InvalidRequestError

if TYPE_CHECKING:
    from modelgates_async.redis import RedisRateLimiter

__all__ = ["INSTALL_REDIS", "REDIS_KEY_ENV", "REDIS_URL_ENV", "shared_limiter"]

REDIS_URL_ENV = "MODELGATES_REDIS_URL"
"""Where ``--redis`` is read from when not given (the same name as
:data:`modelgates_async.redis.REDIS_URL_ENV`, kept here so that reading it needs no redis-py)."""
REDIS_KEY_ENV = "MODELGATES_REDIS_KEY"
"""Where ``--redis-key`` is read from when not given."""
INSTALL_REDIS = "pip install 'modelgates-async[redis]'"


def shared_limiter(
    option: str | None,
    profile_url: str | None = None,
    *,
    key_option: str | None = None,
    profile_key: str | None = None,
) -> RedisRateLimiter | None:
    """A :class:`~modelgates_async.redis.RedisRateLimiter` for ``option`` (``--redis``), else
    ``$MODELGATES_REDIS_URL``, else ``profile_url``; None when none is set. Its key is
    ``key_option`` (``--redis-key``), else ``$MODELGATES_REDIS_KEY``, else ``profile_key``.

    A missing ``redis`` extra, a malformed URL or key, or ``--redis-key`` with no URL at all
    is a :class:`click.UsageError`.
    """
    source, url = _first(
        ("--redis", option),
        (REDIS_URL_ENV, os.environ.get(REDIS_URL_ENV)),
        ("the profile's redis_url", profile_url),
    )
    key_source, key = _first(
        ("--redis-key", key_option),
        (REDIS_KEY_ENV, os.environ.get(REDIS_KEY_ENV)),
        ("the profile's redis_key", profile_key),
    )
    if url is None:
        if key_option:
            raise click.UsageError(
                f"--redis-key names the shared state in Redis, but no Redis is given: add "
                f"--redis URL (or set ${REDIS_URL_ENV}, or the profile's redis_url)."
            )
        return None
    try:
        from modelgates_async.redis import limiter_from_env_or_url
    except ImportError:
        raise click.UsageError(
            f"{source} asks to share the rate limit through Redis, which needs the redis "
            f"extra: {INSTALL_REDIS}"
        ) from None
    try:
        if key is None:
            return limiter_from_env_or_url(url)
        return limiter_from_env_or_url(url, key=key)
    except InvalidRequestError as exc:
        if exc.argument == "key":
            raise click.UsageError(
                f"{key_source} must be a non-empty name without braces, such as "
                f"modelgates-east (got {key!r})"
            ) from None
        # Not the URL itself in the message: it may hold a password.
        raise click.UsageError(
            f"{source} must be a Redis URL such as redis://localhost:6379/0"
        ) from None


def _first(*candidates: tuple[str, str | None]) -> tuple[str, str | None]:
    """The first ``(where, value)`` with a value, else ``("", None)``."""
    return next(((where, value) for where, value in candidates if value), ("", None))

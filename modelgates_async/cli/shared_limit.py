"""The rate limiter a command's ``--redis URL`` asks for: one shared through Redis.

The URL is ``--redis``, else ``$MODELGATES_REDIS_URL``, else the profile's ``redis_url``;
none of them means the client's own in-process limiter. The limiter needs the ``redis`` extra
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

__all__ = ["INSTALL_REDIS", "REDIS_URL_ENV", "shared_limiter"]

REDIS_URL_ENV = "MODELGATES_REDIS_URL"
"""Where ``--redis`` is read from when not given (the same name as
:data:`modelgates_async.redis.REDIS_URL_ENV`, kept here so that reading it needs no redis-py)."""
INSTALL_REDIS = "pip install 'modelgates-async[redis]'"


def shared_limiter(option: str | None, profile_url: str | None = None) -> RedisRateLimiter | None:
    """A :class:`~modelgates_async.redis.RedisRateLimiter` for ``option`` (``--redis``), else
    ``$MODELGATES_REDIS_URL``, else ``profile_url``; None when none is set.

    A missing ``redis`` extra or a malformed URL is a :class:`click.UsageError`.
    """
    source, url = next(
        (
            (name, value)
            for name, value in (
                ("--redis", option),
                (REDIS_URL_ENV, os.environ.get(REDIS_URL_ENV)),
                ("the profile's redis_url", profile_url),
            )
            if value
        ),
        ("", None),
    )
    if url is None:
        return None
    try:
        from modelgates_async.redis import limiter_from_env_or_url
    except ImportError:
        raise click.UsageError(
            f"{source} asks to share the rate limit through Redis, which needs the redis "
            f"extra: {INSTALL_REDIS}"
        ) from None
    try:
        return limiter_from_env_or_url(url)
    except InvalidRequestError:
        # Not the URL itself in the message: it may hold a password.
        raise click.UsageError(
            f"{source} must be a Redis URL such as redis://localhost:6379/0"
        ) from None

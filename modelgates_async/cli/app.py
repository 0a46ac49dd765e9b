"""The ground floor of the ``modelgates`` command: the top click group, the options every
command shares (``--api-key``, ``--base-url``, ``--json``) and the settings they fill, making
the client, running a coroutine with it, and turning the SDK's errors into advice and exit
codes.

Exit codes: 0 done, 1 the API (or the network) refused or failed, 2 a usage error — a bad
argument, a missing API key, a file that cannot be read. Errors go to stderr and say what
to do next. ``--api-key`` is never printed.

Every other module of the package builds on this one; it imports none of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import attrs
import click

from modelgates_async._client import AsyncModelGates
from modelgates_async.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    InternalServerError,
    InvalidRequestError,
    ModelGatesError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_USAGE",
    "APIFailure",
    "Settings",
    "cli",
    "common_options",
    "explain",
    "make_client",
    "run",
    "settings",
]

T = TypeVar("T")

EXIT_API_ERROR = 1
EXIT_USAGE = 2


class APIFailure(click.ClickException):
    """The API or the network failed the command: exit status 1."""

    exit_code = EXIT_API_ERROR


@attrs.define
class Settings:
    """Options that every command shares, from the group or the command itself."""

    api_key: str | None = None
    base_url: str | None = None
    json: bool = False


def _store(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _: click.Parameter, value: Any) -> Any:
        if value is not None and value is not False:
            setattr(ctx.ensure_object(Settings), name, value)
        return value

    return callback


F = TypeVar("F", bound=Callable[..., Any])


def common_options(function: F) -> F:
    """``--api-key``, ``--base-url`` and ``--json``, on the group and on every command."""
    function = click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        callback=_store("json"),
        help="Print JSON for programs instead of tables.",
    )(function)
    function = click.option(
        "--base-url",
        metavar="URL",
        expose_value=False,
        callback=_store("base_url"),
        help="API base URL (default: $MODELGATES_BASE_URL, else https://modelgates.ai/api/v1).",
    )(function)
    return click.option(
        "--api-key",
        metavar="KEY",
        expose_value=False,
        callback=_store("api_key"),
        help="Management API key (default: $MODELGATES_API_KEY). Never printed.",
    )(function)


def settings() -> Settings:
    """The shared options of the command being run."""
    return click.get_current_context().ensure_object(Settings)


# --- running a call -----------------------------------------------------------------------


def explain(exc: ModelGatesError, base_url: str) -> str:
    """The error, and what to do about it."""
    if isinstance(exc, AuthenticationError):
        return (
            f"The API key was refused ({exc}). Pass a valid management key with --api-key "
            "or MODELGATES_API_KEY."
        )
    if isinstance(exc, PermissionDeniedError):
        return (
            f"This key may not do that ({exc}). Managing keys needs a management key "
            "(ModelGates → Settings → Management API Keys)."
        )
    if isinstance(exc, NotFoundError):
        return f"{exc}. `modelgates keys list --all --include-disabled` shows every hash."
    if isinstance(exc, RateLimitError):
        after = f" for {exc.retry_after:g}s" if exc.retry_after is not None else ""
        return f"Rate limited{after} ({exc}); wait, then run the command again."
    if isinstance(exc, InternalServerError):
        return f"The server failed ({exc}); try again in a moment."
    if isinstance(exc, APIConnectionError):
        return (
            f"Could not reach {base_url}: {exc}. Check --base-url / MODELGATES_BASE_URL, "
            "or start a local server with `modelgates serve`."
        )
    if isinstance(exc, APIResponseValidationError):
        return f"The answer was not what the API promises ({exc}). Is {base_url} ModelGates?"
    if isinstance(exc, APIStatusError):
        return str(exc)
    return exc.message


def make_client() -> AsyncModelGates:
    """The client the options describe; a missing key or bad URL is a usage error."""
    options = settings()
    try:
        return AsyncModelGates(api_key=options.api_key, base_url=options.base_url)
    except InvalidRequestError as exc:
        raise click.UsageError(exc.message) from None
    except ModelGatesError:
        raise click.UsageError(
            "No API key: pass --api-key or set MODELGATES_API_KEY to a management key. "
            "No account? `modelgates serve` runs a local server, `modelgates demo` shows "
            "the SDK at work."
        ) from None


def run(work: Callable[[AsyncModelGates], Awaitable[T]]) -> T:
    """Run ``work`` with a client; map the SDK's errors to exit statuses and advice."""
    client = make_client()

    async def go() -> T:
        async with client:
            return await work(client)

    try:
        return asyncio.run(go())
    except InvalidRequestError as exc:
        raise click.UsageError(exc.message) from None
    except ModelGatesError as exc:
        raise APIFailure(explain(exc, client.base_url)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@common_options
@click.version_option(package_name="modelgates-async", prog_name="modelgates")
def cli() -> None:
    """Manage ModelGates API keys, run a local ModelGates server, or see the demo.

    Credentials come from --api-key / --base-url or MODELGATES_API_KEY /
    MODELGATES_BASE_URL. Exit status: 0 done, 1 API error, 2 usage error.
    """

"""The ground floor of the ``modelgates`` command: the top click group, the options every
command shares (``--api-key``, ``--base-url``, ``--profile``, ``--json``) and the settings
they fill, making the client, running a coroutine with it, and turning the SDK's errors
into advice and exit codes.

Exit codes (kept stable; scripts may rely on them):

- 0: done — also when a person answers "no" to a confirmation prompt (nothing was done, as
  they asked; like ``git clean -i`` and ``rm -i``).
- 1: the API or the network refused or failed, or a step after the API call failed (then
  the message says what was done, e.g. "the key was created").
- 2: a usage error — a bad argument, a missing API key, a file that cannot be read or
  written, a bad profile. Nothing was sent.
- 130: interrupted (Ctrl-C); a summary of what was done goes to stderr.

Errors go to stderr and say what to do next. With ``--json`` they are one JSON object on
stderr instead: ``{"error": {"kind": "usage"|"api"|"interrupted", "message": ...,
"exit_code": N}}`` (plus ``"type"`` and ``"status"`` for API errors). ``--api-key`` is
never printed.

Every other module of the package builds on this one; it imports only
:mod:`~modelgates_async.cli.config` and :mod:`~modelgates_async.cli.shared_limit`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import attrs
import click

from modelgates_async._bulk import DEFAULT_CONCURRENCY
from modelgates_async._client import API_KEY_ENV, BASE_URL_ENV, AsyncModelGates
from modelgates_async.cli.config import Profile, load_profile
from modelgates_async.cli.shared_limit import REDIS_KEY_ENV, REDIS_URL_ENV, shared_limiter
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
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "APIFailure",
    "ModelGatesGroup",
    "Settings",
    "cli",
    "common_options",
    "concurrency_option",
    "explain",
    "make_client",
    "redis_option",
    "run",
    "secrets_out_option",
    "settings",
]

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
"""Seconds per request unless a profile sets ``timeout`` (the client's own default)."""
EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a process ended by Ctrl-C."""


class APIFailure(click.ClickException):
    """The API or the network failed the command: exit status 1."""

    exit_code = EXIT_API_ERROR

    def __init__(self, message: str, *, error: ModelGatesError | None = None) -> None:
        super().__init__(message)
        self.error_type = type(error).__name__ if error is not None else None
        self.status = error.status if isinstance(error, APIStatusError) else None


@attrs.define
class Settings:
    """Options that every command shares, from the group or the command itself, and what
    to say if the command is interrupted."""

    api_key: str | None = None
    base_url: str | None = None
    profile: str | None = None
    json: bool = False
    interrupted: str = "Nothing was changed."
    """What a Ctrl-C leaves behind; commands update it as they go."""
    shares_limit: bool = False
    """The command takes ``--redis`` (:func:`redis_option`): its client may share a limiter."""
    redis_url: str | None = attrs.field(default=None, repr=False)  # may hold a password
    redis_key: str | None = None
    loaded_profile: Profile | None = attrs.field(default=None, repr=False)
    """The profile once :func:`profile` has read it: a command that makes several calls
    reads the config file (and runs an ``api_key_command``) once."""


F = TypeVar("F", bound=Callable[..., Any])


def _setting(flag: str, help: str, **more: Any) -> Callable[[F], F]:
    """An option that fills the :class:`Settings` field of its name (``--base-url``:
    ``base_url``) instead of a parameter of the command."""
    name = flag.removeprefix("--").replace("-", "_")

    def store(ctx: click.Context, _: click.Parameter, value: Any) -> Any:
        if value is not None and value is not False:
            setattr(ctx.ensure_object(Settings), name, value)
        return value

    return click.option(flag, expose_value=False, callback=store, help=help, **more)


_COMMON_OPTIONS = (
    _setting(
        "--api-key",
        "Management API key (default: $MODELGATES_API_KEY). Never printed.",
        metavar="KEY",
    ),
    _setting(
        "--base-url",
        "API base URL (default: $MODELGATES_BASE_URL, else https://modelgates.ai/api/v1).",
        metavar="URL",
    ),
    _setting(
        "--profile",
        "Profile of the config file to use (default: $MODELGATES_PROFILE).",
        metavar="NAME",
    ),
    _setting("--json", "Print JSON for programs instead of tables.", is_flag=True),
)


def common_options(function: F) -> F:
    """``--api-key``, ``--base-url``, ``--profile`` and ``--json``, on the group and on
    every command."""
    for option in reversed(_COMMON_OPTIONS):  # the first one applied is listed last
        function = option(function)
    return function


def redis_option(function: F) -> F:
    """``--redis URL``: the command's client shares its rate limit with every process using
    that Redis (else ``$MODELGATES_REDIS_URL``, else the profile's ``redis_url``), under
    ``--redis-key KEY`` (else ``$MODELGATES_REDIS_KEY``, the profile's ``redis_key``)."""

    def callback(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
        options = ctx.ensure_object(Settings)
        options.shares_limit = True
        if value:
            options.redis_url = value

    function = _setting(
        "--redis-key",
        "Name of the shared limit in that Redis: processes share one when URL and key "
        f"match (default: ${REDIS_KEY_ENV}, else the profile's redis_key, else modelgates, "
        "the library's default).",
        metavar="KEY",
    )(function)
    return click.option(
        "--redis",
        metavar="URL",
        expose_value=False,
        callback=callback,
        help="Share the rate limit with every process using this Redis, e.g. "
        f"redis://host:6379/0 (default: ${REDIS_URL_ENV}, else the profile's redis_url; "
        "needs the redis extra).",
    )(function)


def concurrency_option(what: str) -> Callable[[F], F]:
    """``--concurrency N`` (at least 1, default ``DEFAULT_CONCURRENCY``) of a bulk command;
    ``what`` names the calls that are in flight."""
    return click.option(
        "--concurrency",
        type=click.IntRange(min=1),
        default=DEFAULT_CONCURRENCY,
        show_default=True,
        help=f"{what} in flight at once (429s slow them down on their own).",
    )


def secrets_out_option(text: str) -> Callable[[F], F]:
    """``--out PATH``: where a command that creates keys writes their secrets."""
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help=text)


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


def profile() -> Profile:
    """The profile chosen by ``--profile`` or ``$MODELGATES_PROFILE`` (or the default),
    read once per command."""
    options = settings()
    if options.loaded_profile is None:
        chosen = options.profile or os.environ.get("MODELGATES_PROFILE") or None
        options.loaded_profile = load_profile(chosen)
    return options.loaded_profile


def credentials() -> tuple[str | None, str | None, Profile]:
    """``(api_key, base_url, profile)``: options first, then the environment, then the
    profile — so a variable set for one shell wins over the config file."""
    options = settings()
    chosen = profile()
    api_key = options.api_key or os.environ.get(API_KEY_ENV) or chosen.api_key
    base_url = options.base_url or os.environ.get(BASE_URL_ENV) or chosen.base_url
    return api_key, base_url, chosen


def make_client() -> AsyncModelGates:
    """The client the options describe; a missing key or bad URL is a usage error."""
    api_key, base_url, chosen = credentials()
    options = settings()
    limiter = None
    if options.shares_limit:
        limiter = shared_limiter(
            options.redis_url,
            chosen.redis_url,
            key_option=options.redis_key,
            profile_key=chosen.redis_key,
        )
    try:
        return AsyncModelGates(
            api_key=api_key,
            base_url=base_url,
            app_title=chosen.app_title,
            http_referer=chosen.http_referer,
            timeout=chosen.timeout if chosen.timeout is not None else DEFAULT_TIMEOUT,
            rate_limiter=limiter,
        )
    except InvalidRequestError as exc:
        raise click.UsageError(exc.message) from None
    except ModelGatesError:
        raise click.UsageError(
            "No API key: pass --api-key, set MODELGATES_API_KEY to a management key, or "
            "choose a profile with one (--profile). "
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
        raise APIFailure(explain(exc, client.base_url), error=exc) from None


# --- how a run ends -----------------------------------------------------------------------


def _wants_json(args: Sequence[str]) -> bool:
    # Read from the arguments too: a usage error may come before --json is parsed.
    head = list(args)
    if "--" in head:
        head = head[: head.index("--")]
    return "--json" in head


def _fail(json_errors: bool, kind: str, message: str, code: int, **more: Any) -> NoReturn:
    if json_errors:
        error = {"kind": kind, "message": message, "exit_code": code}
        error.update({k: v for k, v in more.items() if v is not None})
        click.echo(json.dumps({"error": error}), err=True)
    else:
        click.echo(f"Error: {message}" if kind != "interrupted" else message, err=True)
    sys.exit(code)


class ModelGatesGroup(click.Group):
    """The top group: ends every run with a documented exit code, errors as JSON on
    stderr with ``--json``, and a summary (never a bare "Aborted!") on Ctrl-C."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line (see :class:`click.Group`) and exit with its status."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(args) if args is not None else sys.argv[1:]
        state = Settings()
        try:
            code = super().main(
                argv, prog_name, complete_var, standalone_mode=False, obj=state, **extra
            )
        except (click.Abort, KeyboardInterrupt, EOFError):
            _fail(
                state.json or _wants_json(argv),
                "interrupted",
                f"Interrupted. {state.interrupted}",
                EXIT_INTERRUPTED,
            )
        except click.UsageError as exc:
            if state.json or _wants_json(argv):
                _fail(True, "usage", exc.format_message(), exc.exit_code)
            exc.show()
            sys.exit(exc.exit_code)
        except APIFailure as exc:
            _fail(
                state.json or _wants_json(argv),
                "api",
                exc.format_message(),
                exc.exit_code,
                type=exc.error_type,
                status=exc.status,
            )
        except click.ClickException as exc:
            kind = "usage" if exc.exit_code == EXIT_USAGE else "api"
            _fail(state.json or _wants_json(argv), kind, exc.format_message(), exc.exit_code)
        sys.exit(code if isinstance(code, int) else EXIT_OK)


@click.group(
    name="modelgates",
    cls=ModelGatesGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@common_options
@click.version_option(package_name="modelgates-async", prog_name="modelgates")
def cli() -> None:
    """Manage ModelGates API keys, run a local ModelGates server, or see the demo.

    Credentials come from --api-key / --base-url, then MODELGATES_API_KEY /
    MODELGATES_BASE_URL, then a profile of the config file (--profile,
    MODELGATES_PROFILE). Exit status: 0 done (or declined at a prompt), 1 API error,
    2 usage error, 130 interrupted. With --json, errors are a JSON object on stderr.

    \b
    Shell completion (bash; zsh_source for zsh):
        eval "$(_MODELGATES_COMPLETE=bash_source modelgates)"
    """

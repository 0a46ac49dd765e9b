"""The commands of ``modelgates`` (click + rich); ``modelgates_async.cli:main`` runs them.

Exit codes: 0 done, 1 the API (or the network) refused or failed, 2 a usage error — a bad
argument, a missing API key, a file that cannot be read. Errors go to stderr and say what
to do next. Secrets: ``--api-key`` is never printed; a created key's secret is printed
only by the single-key commands (``create``, ``rotate``) unless ``--secret-file`` is given,
and ``bulk-create`` writes secrets to a new file of mode 0600, never to the terminal
unless ``--show-secrets`` asks for it.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import attrs
import click
from rich.console import Console
from rich.table import Table

from modelgates_async._bulk import DEFAULT_CONCURRENCY, KeySpec
from modelgates_async._client import AsyncModelGates
from modelgates_async._types import NOT_GIVEN
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
    RotationError,
)
from modelgates_async.models import (
    APIKey,
    CreatedKey,
    CurrentKey,
    RetireMode,
    parse_datetime,
    unstructure,
    usage_in_limit_window,
)

__all__ = ["cli"]

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
    return click.get_current_context().ensure_object(Settings)


# --- output -------------------------------------------------------------------------------


def console(*, stderr: bool = False) -> Console:
    """A rich console; wide when not a terminal so that hashes are not folded."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=200, no_color=True)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def money(value: float | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def key_table(keys: list[APIKey], *, title: str | None = None) -> Table:
    """One row a key: the hash to pass to other commands, then settings and spend."""
    table = Table(title=title, title_justify="left")
    table.add_column("hash", no_wrap=True, style="cyan")
    table.add_column("name")
    table.add_column("label", no_wrap=True)
    table.add_column("status")
    table.add_column("limit", justify="right")
    table.add_column("reset")
    table.add_column("spent in window", justify="right")
    table.add_column("created", no_wrap=True)
    for key in keys:
        table.add_row(
            key.hash,
            key.name,
            key.label,
            "disabled" if key.disabled else "enabled",
            money(key.limit),
            key.limit_reset.value if key.limit_reset else "never",
            money(usage_in_limit_window(key)),
            key.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    return table


def detail_table(record: APIKey | CurrentKey) -> Table:
    """Every field of a record, one per row."""
    table = Table(show_header=False, box=None)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in unstructure(record).items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, default=str)
        table.add_row(name, "—" if value is None else str(value))
    return table


def show_key(key: APIKey) -> None:
    if settings().json:
        print_json(unstructure(key))
    else:
        console().print(detail_table(key))


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


# --- argument types -----------------------------------------------------------------------


def parse_limit(_: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--limit``: a number of USD, ``none`` for no limit, or not given at all."""
    if value is None:
        return NOT_GIVEN
    if value.strip().lower() in ("none", "null"):
        return None
    try:
        return float(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a number of USD (or 'none' for no limit)", param=param
        ) from None


def parse_timestamp(_: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--expires-at``: ISO 8601 (no zone: UTC), ``none`` for never, or not given."""
    if value is None:
        return NOT_GIVEN
    if value.strip().lower() in ("none", "null", "never"):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 date or timestamp", param=param
        ) from None


RESETS = click.Choice(["daily", "weekly", "monthly", "none"], case_sensitive=False)


def _reset(value: str | None) -> Any:
    if value is None:
        return NOT_GIVEN
    return None if value.lower() == "none" else value.lower()


# --- secrets ------------------------------------------------------------------------------


@contextmanager
def secret_file(path: Path) -> Iterator[IO[str]]:
    """A new file that only its owner can read (0600); an existing one is never replaced."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.UsageError(
            f"{path} already exists; secrets files are never overwritten. Choose another path."
        ) from None
    except OSError as exc:
        raise click.UsageError(f"Cannot create {path}: {exc.strerror}") from None
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)  # whatever the umask says
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yield handle


def secret_line(created: CreatedKey, **extra: Any) -> str:
    return json.dumps(
        {**extra, "name": created.data.name, "hash": created.data.hash, "key": created.key}
    )


def hand_over_secret(created: CreatedKey, path: Path | None, *, json_data: Any) -> None:
    """Give the new secret to the user: into ``path`` (0600) if given, else on stdout."""
    if path is not None:
        with secret_file(path) as handle:
            handle.write(secret_line(created) + "\n")
    if settings().json:
        print_json({**json_data, **({} if path is not None else {"key": created.key})})
        return
    out = console()
    out.print(detail_table(created.data))
    if path is not None:
        out.print(f"The secret is in {path} (mode 0600); it is shown nowhere else.")
    else:
        out.print("Secret (shown only this once — store it now):")
        click.echo(created.key)


# --- commands -----------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@common_options
@click.version_option(package_name="modelgates-async", prog_name="modelgates")
def cli() -> None:
    """Manage ModelGates API keys, run a local ModelGates server, or see the demo.

    Credentials come from --api-key / --base-url or MODELGATES_API_KEY /
    MODELGATES_BASE_URL. Exit status: 0 done, 1 API error, 2 usage error.
    """


@cli.group()
@common_options
def keys() -> None:
    """List, create, change, rotate and delete API keys."""


@keys.command("list")
@click.option("--all", "every_page", is_flag=True, help="Every page, not just the first 100.")
@click.option("--include-disabled", is_flag=True, help="Show disabled keys too.")
@click.option("--workspace", metavar="ID", help="A workspace other than the default one.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many keys.")
@common_options
def list_keys(every_page: bool, include_disabled: bool, workspace: str | None, offset: int) -> None:
    """List keys, most recent first."""

    async def work(mg: AsyncModelGates) -> list[APIKey]:
        if every_page:
            return [
                key async for key in mg.api_keys.iter(include_disabled, workspace, offset=offset)
            ]
        return await mg.api_keys.list(offset, include_disabled, workspace)

    found = run(work)
    if settings().json:
        print_json([unstructure(key) for key in found])
        return
    console().print(key_table(found, title=f"{len(found)} key(s)"))


@keys.command("get")
@click.argument("key_hash", metavar="HASH")
@common_options
def get_key(key_hash: str) -> None:
    """Show one key."""
    show_key(run(lambda mg: mg.api_keys.get(key_hash)))


@keys.command("create")
@click.argument("name")
@click.option(
    "--limit", metavar="USD", callback=parse_limit, help="Spending limit in USD ('none': no limit)."
)
@click.option("--limit-reset", type=RESETS, help="When the limit starts over (midnight UTC).")
@click.option("--byok/--no-byok", default=None, help="Count BYOK usage against the limit.")
@click.option(
    "--expires-at",
    metavar="WHEN",
    callback=parse_timestamp,
    help="Expiry, ISO 8601 (no zone given: UTC).",
)
@click.option("--workspace", metavar="ID", help="Create it in this workspace.")
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the new secret to this new file (mode 0600) instead of the terminal.",
)
@common_options
def create_key(
    name: str,
    limit: Any,
    limit_reset: str | None,
    byok: bool | None,
    expires_at: Any,
    workspace: str | None,
    secret_file: Path | None,
) -> None:
    """Create a key; its secret is shown once."""
    if secret_file is not None and secret_file.exists():
        raise click.UsageError(f"{secret_file} already exists; choose another --secret-file.")
    created = run(
        lambda mg: mg.api_keys.create(
            name,
            limit=limit,
            limit_reset=_reset(limit_reset),
            include_byok_in_limit=NOT_GIVEN if byok is None else byok,
            expires_at=expires_at,
            workspace_id=NOT_GIVEN if workspace is None else workspace,
        )
    )
    hand_over_secret(created, secret_file, json_data={"data": unstructure(created.data)})


@keys.command("update")
@click.argument("key_hash", metavar="HASH")
@click.option("--name", help="A new name.")
@click.option(
    "--limit", metavar="USD", callback=parse_limit, help="Spending limit in USD; 'none' removes it."
)
@click.option("--limit-reset", type=RESETS, help="daily, weekly, monthly; 'none' never resets.")
@click.option("--byok/--no-byok", default=None, help="Count BYOK usage against the limit.")
@common_options
def update_key(
    key_hash: str, name: str | None, limit: Any, limit_reset: str | None, byok: bool | None
) -> None:
    """Change a key's name, limit, reset or BYOK setting (only what you pass)."""
    if name is None and limit is NOT_GIVEN and limit_reset is None and byok is None:
        raise click.UsageError(
            "Nothing to change: pass --name, --limit, --limit-reset or --byok/--no-byok "
            "(`modelgates keys disable HASH` disables a key)."
        )
    show_key(
        run(
            lambda mg: mg.api_keys.update(
                key_hash,
                name=NOT_GIVEN if name is None else name,
                limit=limit,
                limit_reset=_reset(limit_reset),
                include_byok_in_limit=NOT_GIVEN if byok is None else byok,
            )
        )
    )


@keys.command("disable")
@click.argument("key_hash", metavar="HASH")
@common_options
def disable_key(key_hash: str) -> None:
    """Disable a key (it stops working; enable brings it back)."""
    show_key(run(lambda mg: mg.api_keys.update(key_hash, disabled=True)))


@keys.command("enable")
@click.argument("key_hash", metavar="HASH")
@common_options
def enable_key(key_hash: str) -> None:
    """Enable a disabled key."""
    show_key(run(lambda mg: mg.api_keys.update(key_hash, disabled=False)))


@keys.command("delete")
@click.argument("key_hash", metavar="HASH")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
def delete_key(key_hash: str, yes: bool) -> None:
    """Delete a key for good."""
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("Deleting cannot be undone: pass --yes to confirm.")
        click.confirm(f"Delete key {key_hash} for good?", abort=True)
    run(lambda mg: mg.api_keys.delete(key_hash))
    if settings().json:
        print_json({"deleted": True, "hash": key_hash})
    else:
        console().print(f"Deleted {key_hash}.")


@keys.command("current")
@common_options
def current_key() -> None:
    """Show the key these credentials belong to."""
    record = run(lambda mg: mg.api_keys.get_current_key_metadata())
    if settings().json:
        print_json(unstructure(record))
    else:
        console().print(detail_table(record))


@keys.command("rotate")
@click.argument("key_hash", metavar="HASH")
@click.option(
    "--retire",
    type=click.Choice(["disable", "delete"]),
    default="disable",
    show_default=True,
    help="What happens to the old key once the new one exists.",
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the new secret to this new file (mode 0600) instead of the terminal.",
)
@common_options
def rotate_key(key_hash: str, retire: str, secret_file: Path | None) -> None:
    """Replace a key with a new one of the same settings, then retire the old one."""
    if secret_file is not None and secret_file.exists():
        raise click.UsageError(f"{secret_file} already exists; choose another --secret-file.")
    mode: RetireMode = "delete" if retire == "delete" else "disable"

    async def work(mg: AsyncModelGates) -> tuple[CreatedKey | None, RotationError | None]:
        try:
            return await mg.api_keys.rotate(key_hash, retire=mode), None
        except RotationError as exc:
            return exc.new_key, exc

    created, failure = run(work)
    if created is not None:
        # Even when retiring failed: this is the only chance to keep the new secret.
        hand_over_secret(
            created,
            secret_file,
            json_data={
                "old_hash": key_hash,
                "retired": failure is None,
                "data": unstructure(created.data),
            },
        )
    if failure is not None:
        raise APIFailure(failure.message)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port (0: any free one).")
@click.option(
    "--management-key",
    metavar="KEY",
    help="Management key (default: $MODELGATES_MANAGEMENT_KEY, else a new one, printed once).",
)
@click.option("--db", type=click.Path(dir_okay=False), help="Keep keys in this SQLite file.")
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    metavar="N",
    help="Answer 429 past N requests a second per key.",
)
@click.option("--access-log", is_flag=True, help="Log every request.")
def serve(
    host: str,
    port: int,
    management_key: str | None,
    db: str | None,
    rate_limit: float | None,
    access_log: bool,
) -> None:
    """Run a local ModelGates server until Ctrl-C (for development, tests and demos)."""
    from modelgates_async.server import serve as run_server

    try:
        run_server(
            host=host,
            port=port,
            management_key=management_key,
            db=db,
            rate_limit=rate_limit,
            access_log=access_log,
            echo=click.echo,
        )
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise click.UsageError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. "
            "Choose another --port (0 picks a free one)."
        ) from None


@cli.command()
@click.option(
    "--live",
    is_flag=True,
    help="Run against the real account of MODELGATES_API_KEY (creates, rotates, disables "
    "and then deletes demo keys there).",
)
@click.option("--keep", is_flag=True, help="With --live: keep the demo keys afterwards.")
@common_options
def demo(live: bool, keep: bool) -> None:
    """Show the SDK at work on a local server: bulk provisioning, usage, rotation, cut-offs."""
    from modelgates_async._demo import run_demo

    options = settings()
    api_key = options.api_key or os.environ.get("MODELGATES_API_KEY") or None
    if api_key and not live:
        raise click.UsageError(
            "MODELGATES_API_KEY (or --api-key) is set, so the demo would create, rotate and "
            "disable keys in that real account. Unset it to run on a local server, or pass "
            "--live to do it for real."
        )
    if live and not api_key:
        raise click.UsageError("--live needs a management key: set MODELGATES_API_KEY.")
    try:
        run_demo(
            console(), live_key=api_key if live else None, base_url=options.base_url, keep=keep
        )
    except InvalidRequestError as exc:
        raise click.UsageError(exc.message) from None
    except ModelGatesError as exc:
        raise APIFailure(explain(exc, options.base_url or "the server")) from None


# --- bulk-create --------------------------------------------------------------------------

SPEC_FIELDS = (
    "name",
    "limit",
    "limit_reset",
    "include_byok_in_limit",
    "expires_at",
    "creator_user_id",
    "workspace_id",
)
LISTED_KEYS = 50
"""bulk-create lists the keys it made on the terminal only up to this many."""
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


@attrs.frozen
class Row:
    """One line of a bulk-create file: its spec, or why it has none."""

    line: int
    spec: KeySpec | Mapping[str, Any] | None
    error: InvalidRequestError | None = None
    name: str = ""


def csv_spec(cells: Mapping[str, str]) -> KeySpec:
    """A spec from CSV text cells: empty is "not given", ``none`` is null."""
    values: dict[str, Any] = {}
    for field, raw in cells.items():
        text = raw.strip()
        if not text:
            continue
        null = text.lower() in ("none", "null")
        if field == "limit":
            try:
                values[field] = None if null else float(text)
            except ValueError:
                raise InvalidRequestError(
                    f"limit {text!r} is not a number", argument=field
                ) from None
        elif field == "include_byok_in_limit":
            if text.lower() not in _TRUE | _FALSE:
                raise InvalidRequestError(
                    f"include_byok_in_limit {text!r} is not true or false", argument=field
                )
            values[field] = text.lower() in _TRUE
        elif field == "expires_at":
            try:
                values[field] = None if null else parse_datetime(text)
            except ValueError:
                raise InvalidRequestError(
                    f"expires_at {text!r} is not an ISO 8601 timestamp", argument=field
                ) from None
        elif field == "name":
            values[field] = raw
        else:
            values[field] = None if null else text
    if "name" not in values:
        raise InvalidRequestError("the name is empty", argument="name")
    return KeySpec(**values)


def read_specs(path: Path) -> list[Row]:
    """The rows of a ``.csv`` (header: the create() argument names) or ``.jsonl`` file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise click.UsageError(f"{path}: expected a .csv or .jsonl file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise click.UsageError(f"Cannot read {path}: {exc.strerror}") from None
    rows: list[Row] = []
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        header = reader.fieldnames or []
        unknown = [name for name in header if name not in SPEC_FIELDS]
        if "name" not in header or unknown:
            raise click.UsageError(
                f"{path}: the header must name a 'name' column and only columns among "
                f"{', '.join(SPEC_FIELDS)}"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        for number, record in enumerate(reader, start=2):
            if not any(
                (value or "").strip() for value in record.values() if isinstance(value, str)
            ):
                continue
            if None in record:  # more cells than the header has names
                error = InvalidRequestError("more cells than columns in the header")
                rows.append(Row(number, None, error))
                continue
            cells = {k: v or "" for k, v in record.items()}
            name = cells.get("name", "").strip()
            try:
                rows.append(Row(number, csv_spec(cells), name=name))
            except InvalidRequestError as exc:
                rows.append(Row(number, None, exc, name=name))
        return rows
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            spec = json.loads(line)
        except ValueError as exc:
            rows.append(Row(number, None, InvalidRequestError(f"not JSON: {exc}")))
            continue
        if not isinstance(spec, dict):
            rows.append(Row(number, None, InvalidRequestError("not a JSON object")))
            continue
        rows.append(Row(number, spec, name=str(spec.get("name", ""))))
    return rows


def default_secrets_path(source: Path) -> Path:
    return source.with_name(source.stem + ".secrets.jsonl")


@keys.command("bulk-create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="New file for the secrets, mode 0600 (default: FILE's name + .secrets.jsonl).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Creates in flight at once (429s slow them down on their own).",
)
@click.option("--show-secrets", is_flag=True, help="Also print the secrets on the terminal.")
@common_options
def bulk_create(file: Path, out: Path | None, concurrency: int, show_secrets: bool) -> None:
    """Create one key per line of a CSV or JSONL file; secrets go to a 0600 file.

    CSV: a header row of create() argument names (name, limit, limit_reset,
    include_byok_in_limit, expires_at, creator_user_id, workspace_id); an empty cell is not
    sent, 'none' sends null. JSONL: one JSON object of those names per line. A bad line
    fails alone; the others are created. Exit status 1 if any line failed.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    rows = read_specs(file)
    out = out if out is not None else default_secrets_path(file)
    sendable = [row for row in rows if row.spec is not None]
    failures: list[tuple[Row, str]] = [(row, str(row.error)) for row in rows if row.error]
    created: list[tuple[Row, CreatedKey]] = []
    progress = Progress(
        TextColumn("creating keys"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        console=console(stderr=True),
        transient=True,
        disable=not Console(stderr=True).is_terminal,
    )

    with secret_file(out) as secrets:

        async def work(mg: AsyncModelGates) -> None:
            task = progress.add_task("create", total=len(sendable), failed=0)
            failed = 0
            specs = [row.spec for row in sendable if row.spec is not None]
            items = mg.api_keys.create_many_iter(specs, concurrency=concurrency)
            async for item in items:
                row = sendable[item.index]
                if item.value is not None:
                    # Written at once: a crash later must not lose a key already made.
                    secrets.write(secret_line(item.value, line=row.line) + "\n")
                    secrets.flush()
                    created.append((row, item.value))
                else:
                    failed += 1
                    reason = item.error
                    failures.append(
                        (
                            row,
                            explain(reason, mg.base_url)
                            if isinstance(reason, ModelGatesError)
                            else str(reason),
                        )
                    )
                progress.update(task, advance=1, failed=failed)

        with progress:
            if sendable:
                run(work)
    if not created:
        out.unlink()
    report_bulk(file, out if created else None, rows, created, failures, show_secrets)
    if failures:
        raise click.exceptions.Exit(EXIT_API_ERROR)


def report_bulk(
    source: Path,
    out: Path | None,
    rows: list[Row],
    created: list[tuple[Row, CreatedKey]],
    failures: list[tuple[Row, str]],
    show_secrets: bool,
) -> None:
    created.sort(key=lambda pair: pair[0].line)
    failures.sort(key=lambda pair: pair[0].line)
    if settings().json:
        data: dict[str, Any] = {
            "file": str(source),
            "lines": len(rows),
            "created": len(created),
            "failed": len(failures),
            "secrets_file": None if out is None else str(out),
            "keys": [
                {
                    "line": row.line,
                    "name": key.data.name,
                    "hash": key.data.hash,
                    **({"key": key.key} if show_secrets else {}),
                }
                for row, key in created
            ],
            "errors": [{"line": row.line, "name": row.name, "error": why} for row, why in failures],
        }
        print_json(data)
        return
    out_console = console()
    title = f"Created {len(created)} of {len(rows)} keys from {source}"
    if len(created) > LISTED_KEYS and not show_secrets:
        # Thousands of rows help nobody on a terminal; the secrets file lists them all.
        out_console.print(f"{title}; each one's hash and secret are in the secrets file.")
    else:
        table = Table(title=title, title_justify="left")
        table.add_column("line", justify="right", no_wrap=True)
        table.add_column("name", no_wrap=True)
        table.add_column("hash", overflow="fold", style="cyan")
        table.add_column("label", no_wrap=True)
        if show_secrets:
            table.add_column("secret", overflow="fold")
        for row, key in created:
            cells = [str(row.line), key.data.name, key.data.hash, key.data.label]
            if show_secrets:
                cells.append(key.key)
            table.add_row(*cells)
        out_console.print(table)
    if out is not None:
        out_console.print(
            f"Secrets: {out} (mode 0600). They are shown nowhere else: keep that file safe."
        )
    if failures:
        errors = Table(title=f"{len(failures)} line(s) failed", title_justify="left")
        errors.add_column("line", justify="right")
        errors.add_column("name")
        errors.add_column("error", overflow="fold")
        for row, why in failures:
            errors.add_row(str(row.line), row.name, why)
        out_console.print(errors)
        out_console.print("Fix those lines and run bulk-create on just them (with a new --out).")

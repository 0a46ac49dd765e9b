"""``modelgates keys``: list, get, create, update, disable, enable, delete, current and rotate
— one API call each, after resolving a hash prefix (:mod:`~modelgates_async.cli.hashes`);
``bulk-create`` lives in :mod:`modelgates_async.cli.bulk` — and the argument types of their
options (``--limit``, ``--expires-at``, ``--limit-reset``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from modelgates_async._client import AsyncModelGates
from modelgates_async._convert import unstructure
from modelgates_async._types import NOT_GIVEN
from modelgates_async.cli.app import APIFailure, common_options, run, settings
from modelgates_async.cli.hashes import resolve_hash, resolve_key
from modelgates_async.cli.keytable import key_table
from modelgates_async.cli.output import console, detail_table, print_json, show_key
from modelgates_async.cli.progress import progress
from modelgates_async.cli.secrets import SecretsFile, hand_over_secret
from modelgates_async.errors import RotationError
from modelgates_async.models import APIKey, CreatedKey, RetireMode, parse_datetime

__all__ = ["keys", "parse_limit", "parse_timestamp"]

# --- argument types -----------------------------------------------------------------------


def _optional(
    param: click.Parameter,
    value: str | None,
    nones: tuple[str, ...],
    parse: Callable[[str], Any],
    refusal: str,
) -> Any:
    """NOT_GIVEN when the option is absent, None when it says one of ``nones``, else the
    parsed value; a value ``parse`` refuses is a bad parameter (``refusal`` says why)."""
    if value is None:
        return NOT_GIVEN
    if value.strip().lower() in nones:
        return None
    try:
        return parse(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not {refusal}", param=param) from None


def parse_limit(_: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--limit``: a number of USD, ``none`` for no limit, or not given at all."""
    refusal = "a number of USD (or 'none' for no limit)"
    return _optional(param, value, ("none", "null"), float, refusal)


def parse_timestamp(_: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--expires-at``: ISO 8601 (no zone: UTC), ``none`` for never, or not given."""
    refusal = "an ISO 8601 date or timestamp"
    return _optional(param, value, ("none", "null", "never"), parse_datetime, refusal)


def stdin_is_terminal() -> bool:
    """Whether a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


RESETS = click.Choice(["daily", "weekly", "monthly", "none"], case_sensitive=False)
_secret_file_option = click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the new secret to this new file (mode 0600) instead of the terminal.",
)
"""``--secret-file``, of the commands that make a key (create, rotate)."""


def _reset(value: str | None) -> Any:
    if value is None:
        return NOT_GIVEN
    return None if value.lower() == "none" else value.lower()


@click.group()
@common_options
def keys() -> None:
    """List, create, change, rotate and delete API keys."""


@keys.command("list")
@click.option("--all", "every_page", is_flag=True, help="Every page, not just the first 100.")
@click.option("--include-disabled", is_flag=True, help="Show disabled keys too.")
@click.option(
    "--include-expired", is_flag=True, help="Show expired keys too (expires_at in the past)."
)
@click.option("--workspace", metavar="ID", help="A workspace other than the default one.")
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many keys.")
@common_options
def list_keys(
    every_page: bool,
    include_disabled: bool,
    include_expired: bool,
    workspace: str | None,
    offset: int,
) -> None:
    """List keys, most recent first, in the columns the terminal has room for (disabled and
    expired keys only when asked).

    HASH columns show the full hash, or a prefix unique among the listed keys when the
    terminal is narrow; every command that takes a HASH accepts such a prefix.
    """

    async def work(mg: AsyncModelGates) -> tuple[list[APIKey], int]:
        if every_page:
            found: list[APIKey] = []
            with progress("listing keys", total_known=False) as bar:
                task = bar.add_task("list", total=None, failed=0)
                walk = mg.api_keys.iter(include_disabled, workspace, include_expired, offset=offset)
                async for key in walk:
                    found.append(key)
                    bar.update(task, advance=1)
        else:
            found = await mg.api_keys.list(offset, include_disabled, workspace, include_expired)
        hidden = 0
        if not found and not include_disabled:
            # Say why the table is empty: often every key is disabled.
            hidden = len(await mg.api_keys.list(offset, True, workspace, include_expired))
        return found, hidden

    found, hidden = run(work)
    if settings().json:
        print_json([unstructure(key) for key in found])
        return
    out = console()
    if found:
        out.print(key_table(found, width=out.width, title=f"{len(found)} key(s)"))
        return
    if hidden:
        more = "+" if hidden >= 100 else ""
        out.print(
            f"No enabled keys to show: {hidden}{more} disabled key(s) are hidden. "
            "Add --include-disabled to see them."
        )
    elif offset:
        out.print(f"No keys past offset {offset}. Try a smaller --offset.")
    elif workspace:
        out.print(f"No keys in workspace {workspace}.")
    else:
        out.print("No keys yet. `modelgates keys create NAME` makes one.")


@keys.command("get")
@click.argument("key_hash", metavar="HASH")
@common_options
def get_key(key_hash: str) -> None:
    """Show one key (HASH: the hash, or a unique prefix of it)."""
    show_key(run(lambda mg: resolve_key(mg, key_hash)))


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
@click.option("--external-user", metavar="ID", help="Your identity for the key's owner.")
@click.option(
    "--external-api-key-env",
    metavar="VAR",
    help="Name of an environment variable holding the external API key (32+ characters; "
    "needs --external-user). A secret: never given on the command line itself.",
)
@_secret_file_option
@common_options
def create_key(
    name: str,
    limit: Any,
    limit_reset: str | None,
    byok: bool | None,
    expires_at: Any,
    workspace: str | None,
    external_user: str | None,
    external_api_key_env: str | None,
    secret_file: Path | None,
) -> None:
    """Create a key; its secret is shown once (or written to --secret-file)."""
    external_api_key = _external_api_key(external_api_key_env)
    # The destination exists before the key does: a secret with nowhere to go is lost.
    with SecretsFile(secret_file) if secret_file is not None else nullcontext() as destination:
        settings().interrupted = (
            "The key may have been created without its secret reaching this machine: "
            "check `modelgates keys list` and delete it if so."
        )
        created = run(
            lambda mg: mg.api_keys.create(
                name,
                limit=limit,
                limit_reset=_reset(limit_reset),
                include_byok_in_limit=NOT_GIVEN if byok is None else byok,
                expires_at=expires_at,
                workspace_id=NOT_GIVEN if workspace is None else workspace,
                external_user=external_user,
                external_api_key=external_api_key,
            )
        )
        hand_over_secret(created, destination, json_data={"data": unstructure(created.data)})


def _external_api_key(variable: str | None) -> str | None:
    """The external API key from the environment variable ``--external-api-key-env`` names
    (a secret on the command line would sit in shell history and ``ps``)."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise click.UsageError(
            f"--external-api-key-env: the environment variable {variable} is not set or empty."
        )
    return value


@keys.command("update")
@click.argument("key_hash", metavar="HASH")
@click.option("--name", help="A new name.")
@click.option(
    "--limit", metavar="USD", callback=parse_limit, help="Spending limit in USD; 'none' removes it."
)
@click.option("--limit-reset", type=RESETS, help="daily, weekly, monthly; 'none' never resets.")
@click.option("--byok/--no-byok", default=None, help="Count BYOK usage against the limit.")
@click.option("--workspace", metavar="ID", help="Move the key to this workspace.")
@common_options
def update_key(
    key_hash: str,
    name: str | None,
    limit: Any,
    limit_reset: str | None,
    byok: bool | None,
    workspace: str | None,
) -> None:
    """Change a key's name, limit, reset or BYOK setting, or move it to another workspace
    (only what you pass)."""
    if (name, limit_reset, byok, workspace) == (None, None, None, None) and limit is NOT_GIVEN:
        raise click.UsageError(
            "Nothing to change: pass --name, --limit, --limit-reset, --byok/--no-byok or "
            "--workspace (`modelgates keys disable HASH` disables a key)."
        )
    settings().interrupted = "The change may or may not have been made: check with `keys get`."

    async def work(mg: AsyncModelGates) -> APIKey:
        return await mg.api_keys.update(
            await resolve_hash(mg, key_hash),
            name=NOT_GIVEN if name is None else name,
            limit=limit,
            limit_reset=_reset(limit_reset),
            include_byok_in_limit=NOT_GIVEN if byok is None else byok,
            workspace_id=NOT_GIVEN if workspace is None else workspace,
        )

    show_key(run(work))


@keys.command("disable")
@click.argument("key_hash", metavar="HASH")
@common_options
def disable_key(key_hash: str) -> None:
    """Disable a key (it stops working; enable brings it back)."""
    show_key(run(lambda mg: _set_disabled(mg, key_hash, True)))


@keys.command("enable")
@click.argument("key_hash", metavar="HASH")
@common_options
def enable_key(key_hash: str) -> None:
    """Enable a disabled key."""
    show_key(run(lambda mg: _set_disabled(mg, key_hash, False)))


async def _set_disabled(mg: AsyncModelGates, typed: str, disabled: bool) -> APIKey:
    full = await resolve_hash(mg, typed)
    settings().interrupted = (
        f"The key may or may not have been {'disabled' if disabled else 'enabled'}: "
        "check with `modelgates keys get`."
    )
    return await mg.api_keys.update(full, disabled=disabled)


@keys.command("delete")
@click.argument("key_hash", metavar="HASH")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@common_options
def delete_key(key_hash: str, yes: bool) -> None:
    """Delete a key for good (asks first unless --yes)."""
    if yes:
        full = run(lambda mg: resolve_hash(mg, key_hash))
    else:
        if not stdin_is_terminal():
            raise click.UsageError("Deleting cannot be undone: pass --yes to confirm.")
        key = run(lambda mg: resolve_key(mg, key_hash))
        full = key.hash
        if not click.confirm(f"Delete key {key.name!r} ({key.hash}) for good?", err=True):
            # A "no" is the user's choice, not a failure: exit 0, nothing done.
            if settings().json:
                print_json({"deleted": False, "hash": full, "declined": True})
            else:
                console().print("Not deleted.")
            return
    settings().interrupted = "The key may or may not have been deleted: check with `keys get`."
    run(lambda mg: mg.api_keys.delete(full))
    if settings().json:
        print_json({"deleted": True, "hash": full})
    else:
        console().print(f"Deleted {full}.")


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
@_secret_file_option
@common_options
def rotate_key(key_hash: str, retire: str, secret_file: Path | None) -> None:
    """Replace a key with a new one of the same settings, then retire the old one.

    The new secret is shown once (or written to --secret-file, created before anything is
    sent). The old key is disabled (default) or deleted once the new one exists; the
    output says which, and if retiring fails the old key still works (exit status 1).
    """
    mode: RetireMode = "delete" if retire == "delete" else "disable"

    async def work(mg: AsyncModelGates) -> tuple[str, CreatedKey | None, RotationError | None]:
        full = await resolve_hash(mg, key_hash)
        settings().interrupted = (
            "The rotation may have been half done: check `modelgates keys list "
            "--include-disabled` for a new key of the same name."
        )
        try:
            return full, await mg.api_keys.rotate(full, retire=mode), None
        except RotationError as exc:
            return full, exc.new_key, exc

    with SecretsFile(secret_file) if secret_file is not None else nullcontext() as destination:
        old_hash, created, failure = run(work)
        retired = "disabled" if mode == "disable" else "deleted"
        if created is not None:
            # Even when retiring failed: this is the only chance to keep the new secret.
            hand_over_secret(
                created,
                destination,
                json_data={
                    "old_hash": old_hash,
                    "retired": failure is None,
                    "old_key": "still enabled" if failure is not None else retired,
                    "data": unstructure(created.data),
                },
            )
    if failure is not None:
        raise APIFailure(failure.message, error=failure)
    if not settings().json:
        undo = f" `modelgates keys enable {old_hash}` brings it back." if mode == "disable" else ""
        console().print(f"The old key {old_hash} was {retired}: it no longer works.{undo}")

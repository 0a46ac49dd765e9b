"""``modelgates keys``: list, get, create, update, disable, enable, delete, current and rotate
— one API call each (``bulk-create`` lives in :mod:`modelgates_async.cli.bulk`) — and the
argument types of their options (``--limit``, ``--expires-at``, ``--limit-reset``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from modelgates_async._client import AsyncModelGates
from modelgates_async._types import NOT_GIVEN
from modelgates_async._usecases import RetireMode, RotationError
from modelgates_async.cli.app import APIFailure, common_options, run, settings
from modelgates_async.cli.output import (
    console,
    detail_table,
    hand_over_secret,
    key_table,
    print_json,
    show_key,
)
from modelgates_async.models import APIKey, CreatedKey, parse_datetime, unstructure

__all__ = ["keys", "parse_limit", "parse_timestamp"]

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


@click.group()
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

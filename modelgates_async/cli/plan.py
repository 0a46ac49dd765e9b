"""``modelgates plan FILE``: what ``apply`` would change to make the account's keys what FILE
describes (read by :mod:`~modelgates_async.cli.fleet_file`, planned by
:mod:`~modelgates_async.cli.plan_model`), as a table fitted to the terminal, or JSON with
``--json``. Nothing is changed. Also the pieces ``apply`` shares: reading FILE, the
``--prune`` option, listing and planning, and the table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from modelgates_async._client import AsyncModelGates
from modelgates_async.cli.app import common_options, run, settings
from modelgates_async.cli.apply_run import ApplyPaths, Pending, list_live
from modelgates_async.cli.fleet_file import FLEET_FIELDS, DesiredKey, FleetFileError, read_fleet
from modelgates_async.cli.formatting import field_text
from modelgates_async.cli.keytable import unique_prefixes
from modelgates_async.cli.output import console, print_json
from modelgates_async.cli.plan_model import Plan, PlanError, make_plan
from modelgates_async.cli.progress import progress
from modelgates_async.models import parse_datetime

__all__ = ["LISTED_CHANGES", "build_plan", "plan", "plan_table", "prune_option", "read_file"]

LISTED_CHANGES = 50
"""The table lists at most this many keys of each action (``--json`` lists them all)."""
_SYMBOLS = {"create": "+", "update": "~", "disable": "-", "delete": "x"}

F = TypeVar("F", bound=Callable[..., Any])


def prune_option(function: F) -> F:
    """``--prune`` (disable the keys FILE does not name) / ``--prune=delete``."""
    return click.option(
        "--prune",
        type=click.Choice(["disable", "delete"]),
        is_flag=False,
        flag_value="disable",
        default=None,
        help="Also disable the keys FILE does not name (in FILE's workspaces); "
        "--prune=delete deletes them.",
    )(function)


class PruneCommand(click.Command):
    """A command whose bare ``--prune`` never takes the next argument (FILE) as its value:
    ``--prune FILE`` means ``--prune=disable FILE``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Attach ``disable`` to a bare ``--prune``, then parse as usual."""
        fixed = list(args)
        for index, arg in enumerate(fixed):
            if arg == "--":
                break
            following = fixed[index + 1] if index + 1 < len(fixed) else None
            if arg == "--prune" and following not in ("disable", "delete"):
                fixed[index] = "--prune=disable"
        return super().parse_args(ctx, fixed)


def load_pending(file: Path) -> Pending | None:
    """The creates an interrupted apply of FILE left pending; a usage error if unreadable."""
    try:
        return Pending.load(ApplyPaths.for_file(file).pending)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def read_file(file: Path) -> list[DesiredKey]:
    """FILE's keys; each problem of a bad FILE in one usage error (exit status 2)."""
    try:
        return read_fleet(file)
    except FleetFileError as exc:
        raise click.UsageError(str(exc)) from None


def workspaces(desired: Sequence[DesiredKey]) -> list[str | None]:
    """The workspaces FILE's entries are in (the default one when FILE is empty)."""
    seen = dict.fromkeys(key.workspace_id for key in desired)
    return list(seen) or [None]


async def build_plan(mg: AsyncModelGates, desired: Sequence[DesiredKey], prune: str | None) -> Plan:
    """List the account's keys in FILE's workspaces and plan; a plan that would have to
    guess is a usage error (nothing sent)."""
    bar = progress("listing the account's keys", total_known=False)
    with bar:
        task = bar.add_task("list", total=None, failed=0)
        live = await list_live(mg, workspaces(desired), lambda count: bar.advance(task, count))
    try:
        plan = make_plan(desired, live, prune=prune)
    except PlanError as exc:
        raise click.UsageError(str(exc)) from None
    return plan


def _shown(field: str, value: Any) -> str:
    if field == "expires_at" and isinstance(value, str):
        value = parse_datetime(value)
    return field_text(field, value)


def plan_table(plan: Plan, *, title: str | None = None) -> Table:
    """The plan as a table: one row per key to change (at most :data:`LISTED_CHANGES` of
    each action), its action symbol, name, hash prefix and what changes."""
    hashes = [u.key.hash for u in plan.updates] + [p.key.hash for p in plan.prunes]
    prefixes = unique_prefixes(hashes)
    table = Table(title=title, title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("hash", no_wrap=True, style="cyan")
    table.add_column("changes", overflow="fold")

    def more(count: int, action: str) -> None:
        if count > LISTED_CHANGES:
            table.add_row("", "", f"… {count - LISTED_CHANGES} more to {action}", "", "")

    for key in plan.creates[:LISTED_CHANGES]:
        fields = [
            f"{field} {_shown(field, key.fields[field])}"
            for field in FLEET_FIELDS
            if field in key.fields and not (field == "disabled" and not key.fields[field])
        ]
        table.add_row("+", "create", key.name, "(new)", ", ".join(fields) or "—")
    more(len(plan.creates), "create")
    for update in plan.updates[:LISTED_CHANGES]:
        lines = [
            f"{c.field}: {_shown(c.field, c.old)} → {_shown(c.field, c.new)}"
            for c in update.changes
        ]
        table.add_row("~", "update", update.key.name, prefixes[update.key.hash], "\n".join(lines))
    more(len(plan.updates), "update")
    for action, prunes in (("disable", plan.disables), ("delete", plan.deletes)):
        for prune in prunes[:LISTED_CHANGES]:
            why = "not in the file"
            table.add_row(_SYMBOLS[action], action, prune.key.name, prefixes[prune.key.hash], why)
        more(len(prunes), action)
    return table


def show_plan(plan: Plan, file: Path) -> None:
    """Print the plan for people: warnings, the table (when there are changes), the summary."""
    out = console()
    for warning in plan.warnings:
        out.print(f"Warning: {warning}", soft_wrap=True)
    if not plan.empty:
        out.print(plan_table(plan, title=f"Changes to make the account match {file}"))
    out.print(plan.summary(), soft_wrap=True)


@click.command("plan", cls=PruneCommand)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@prune_option
@common_options
def plan(file: Path, prune: str | None) -> None:
    """Show what `apply FILE` would change; change nothing.

    FILE (.yaml, .csv or .jsonl) lists one key per entry, identified by its name within
    its workspace, with the fields of create()/update() plus disabled and external_user.
    The plan lists the keys to create, to update (field by field), to disable or delete
    (only with --prune) and how many are unchanged. Exit status 0; 2 for a bad FILE or a
    name that matches several keys (nothing is sent).
    """
    desired = read_file(file)
    pending = load_pending(file)

    async def work(mg: AsyncModelGates) -> Plan:
        return await build_plan(mg, desired, prune)

    result = run(work)
    if settings().json:
        data = result.to_json()
        data["pending_creates"] = 0 if pending is None else len(pending.specs)
        print_json(data)
        return
    show_plan(result, file)
    if pending is not None:
        console().print(
            f"An interrupted apply of {file} left {len(pending.specs)} create(s) pending; "
            f"`modelgates apply {file}` finishes them first.",
            soft_wrap=True,
        )
